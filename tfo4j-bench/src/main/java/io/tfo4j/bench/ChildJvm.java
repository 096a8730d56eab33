package io.tfo4j.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tfo4j.lab.JvmLauncher;
import io.tfo4j.lab.NetNamespace;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Runs {@code tfo4j} as a child process, as the {@code ./tfo4j} launcher would: {@code tfo4j bench} and
 * {@code tfo4j peer} are this module ({@link BenchMain} on this JVM's class path), every other command the
 * user CLI ({@value #CLI_MAIN} on the class path in the system property {@value #CLI_CLASSPATH}, which the
 * launcher sets). The same JDK and JVM flags as this process. The benchmarks measure clients this way, as a
 * user would run them.
 */
final class ChildJvm {
    /** The system property with the user CLI's class path, e.g. {@code tfo4j-cli/target/tfo4j-cli.jar:tfo4j-cli/target/lib/*}. */
    static final String CLI_CLASSPATH = "tfo4j.cliClasspath";
    static final String CLI_MAIN = "io.tfo4j.cli.Main";
    private static final Set<String> BENCH_COMMANDS = Set.of("bench", "peer");
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private ChildJvm() {
    }

    /** The command line that runs {@code tfo4j args...} in a new JVM. */
    static List<String> command(String... args) {
        return command(List.of(), args);
    }

    /**
     * The command line that runs {@code tfo4j args...} in a new JVM with more JVM options (e.g. -javaagent).
     *
     * @throws IllegalStateException when {@code args} is a command of the user CLI and {@value #CLI_CLASSPATH}
     *                               is not set
     */
    static List<String> command(List<String> jvmOptions, String... args) {
        boolean bench = args.length > 0 && BENCH_COMMANDS.contains(args[0]);
        return JvmLauncher.command(jvmOptions, bench ? System.getProperty("java.class.path") : cliClasspath(args[0]),
                bench ? BenchMain.class.getName() : CLI_MAIN, List.of(args));
    }

    private static String cliClasspath(String command) {
        String classPath = System.getProperty(CLI_CLASSPATH, "");
        if (classPath.isBlank()) {
            throw new IllegalStateException("cannot run `tfo4j " + command + "`: the user CLI's class path is not known;"
                    + " run the benchmarks through the launcher (./tfo4j bench ...), or pass -D" + CLI_CLASSPATH
                    + "='tfo4j-cli/target/tfo4j-cli.jar:tfo4j-cli/target/lib/*' after building tfo4j-cli");
        }
        return classPath;
    }

    /** This JVM's java launcher (a JDK 25). */
    static String java() {
        return JvmLauncher.java();
    }

    /**
     * Runs {@code tfo4j args...} in {@code namespace} to the end (at most {@code timeoutSeconds}) and returns
     * the JSON lines it wrote to stdout.
     *
     * @throws IOException when it fails, times out or writes no JSON; the message holds its stderr
     */
    static List<JsonNode> jsonLines(NetNamespace namespace, int timeoutSeconds, String... args) throws IOException {
        return jsonLines(namespace, timeoutSeconds, command(args));
    }

    /** Like {@link #jsonLines(NetNamespace, int, String...)}, for a whole command line (e.g. under taskset). */
    static List<JsonNode> jsonLines(NetNamespace namespace, int timeoutSeconds, List<String> command) throws IOException {
        return jsonLines(namespace.command(command.toArray(String[]::new)), command, timeoutSeconds);
    }

    /** Like {@link #jsonLines(NetNamespace, int, List)}, in this JVM's own network namespace. */
    static List<JsonNode> jsonLines(List<String> command, int timeoutSeconds) throws IOException {
        return jsonLines(new ProcessBuilder(command), command, timeoutSeconds);
    }

    private static List<JsonNode> jsonLines(ProcessBuilder builder, List<String> command, int timeoutSeconds)
            throws IOException {
        int main = Math.max(command.indexOf(BenchMain.class.getName()), command.indexOf(CLI_MAIN));
        String what = "tfo4j " + String.join(" ", main < 0 ? command : command.subList(main + 1, command.size()));
        List<JsonNode> lines = new ArrayList<>();
        for (String line : JvmLauncher.jsonLines(builder, what, timeoutSeconds)) {
            lines.add(MAPPER.readTree(line));
        }
        return lines;
    }
}
