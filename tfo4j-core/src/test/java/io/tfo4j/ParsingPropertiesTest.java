package io.tfo4j;

import io.tfo4j.FastOpenSupport.SysctlBit;
import io.tfo4j.FastOpenSupport.TcpOption;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Properties of what tfo4j-core reads from the kernel: the text of an integer sysctl file, the
 * {@code net.ipv4.tcp_fastopen} bits and the verdicts made from them, the {@code TcpExt} lines of {@code /proc/net/netstat}, and {@code struct tcp_info}
 * bytes. Each holds for every generated input, not only the kernel's own.
 */
class ParsingPropertiesTest {
    private static final int KNOWN_BITS = EnumSet.allOf(SysctlBit.class).stream().mapToInt(SysctlBit::mask)
            .reduce(0, (a, b) -> a | b);
    private static final List<String> COUNTER_NAMES = List.of("TCPFastOpenActive", "TCPFastOpenActiveFail",
            "TCPFastOpenPassive", "TCPFastOpenPassiveFail", "TCPFastOpenListenOverflow", "TCPFastOpenCookieReqd",
            "TCPFastOpenBlackhole", "TCPFastOpenPassiveAltKey");
    private static final HostFacts CAPABLE_HOST = new HostFacts("Linux", "6.8.0", EnumSet.allOf(TcpOption.class), null);

    // --- net.ipv4.tcp_fastopen ---

    @Property(tries = 2000)
    void sysctlBitsDecodeExactlyTheKnownBitsSet(@ForAll int value) {
        Set<SysctlBit> bits = SysctlBit.decode(value);
        int encoded = bits.stream().mapToInt(SysctlBit::mask).reduce(0, (a, b) -> a | b);
        assertEquals(value & KNOWN_BITS, encoded, "decode then OR the masks gives the known bits back");
        for (SysctlBit bit : SysctlBit.values()) {
            assertEquals((value & bit.mask()) != 0, bits.contains(bit), bit::name);
        }
    }

    /**
     * On a host that knows every option, a side is on exactly when its bit is set; when off, the reason names
     * the value read and the remedy names a value that adds what is missing and keeps every bit already set.
     */
    @Property(tries = 2000)
    void verdictFollowsTheSideBitAndTheRemedyKeepsTheOtherBits(@ForAll @IntRange(min = 0, max = 0xffff) int sysctl) {
        for (Verdicts.Side side : Verdicts.Side.values()) {
            FastOpenStatus status = Verdicts.of(side, CAPABLE_HOST, sysctl, false);
            assertEquals((sysctl & side.bit.mask()) != 0, status.active(), side + " at " + sysctl);
            if (!status.active()) {
                assertTrue(status.reason().contains("net.ipv4.tcp_fastopen=" + sysctl), status.reason());
                Matcher wanted = Pattern.compile("sysctl -w net.ipv4.tcp_fastopen=(\\d+)").matcher(status.remedy());
                assertTrue(wanted.find(), status.remedy());
                int value = Integer.parseInt(wanted.group(1));
                assertEquals(sysctl, value & sysctl, "keeps the bits already set: " + status.remedy());
                assertTrue(Verdicts.of(side, CAPABLE_HOST, value, false).active(), "the remedy's value turns it on");
            }
            assertFalse(Verdicts.of(side, CAPABLE_HOST, sysctl, true).active(), "the property always wins");
        }
    }

    /** The reader of an integer sysctl file; private, as the sysctl files are only ever read by path. */
    private static Integer readSysctlFile(String text) throws Exception {
        java.lang.reflect.Method readInt = NamespaceSysctls.class.getDeclaredMethod("readInt", String.class);
        readInt.setAccessible(true);
        Path file = Files.createTempFile("tfo4j-sysctl", ".txt");
        try {
            Files.writeString(file, text, StandardCharsets.ISO_8859_1);
            return (Integer) readInt.invoke(null, file.toString());
        } finally {
            Files.delete(file);
        }
    }

    /** The sysctl's text as /proc/sys prints it ("1027\n") reads back as the value, for any int. */
    @Property(tries = 300)
    void sysctlTextReadsAsItsValue(@ForAll int value, @ForAll("sysctlSpace") String before,
                                   @ForAll("sysctlSpace") String after) throws Exception {
        assertEquals(value, readSysctlFile(before + value + after + "\n"));
    }

