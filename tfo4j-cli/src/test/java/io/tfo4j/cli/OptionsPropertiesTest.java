package io.tfo4j.cli;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import picocli.CommandLine;
import picocli.CommandLine.TypeConversionException;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Properties of the command line: times read by {@link MillisConverter}, and random values for the options
 * of {@code serve}, {@code get}, {@code nc} and {@code demo} on paths that fail before anything listens or
 * connects (a missing DIR, an ftp:// URL, a bad port, {@code --help}): the command exits 2 with one usage
 * line naming the bad option or argument, or 0 for help, and never prints a stack trace.
 */
class OptionsPropertiesTest {
    private static final Pattern INVALID = Pattern.compile("^Invalid value for option '([^']+)'");
    private static final Set<String> SERVE_INTS = Set.of("--port", "--fastopen", "--max-header-size", "--idle-timeout");

    private record Result(int exitCode, String out, String err) {
        String firstErrLine() {
            return err.lines().findFirst().orElse("");
        }
    }

    private static Result execute(List<String> args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine commandLine = Main.commandLine();
        commandLine.setOut(new PrintWriter(out));
        commandLine.setErr(new PrintWriter(err));
        int exitCode = commandLine.execute(args.toArray(String[]::new));
        return new Result(exitCode, out.toString(), err.toString());
    }

    private static void assertNoStackTrace(Result result, List<String> args) {
        assertFalse(result.err().contains("\tat ") || result.err().contains("Exception"),
                () -> args + " printed a stack trace:\n" + result.err());
    }

    // --- times: 50ms, 0.15s, 50 ---

    @Property(tries = 2000)
    void timesInEveryFormRoundTrip(@ForAll @IntRange(min = 0, max = 60_000_000) int micros) {
        Duration expected = Duration.ofNanos(micros * 1000L);
        String millis = new java.math.BigDecimal(micros).movePointLeft(3).stripTrailingZeros().toPlainString();
        String seconds = new java.math.BigDecimal(micros).movePointLeft(6).stripTrailingZeros().toPlainString();
        MillisConverter converter = new MillisConverter();
        assertEquals(expected, converter.convert(millis + "ms"));
        assertEquals(expected, converter.convert(millis));
        assertEquals(expected, converter.convert(" " + seconds.toUpperCase(Locale.ROOT) + "S "));
        assertEquals(expected, converter.convert(seconds + "s"));
    }

    @Provide
    Arbitrary<String> timeText() {
        Arbitrary<String> near = Arbitraries.strings().withChars("0123456789.-+eEmsMS xNaIfity_,").ofMaxLength(14);
        Arbitrary<String> numbers = net.jqwik.api.Combinators.combine(Arbitraries.doubles().between(-1e6, 1e6),
                Arbitraries.of("", "ms", "s")).as((amount, unit) -> amount + unit);
        return Arbitraries.oneOf(near, numbers, Arbitraries.strings().ofMaxLength(20),
                Arbitraries.of("NaN", "Infinity", "-0", "1e400", "60s", "60.000000001s", "60000ms", "60001", "1e-400"));
    }

    /** Any text: a time from 0 to 60 s, or a TypeConversionException naming the text and what a time looks like. */
    @Property(tries = 3000)
    void anyTextIsATimeFrom0To60sOrRefusedNamingIt(@ForAll("timeText") String text) {
        try {
            Duration time = new MillisConverter().convert(text);
            assertFalse(time.isNegative(), text);
            assertTrue(time.compareTo(Duration.ofSeconds(60)) <= 0, text + " -> " + time);
        } catch (TypeConversionException e) {
            assertTrue(e.getMessage().startsWith("'" + text + "' is not a time"), e.getMessage());
        }
    }

    // --- option values on dry paths ---

    /**
     * Values a user might type: numbers in and out of range, signs, white space, words, empty, junk. Not
     * {@code --}: picocli reads {@code --opt=--} as the end-of-options marker, a usage error that names the
     * arguments after it rather than the option (picocli's parsing, before any tfo4j code runs).
     */
    @Provide
    Arbitrary<String> optionValue() {
        return Arbitraries.oneOf(
                Arbitraries.integers().between(-5, 70_000).map(String::valueOf),
                Arbitraries.longs().map(String::valueOf),
                Arbitraries.of("", " ", "0", "-1", "+8", "1 2", "2147483648", "99999999999999999999", "1.5", "1e3",
                        "wait", "reject", "allow", "WAIT", "maybe", "50ms", "\u0663", "-", "=", "\t", "-x"),
                Arbitraries.strings().withChars("abcXYZ -_.:/%\u00e9\u0000\t12345").ofMaxLength(12));
    }

    private static boolean isDecimalInt(String value) {
        try {
            Integer.parseInt(value);
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static boolean isDecimalLong(String value) {
        try {
            Long.parseLong(value);
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    @Provide
    Arbitrary<Map<String, String>> serveOptions() {
        return Arbitraries.maps(Arbitraries.of("--port", "--fastopen", "--max-header-size", "--max-body-size",
                "--idle-timeout", "--early-data", "--bind", "--access-log"), optionValue()).ofMaxSize(5).map(TreeMap::new);
    }

    /** serve with a DIR that is not there: exit 2 naming the first bad option, the policy or the DIR; nothing listens. */
    @Property(tries = 100)
    void serveNamesTheBadOptionOrTheDir(@ForAll("serveOptions") Map<String, String> options) {
        List<String> args = new ArrayList<>(List.of("serve"));
        options.forEach((name, value) -> args.add(name + "=" + value));
        args.add("/nonexistent/tfo4j-fuzz");
        Result result = execute(args);
        assertNoStackTrace(result, args);
        assertEquals(2, result.exitCode(), () -> args + ": " + result.err());
        String line = result.firstErrLine();
        Matcher invalid = INVALID.matcher(line);
        boolean anyBadNumber = options.entrySet().stream().anyMatch(option ->
                SERVE_INTS.contains(option.getKey()) && !isDecimalInt(option.getValue())
                        || option.getKey().equals("--max-body-size") && !isDecimalLong(option.getValue()));
        if (invalid.find()) {
            String option = invalid.group(1);
            assertTrue(options.containsKey(option), () -> args + ": " + line);
            String value = options.get(option);
            assertFalse(option.equals("--max-body-size") ? isDecimalLong(value) : isDecimalInt(value),
                    () -> args + ": refused a number: " + line);
            assertTrue(line.contains("'" + value + "'"), () -> "names the value: " + line);
        } else {
            assertFalse(anyBadNumber, () -> args + ": took a bad number: " + line);
            String policy = options.getOrDefault("--early-data", "wait");
            boolean policyKnown = Set.of("wait", "reject", "allow").contains(policy.toLowerCase(Locale.ROOT).strip());
            assertTrue(policyKnown ? line.startsWith("DIR is not a directory: /nonexistent/tfo4j-fuzz")
                    : line.contains("--early-data must be wait, reject or allow, got '" + policy + "'"),
                    () -> args + ": " + result.err());
        }
    }

    @Provide
    Arbitrary<Map<String, String>> getOptions() {
        return Arbitraries.maps(Arbitraries.of("--count", "--method", "--data"), optionValue()).ofMaxSize(3)
                .map(TreeMap::new);
    }

    /** get with an ftp:// URL: exit 2 naming --count or the URL; nothing connects. */
    @Property(tries = 100)
    void getNamesTheBadCountOrTheUrl(@ForAll("getOptions") Map<String, String> options, @ForAll boolean noFastOpen) {
        List<String> args = new ArrayList<>(List.of("get"));
        options.forEach((name, value) -> args.add(name + "=" + value));
        if (noFastOpen) {
            args.add("--no-fastopen");
        }
        args.add("ftp://tfo4j.invalid/");
        Result result = execute(args);
        assertNoStackTrace(result, args);
        assertEquals(2, result.exitCode(), () -> args + ": " + result.err());
        String line = result.firstErrLine();
        if (options.containsKey("--count") && !isDecimalInt(options.get("--count"))) {
            assertTrue(line.startsWith("Invalid value for option '--count': '" + options.get("--count") + "'"),
                    () -> args + ": " + line);
        } else {
            assertEquals("not an http:// or https:// URL: ftp://tfo4j.invalid/", line, () -> args.toString());
        }
    }

    @Provide
    Arbitrary<Map<String, String>> ncOptions() {
        return Arbitraries.maps(Arbitraries.of("--timeout", "--count", "--fastopen", "-b"), optionValue()).ofMaxSize(3)
                .map(TreeMap::new);
    }

    /** nc HOST PORT with a PORT that is not one: exit 2 naming the bad option, the listen-only options or the port. */
    @Property(tries = 100)
    void ncNamesTheBadOptionOrThePort(@ForAll("ncOptions") Map<String, String> options, @ForAll("optionValue") String port) {
        List<String> args = new ArrayList<>(List.of("nc"));
        options.forEach((name, value) -> args.add(name + "=" + value));
        String badPort = "x" + port;
        args.addAll(List.of("127.0.0.1", badPort));
        Result result = execute(args);
        assertNoStackTrace(result, args);
        assertEquals(2, result.exitCode(), () -> args + ": " + result.err());
        String line = result.firstErrLine();
        Matcher invalid = INVALID.matcher(line);
        boolean anyBadNumber = options.entrySet().stream()
                .anyMatch(option -> !option.getKey().equals("-b") && !isDecimalInt(option.getValue()));
        if (invalid.find()) {
            assertTrue(options.containsKey(invalid.group(1)), () -> args + ": " + line);
            assertFalse(isDecimalInt(options.get(invalid.group(1))), () -> args + ": refused a number: " + line);
        } else {
            assertFalse(anyBadNumber, () -> args + ": took a bad number: " + line);
            assertEquals(options.containsKey("--count") || options.containsKey("--fastopen")
                            ? "--fastopen, --reply and --count need -l" : "not a port number (0-65535): " + badPort,
                    line, () -> args.toString());
        }
    }

    /** demo --rtt=V --help: help (exit 0) when V is a time, else exit 2 naming --rtt and V; the demo never runs. */
    @Property(tries = 100)
    void demoRttIsATimeOrNamed(@ForAll("timeText") String rtt) {
        List<String> args = List.of("demo", "--rtt=" + rtt, "--help");
        Result result = execute(args);
        assertNoStackTrace(result, args);
        boolean isTime;
        try {
            new MillisConverter().convert(rtt);
            isTime = true;
        } catch (TypeConversionException e) {
            isTime = false;
        }
        if (isTime) {
            assertEquals(0, result.exitCode(), result::err);
            assertTrue(result.out().contains("Usage: tfo4j demo"), result::out);
        } else {
            assertEquals(2, result.exitCode());
            assertTrue(result.firstErrLine().startsWith("Invalid value for option '--rtt': '" + rtt + "' is not a time"),
                    result::err);
        }
    }
}
