package io.tfo4j.lab;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Properties of {@link Packets} over generated IPv4 TCP packets with valid checksums (any IP options, any
 * TCP options including Fast Open in both kinds, any flags and payload, trailing link padding): rewritten
 * copies keep valid IP and TCP checksums and change only what they say; and for arbitrary bytes (random, or
 * a valid packet with a byte flipped or cut short) nothing throws except the documented
 * {@link IllegalArgumentException} of {@code sourcePort}/{@code withSourcePort}.
 */
class PacketsPropertiesTest {

    /** A generated packet and what the generator knows about it. */
    record Generated(byte[] bytes, int total, int ipHeader, int tcpHeader, int flags, List<int[]> fastOpenOptions) {
        int payload() {
            return total - ipHeader - tcpHeader;
        }

        ByteBuffer buffer() {
            return ByteBuffer.wrap(bytes);
        }
    }

    /** One TCP option's bytes; kind 34 (RFC 7413) or 254 with magic F989 (the experimental form) is Fast Open. */
    @Provide
    Arbitrary<byte[]> tcpOption() {
        Arbitrary<byte[]> cookie = Arbitraries.bytes().array(byte[].class).ofMinSize(0).ofMaxSize(16);
        return Arbitraries.oneOf(
                Arbitraries.just(new byte[]{1}),                                                     // NOP
                Arbitraries.integers().between(0, 65535).map(mss -> new byte[]{2, 4, (byte) (mss >> 8), (byte) (mss & 0xff)}),
                Arbitraries.integers().between(0, 14).map(shift -> new byte[]{3, 3, (byte) (int) shift}),
                Arbitraries.just(new byte[]{4, 2}),                                                  // SACK permitted
                Arbitraries.bytes().array(byte[].class).ofSize(8).map(ts -> concat(new byte[]{8, 10}, ts)),
                cookie.map(c -> concat(new byte[]{34, (byte) (2 + c.length)}, c)),
                cookie.map(c -> concat(new byte[]{(byte) 254, (byte) (4 + c.length), (byte) 0xf9, (byte) 0x89}, c)),
                cookie.map(c -> concat(new byte[]{(byte) 254, (byte) (4 + c.length), 0x12, 0x34}, c)), // not Fast Open
                Arbitraries.integers().between(5, 33).flatMap(kind -> Arbitraries.bytes().array(byte[].class)
                        .ofMaxSize(6).map(data -> concat(new byte[]{(byte) (int) kind, (byte) (2 + data.length)}, data))));
    }

    @Provide
    Arbitrary<Generated> packets() {
        return tcpOption().list().ofMaxSize(6)
                .flatMap(options -> {
                    return net.jqwik.api.Combinators.combine(
                            Arbitraries.integers().between(0, 10).map(words -> words * 4),          // IP options
                            Arbitraries.integers().between(0, 255),                                 // TCP flags
                            Arbitraries.bytes().array(byte[].class).ofMaxSize(300),                 // payload
                            Arbitraries.bytes().array(byte[].class).ofSize(60),                     // other fields
                            Arbitraries.integers().between(0, 3),                                   // options end
                            Arbitraries.bytes().array(byte[].class).ofMaxSize(20)                   // link padding
                    ).as((ipOptions, flags, payload, noise, end, padding) ->
                            build(options, ipOptions, flags, payload, noise, end, padding));
                })
                .filter(packet -> packet != null);
    }