    @Provide
    Arbitrary<String> sysctlSpace() {
        return Arbitraries.strings().withChars(" \t").ofMaxLength(3);
    }

    /** Any other text (what an odd /proc or a missing file gives) reads as "unknown" (null), never an exception. */
    @Property(tries = 300)
    void anySysctlTextIsAnIntegerOrUnknown(@ForAll("sysctlText") String text) throws Exception {
        Integer read = readSysctlFile(text);
        String first = new String(text.getBytes(StandardCharsets.ISO_8859_1), 0, Math.min(32, text.length()),
                StandardCharsets.US_ASCII).trim();
        Integer expected;
        try {
            expected = Integer.parseInt(first);
        } catch (NumberFormatException e) {
            expected = null;
        }
        assertEquals(expected, read, () -> "for \"" + text + "\"");
    }

    @Provide
    Arbitrary<String> sysctlText() {
        return Arbitraries.oneOf(Arbitraries.strings().withChars("0123456789-+ \t\nx\u00e9").ofMaxLength(40),
                Arbitraries.strings().withCharRange('\u0000', '\u00ff').ofMaxLength(40));
    }

    // --- /proc/net/netstat ---

    @Provide
    Arbitrary<Map<String, Long>> tcpExt() {
        Arbitrary<String> otherNames = Arbitraries.strings().alpha().numeric().ofMaxLength(20).map(name -> "Tcp" + name);
        Arbitrary<Long> values = Arbitraries.longs().between(0, Long.MAX_VALUE);
        Arbitrary<Map<String, Long>> counters = Arbitraries.maps(Arbitraries.of(COUNTER_NAMES), values).ofMaxSize(8);
        Arbitrary<Map<String, Long>> others = Arbitraries.maps(otherNames, values).ofMaxSize(30);
        return net.jqwik.api.Combinators.combine(counters, others, Arbitraries.longs())
                .as((fastOpen, rest, seed) -> {
                    List<Map.Entry<String, Long>> entries = new ArrayList<>(rest.entrySet());
                    entries.addAll(fastOpen.entrySet());
                    Collections.shuffle(entries, new Random(seed));
                    Map<String, Long> ordered = new LinkedHashMap<>();
                    entries.forEach(entry -> ordered.put(entry.getKey(), entry.getValue()));
                    return ordered;
                });
    }

    private static List<String> netstat(Map<String, Long> tcpExt, String separator) {
        StringBuilder names = new StringBuilder("TcpExt:");
        StringBuilder values = new StringBuilder("TcpExt:");
        tcpExt.forEach((name, value) -> {
            names.append(separator).append(name);
            values.append(separator).append(value);
        });
        return List.of("IpExt: InNoRoutes InTruncatedPkts", "IpExt: 0 0", names.toString(), values.toString(), "IpExt: InNoRoutes", "IpExt: 0", "MPTcpExt: MPCapableSYNRX",
                "MPTcpExt: 0");
    }

    /** Counters come back whatever the order and number of other TcpExt columns; a missing one reads as 0. */
    @Property(tries = 1000)
    void countersRoundTripThroughNetstatText(@ForAll("tcpExt") Map<String, Long> tcpExt,
                                             @ForAll("separators") String separator) {
        FastOpenCounters counters = FastOpenCounters.parse(netstat(tcpExt, separator));
        long[] read = {counters.active(), counters.activeFail(), counters.passive(), counters.passiveFail(),
                counters.listenOverflow(), counters.cookieReqd(), counters.blackhole(), counters.passiveAltKey()};
        for (int i = 0; i < COUNTER_NAMES.size(); i++) {
            assertEquals(tcpExt.getOrDefault(COUNTER_NAMES.get(i), 0L), read[i], COUNTER_NAMES.get(i));
        }
        assertEquals(new FastOpenCounters(0, 0, 0, 0, 0, 0, 0, 0), counters.minus(counters));
    }

    @Provide
    Arbitrary<String> separators() {
        return Arbitraries.of(" ", "  ", "\t", " \t ");
    }

