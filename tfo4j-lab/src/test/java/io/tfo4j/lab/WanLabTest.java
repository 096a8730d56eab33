package io.tfo4j.lab;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** A lab is built and removed whole; the packet rewrites keep packets valid. */
class WanLabTest {

    @Test
    void closeRemovesBothHostsAndTheLink() throws Exception {
        assumeTrue(WanLab.unavailableReason().isEmpty(), () -> "skipped: " + WanLab.unavailableReason().orElse(""));
        WanLab lab = WanLab.create(LinkProfile.rtt(Duration.ofMillis(10)).withFault(Fault.STRIP_FAST_OPEN_OPTION));
        String client = lab.client().name();
        String server = lab.server().name();
        assertTrue(netnsList().contains(client) && netnsList().contains(server), netnsList());
        assertEquals("3", lab.client().sysctl("net/ipv4/tcp_fastopen"));
        lab.client().ip("link", "show", DelayLine.DEVICE);
        lab.close();
        lab.close(); // idempotent
        assertTrue(!netnsList().contains(client) && !netnsList().contains(server), netnsList());
    }

    @Test
    void closeStopsTheProgramsStillRunningInsideTheHosts() throws Exception {
        assumeTrue(WanLab.unavailableReason().isEmpty(), () -> "skipped: " + WanLab.unavailableReason().orElse(""));
        Process sleeper;
        try (WanLab lab = WanLab.create(LinkProfile.rtt(Duration.ZERO))) {
            sleeper = lab.server().command("sleep", "600").start();
            assertTrue(sleeper.isAlive());
        }
        assertTrue(sleeper.waitFor(5, java.util.concurrent.TimeUnit.SECONDS), "a program left in a host is stopped with it");
    }

    @Test
    void profilesRefuseNonsense() {
        assertThrows(IllegalArgumentException.class, () -> LinkProfile.rtt(Duration.ofMillis(-1)));
        assertThrows(IllegalArgumentException.class, () -> LinkProfile.rtt(Duration.ZERO).withLoss(1.0));
        assertThrows(IllegalArgumentException.class, () -> LinkProfile.rtt(Duration.ZERO).withJitter(Duration.ofMillis(-2)));
        assertEquals("50.0 ms RTT, jitter 2.0 ms, loss 1.0%, drop_syn_data",
                LinkProfile.rtt(Duration.ofMillis(50)).withJitter(Duration.ofMillis(2)).withLoss(0.01)
                        .withFault(Fault.DROP_SYN_DATA).toString());
    }

    @Test
    void timesReadAsPeopleWriteThem() {
        assertEquals(Duration.ofMillis(50), LinkProfile.parseTime("50ms"));
        assertEquals(Duration.ofMillis(150), LinkProfile.parseTime(" 0.15S "));
        assertEquals(Duration.ofMillis(50), LinkProfile.parseTime("50"));
        assertEquals("'fast' is not a time: write it like 50ms, 0.15s or 50",
                assertThrows(IllegalArgumentException.class, () -> LinkProfile.parseTime("fast")).getMessage());
        assertEquals("'61s' is not a time from 0 to 60 s",
                assertThrows(IllegalArgumentException.class, () -> LinkProfile.parseTime("61s")).getMessage());
    }

    @Test
    void strippingTheFastOpenOptionKeepsTheChecksumRight() {
        byte[] syn = synWithCookieAndData();
        ByteBuffer packet = ByteBuffer.wrap(syn);
        assertTrue(Packets.isSynWithData(packet));
        assertEquals(0xffff, checksumSum(syn), "the test packet starts valid");

        byte[] stripped = Packets.withoutFastOpenOption(packet);
        assertEquals(0xffff, checksumSum(stripped), "still valid after the rewrite");
        for (int i = 20 + 20; i < 20 + 32; i++) {
            assertEquals(1, stripped[i], "option byte " + i + " is a NOP");
        }
        assertNull(Packets.withoutFastOpenOption(ByteBuffer.wrap(stripped)), "nothing left to strip");

        byte[] replayed = Packets.withSourcePort(packet, 40000);
        assertEquals(40000, Packets.sourcePort(ByteBuffer.wrap(replayed)));
        assertEquals(0xffff, checksumSum(replayed), "still valid with another source port");
    }

    /** An IPv4 SYN, 198.18.0.1:12345 -> 198.18.0.2:80, with a 10-byte Fast Open option and 5 bytes of data. */
    private static byte[] synWithCookieAndData() {
        int tcpHeader = 32;
        int total = 20 + tcpHeader + 5;
        ByteBuffer p = ByteBuffer.allocate(total);
        p.put((byte) 0x45).put((byte) 0).putShort((short) total).putInt(0).put((byte) 64).put((byte) 6).putShort((short) 0)
                .put(new byte[]{(byte) 198, 18, 0, 1}).put(new byte[]{(byte) 198, 18, 0, 2});
        p.putShort((short) 12345).putShort((short) 80).putInt(1000).putInt(0)
                .put((byte) ((tcpHeader / 4) << 4)).put((byte) 0x02).putShort((short) 65535).putShort((short) 0).putShort((short) 0);
        p.put((byte) 34).put((byte) 10).put(new byte[]{1, 2, 3, 4, 5, 6, 7, 8}).put((byte) 1).put((byte) 1);
        p.put("hello".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        byte[] bytes = p.array();
        // Fill in the TCP checksum the way a sender would: make the ones' complement sum come out 0xffff.
        int sum = checksumSum(bytes);
        int checksum = ~sum & 0xffff;
        bytes[20 + 16] = (byte) (checksum >> 8);
        bytes[20 + 17] = (byte) checksum;
        return bytes;
    }

    /** The ones' complement sum over the pseudo-header and TCP segment: 0xffff when the checksum is right. */
    private static int checksumSum(byte[] packet) {
        long sum = 0;
        for (int i = 12; i < 20; i += 2) {
            sum += ((packet[i] & 0xff) << 8) | (packet[i + 1] & 0xff);
        }
        sum += 6 + packet.length - 20;
        for (int i = 20; i < packet.length; i += 2) {
            sum += ((packet[i] & 0xff) << 8) | (i + 1 < packet.length ? packet[i + 1] & 0xff : 0);
        }
        while ((sum >> 16) != 0) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        return (int) sum;
    }

    private static String netnsList() throws IOException {
        try {
            Process ip = new ProcessBuilder("ip", "netns", "list").redirectErrorStream(true).start();
            String out = new String(ip.getInputStream().readAllBytes());
            ip.waitFor();
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }
}