    /**
     * Builds a packet: options end with EOL + zero padding, or NOP padding, or (end == 2) an EOL followed by
     * more bytes; returns null when the options do not fit in 40 bytes.
     */
    private static Generated build(List<byte[]> options, int ipOptions, int flags, byte[] payload, byte[] noise,
                                   int end, byte[] padding) {
        ByteArrayOutputStream optionBytes = new ByteArrayOutputStream();
        List<int[]> fastOpen = new ArrayList<>();
        boolean ended = false;
        for (byte[] option : options) {
            if (!ended && isFastOpen(option)) {
                fastOpen.add(new int[]{optionBytes.size(), option.length});
            }
            optionBytes.writeBytes(option);
            if (end == 2 && !ended && option == options.get(0)) {
                optionBytes.write(0); // EOL: what follows is not parsed as options
                ended = true;
            }
        }
        while (optionBytes.size() % 4 != 0) {
            optionBytes.write(end == 1 ? 1 : 0);
        }
        if (optionBytes.size() > 40) {
            return null;
        }
        int ipHeader = 20 + ipOptions;
        int tcpHeader = 20 + optionBytes.size();
        int total = ipHeader + tcpHeader + payload.length;
        byte[] packet = new byte[total + padding.length];
        ByteBuffer out = ByteBuffer.wrap(packet);
        packet[0] = (byte) (0x40 | ipHeader / 4);
        packet[1] = noise[0];
        out.putShort(2, (short) total);
        System.arraycopy(noise, 1, packet, 4, 5);   // id, fragment, ttl
        packet[9] = 6;
        System.arraycopy(noise, 6, packet, 12, 8);  // addresses
        System.arraycopy(noise, 14, packet, 20, ipOptions);
        out.putShort(10, (short) ipChecksum(packet, ipHeader));
        System.arraycopy(noise, 20, packet, ipHeader, 12); // ports, seq, ack
        packet[ipHeader + 12] = (byte) ((tcpHeader / 4) << 4);
        packet[ipHeader + 13] = (byte) flags;
        System.arraycopy(noise, 32, packet, ipHeader + 14, 2); // window
        System.arraycopy(noise, 34, packet, ipHeader + 18, 2); // urgent pointer
        System.arraycopy(optionBytes.toByteArray(), 0, packet, ipHeader + 20, optionBytes.size());
        System.arraycopy(payload, 0, packet, ipHeader + tcpHeader, payload.length);
        out.putShort(ipHeader + 16, (short) 0);
        out.putShort(ipHeader + 16, (short) (~onesComplementSum(packet, ipHeader, total) & 0xffff));
        System.arraycopy(padding, 0, packet, total, padding.length);
        List<int[]> located = fastOpen.stream().map(at -> new int[]{ipHeader + 20 + at[0], at[1]}).toList();
        Generated generated = new Generated(packet, total, ipHeader, tcpHeader, flags, located);
        assertTrue(tcpChecksumValid(Arrays.copyOf(packet, total)), "the generator's own checksum");
        return generated;
    }

    private static boolean isFastOpen(byte[] option) {
        return (option[0] & 0xff) == 34 || (option[0] & 0xff) == 254 && option.length >= 4
                && (option[2] & 0xff) == 0xf9 && (option[3] & 0xff) == 0x89;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }

    private static int ipChecksum(byte[] packet, int ipHeader) {
        long sum = 0;
        for (int i = 0; i < ipHeader; i += 2) {
            sum += i == 10 ? 0 : ((packet[i] & 0xff) << 8) | (packet[i + 1] & 0xff);
        }
        return (int) (~fold(sum) & 0xffff);
    }

    private static boolean ipChecksumValid(byte[] packet) {
        int ipHeader = (packet[0] & 0x0f) * 4;
        long sum = 0;
        for (int i = 0; i < ipHeader; i += 2) {
            sum += ((packet[i] & 0xff) << 8) | (packet[i + 1] & 0xff);
        }
        return fold(sum) == 0xffff;
    }

    /** The TCP pseudo-header sum plus the segment, checksum field included as it is. */
    private static long onesComplementSum(byte[] packet, int ipHeader, int total) {
        long sum = 6 + (total - ipHeader);
        for (int i = 12; i < 20; i += 2) {
            sum += ((packet[i] & 0xff) << 8) | (packet[i + 1] & 0xff);
        }
        for (int i = ipHeader; i < total; i += 2) {
            sum += ((packet[i] & 0xff) << 8) | (i + 1 < total ? packet[i + 1] & 0xff : 0);
        }
        return fold(sum);
    }