    @Property(tries = 1000)
    void minusIsFieldByFieldSubtraction(@ForAll @LongRange(min = 0, max = 1L << 40) long a,
                                        @ForAll @LongRange(min = 0, max = 1L << 40) long b) {
        FastOpenCounters later = new FastOpenCounters(a, a + 1, a + 2, a + 3, a + 4, a + 5, a + 6, a + 7);
        FastOpenCounters earlier = new FastOpenCounters(b, b, b, b, b, b, b, b);
        long d = a - b;
        assertEquals(new FastOpenCounters(d, d + 1, d + 2, d + 3, d + 4, d + 5, d + 6, d + 7), later.minus(earlier));
    }

    @Provide
    Arbitrary<List<String>> netstatLikeLines() {
        Arbitrary<String> token = Arbitraries.oneOf(Arbitraries.of(COUNTER_NAMES), Arbitraries.strings().numeric()
                .ofMaxLength(22), Arbitraries.strings().withChars("0123456789-+xTcpExt:\u0663 ").ofMaxLength(8));
        Arbitrary<String> line = Arbitraries.oneOf(
                token.list().ofMaxSize(12).map(tokens -> "TcpExt: " + String.join(" ", tokens)),
                Arbitraries.strings().ofMaxLength(60));
        return line.list().ofMaxSize(6);
    }

    /**
     * Any text: either counters (never negative when the numbers are not), or a NumberFormatException naming
     * the column that is not a number (the kernel writes only decimal numbers there).
     */
    @Property(tries = 1500)
    void arbitraryNetstatTextGivesCountersOrNamesTheBadNumber(@ForAll("netstatLikeLines") List<String> lines) {
        try {
            FastOpenCounters.parse(lines);
        } catch (NumberFormatException e) {
            assertTrue(e.getMessage().contains("\""), e.getMessage());
            String bad = e.getMessage().substring(e.getMessage().indexOf('"') + 1, e.getMessage().lastIndexOf('"'));
            assertTrue(String.join("\n", lines).contains(bad), () -> e.getMessage() + " in " + lines);
        }
    }

    // --- struct tcp_info ---

    /** The fields tfo4j reads come back from where the kernel puts them, whatever the other bytes hold. */
    @Property(tries = 1000)
    void tcpInfoFieldsRoundTrip(@ForAll @IntRange(min = 0, max = 255) int state,
                                @ForAll @IntRange(min = 0, max = 255) int options,
                                @ForAll @IntRange(min = 0, max = 255) int byte7,
                                @ForAll int rtt, @ForAll int mss, @ForAll int retrans,
                                @ForAll @Size(value = 104) byte[] noise) {
        ByteBuffer raw = ByteBuffer.wrap(noise.clone()).order(ByteOrder.LITTLE_ENDIAN);
        raw.put(0, (byte) state).put(5, (byte) options).put(7, (byte) byte7);
        raw.putInt(16, mss).putInt(68, rtt).putInt(100, retrans);
        TcpInfo info = TcpInfo.parse(raw.array());
        TcpState expected = state >= 1 && state <= 12 ? TcpState.values()[state - 1] : TcpState.UNKNOWN;
        assertEquals(expected, info.state());
        assertEquals(options, info.options());
        assertEquals((byte7 >> 1) & 3, info.fastOpenClientFail());
        assertEquals(rtt, info.rttMicros());
        assertEquals(mss, info.sndMss());
        assertEquals(retrans, info.totalRetrans());
        assertEquals((options & 0x20) != 0, info.synData());
        assertEquals((options & 0x80) != 0, info.fastOpenChild());
    }

    /** Any length (an older kernel's shorter struct): a field beyond the end reads 0; under 8 bytes is refused. */
    @Property(tries = 2000)
    void tcpInfoOfAnyLengthParsesOrIsRefusedNamingTheLength(@ForAll @Size(max = 240) byte[] raw) {
        try {
            TcpInfo info = TcpInfo.parse(raw);
            assertTrue(raw.length >= 8, "parsed " + raw.length + " bytes");
            if (raw.length < 72) {
                assertEquals(0, info.rttMicros());
            }
            if (raw.length < 104) {
                assertEquals(0, info.totalRetrans());
            }
            assertTrue(info.fastOpenClientFail() >= 0 && info.fastOpenClientFail() <= 3);
        } catch (IllegalArgumentException e) {
            assertTrue(raw.length < 8, e::getMessage);
            assertTrue(e.getMessage().contains(raw.length + " bytes"), e.getMessage());
        }
    }
}