    private static long fold(long sum) {
        while ((sum >> 16) != 0) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        return sum;
    }

    /** What a receiving kernel checks: the one's complement sum over pseudo header and segment is all ones. */
    static boolean tcpChecksumValid(byte[] packet) {
        int ipHeader = (packet[0] & 0x0f) * 4;
        int total = ((packet[2] & 0xff) << 8) | (packet[3] & 0xff);
        return packet.length == total && onesComplementSum(packet, ipHeader, total) == 0xffff;
    }

    @Property(tries = 1000, edgeCases = EdgeCasesMode.FIRST)
    void synWithDataIsASynWithoutAckCarryingPayload(@ForAll("packets") Generated packet) {
        boolean expected = (packet.flags() & 0x02) != 0 && (packet.flags() & 0x10) == 0 && packet.payload() > 0;
        assertEquals(expected, Packets.isSynWithData(packet.buffer()));
    }

    @Property(tries = 1000, edgeCases = EdgeCasesMode.FIRST)
    void withSourcePortChangesThePortAndKeepsBothChecksumsValid(@ForAll("packets") Generated packet,
                                                               @ForAll @IntRange(min = 1, max = 65535) int port) {
        byte[] copy = Packets.withSourcePort(packet.buffer(), port);
        assertEquals(packet.total(), copy.length, "the copy is the IP packet, without link padding");
        assertEquals(port, Packets.sourcePort(ByteBuffer.wrap(copy)));
        assertTrue(ipChecksumValid(copy), "IP checksum");
        assertTrue(tcpChecksumValid(copy), "TCP checksum");
        for (int i = 0; i < copy.length; i++) {
            int inTcp = i - packet.ipHeader();
            if (inTcp != 0 && inTcp != 1 && inTcp != 16 && inTcp != 17) {
                assertEquals(packet.bytes()[i], copy[i], "byte " + i + " changed");
            }
        }
    }

    @Property(tries = 1000, edgeCases = EdgeCasesMode.FIRST)
    void withoutFastOpenOptionBlanksExactlyTheFastOpenOptions(@ForAll("packets") Generated packet) {
        byte[] copy = Packets.withoutFastOpenOption(packet.buffer());
        if (packet.fastOpenOptions().isEmpty()) {
            assertNull(copy, "nothing to strip");
            return;
        }
        assertNotNull(copy);
        assertEquals(packet.total(), copy.length);
        assertTrue(ipChecksumValid(copy), "IP checksum");
        assertTrue(tcpChecksumValid(copy), "TCP checksum");
        byte[] expected = Arrays.copyOf(packet.bytes(), packet.total());
        for (int[] option : packet.fastOpenOptions()) {
            Arrays.fill(expected, option[0], option[0] + option[1], (byte) 1);
        }
        expected[packet.ipHeader() + 16] = copy[packet.ipHeader() + 16];
        expected[packet.ipHeader() + 17] = copy[packet.ipHeader() + 17];
        assertArrayEquals(expected, copy, "only the Fast Open options became NOPs");
        assertNull(Packets.withoutFastOpenOption(ByteBuffer.wrap(copy)), "nothing left to strip");
        assertEquals(Packets.isSynWithData(packet.buffer()), Packets.isSynWithData(ByteBuffer.wrap(copy)));
    }

    @Provide
    Arbitrary<byte[]> damaged() {
        Arbitrary<byte[]> random = Arbitraries.bytes().array(byte[].class).ofMaxSize(120);
        Arbitrary<byte[]> ipv4Tcp = Arbitraries.bytes().array(byte[].class).ofMinSize(20).ofMaxSize(120)
                .map(bytes -> {
                    bytes[0] = (byte) (0x40 | (bytes[0] & 0x0f));
                    bytes[9] = 6;
                    return bytes;
                });
        Arbitrary<byte[]> flipped = net.jqwik.api.Combinators.combine(packets(), Arbitraries.integers().between(0, 59),
                        Arbitraries.integers().between(0, 255))
                .as((packet, at, value) -> {
                    byte[] bytes = packet.bytes().clone();
                    bytes[at % bytes.length] = (byte) (int) value;
                    return bytes;
                });
        Arbitrary<byte[]> cut = net.jqwik.api.Combinators.combine(packets(), Arbitraries.integers().between(0, 400))
                .as((packet, length) -> Arrays.copyOf(packet.bytes(), Math.min(length, packet.bytes().length)));
        return Arbitraries.oneOf(random, ipv4Tcp, flipped, cut);
    }

    /**
     * Whatever the bytes: isSynWithData answers, withoutFastOpenOption answers (null or a copy of the IP
     * packet's length), and sourcePort/withSourcePort answer or throw IllegalArgumentException saying the
     * bytes are not a whole IPv4 TCP packet. A delay line must never die on a packet it reads.
     */
    @Property(tries = 2000, edgeCases = EdgeCasesMode.NONE)
    void arbitraryBytesNeverThrowAnythingUndocumented(@ForAll("damaged") byte[] bytes,
                                                      @ForAll @IntRange(min = 1, max = 65535) int port) {
        ByteBuffer packet = ByteBuffer.wrap(bytes);
        boolean synWithData = Packets.isSynWithData(packet);
        byte[] stripped = Packets.withoutFastOpenOption(packet);
        if (stripped != null) {
            assertTrue(tcpChecksumValid(stripped), "the copy's TCP checksum is valid");
        }
        try {
            int sourcePort = Packets.sourcePort(packet);
            byte[] moved = Packets.withSourcePort(packet, port);
            assertEquals(port, Packets.sourcePort(ByteBuffer.wrap(moved)));
            assertTrue(sourcePort >= 0 && sourcePort <= 65535);
        } catch (IllegalArgumentException e) {
            assertEquals("not a whole IPv4 TCP packet", e.getMessage());
            assertTrue(!synWithData && stripped == null, "a packet refused here was not matched by the others");
        }
        assertEquals(0, packet.position(), "the packet's position is left alone");
    }

    /**
     * Found by the property above: a packet whose total-length field is below its headers' length (here 0)
     * made withoutFastOpenOption throw ArrayIndexOutOfBoundsException, and an IP header length over 40 bytes
     * made isSynWithData read past a 40-byte buffer.
     */
    @Example
    void headerLengthsBeyondTheTotalLengthAreNotPackets() {
        byte[] zeroTotal = new byte[40];
        zeroTotal[0] = 0x45;
        zeroTotal[9] = 6;
        assertNull(Packets.withoutFastOpenOption(ByteBuffer.wrap(zeroTotal)));
        byte[] longIpHeader = zeroTotal.clone();
        longIpHeader[0] = 0x4f;
        longIpHeader[3] = 40;
        assertEquals(false, Packets.isSynWithData(ByteBuffer.wrap(longIpHeader)));
        assertEquals("not a whole IPv4 TCP packet", org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> Packets.withSourcePort(ByteBuffer.wrap(zeroTotal), 80)).getMessage());
    }

    @Property(tries = 100)
    void withSourcePortRefusesPortsOutOfRange(@ForAll("packets") Generated packet,
                                              @ForAll @IntRange(min = -100000, max = 200000) int port) {
        try {
            Packets.withSourcePort(packet.buffer(), port);
            assertTrue(port >= 1 && port <= 65535);
        } catch (IllegalArgumentException e) {
            assertTrue(port < 1 || port > 65535);
            assertTrue(e.getMessage().contains(Integer.toString(port)), e.getMessage());
        }
    }
}
