package io.tfo4j.lab;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Reading and rewriting the IPv4 TCP packets a {@link DelayLine} carries, for middlebox faults: which
 * packets are SYNs with data, a copy of a packet from another source port, and a copy without the Fast Open
 * option; copies get a correct TCP checksum (the receiving kernel drops a packet whose checksum is wrong, so
 * the tests that use these copies also check the arithmetic). IPv6 packets are never matched.
 */
public final class Packets {
    private static final int TCP = 6;
    private static final int FLAG_SYN = 0x02;
    private static final int FLAG_ACK = 0x10;
    /** RFC 7413's option kind, and the experimental kind 254 with magic 0xF989 that early clients used. */
    private static final int OPTION_FAST_OPEN = 34;
    private static final int OPTION_EXPERIMENTAL = 254;
    private static final int FAST_OPEN_MAGIC = 0xF989;
    private static final byte OPTION_NOP = 1;

    private Packets() {
    }

    /**
     * True for a Fast Open SYN with data ({@link #isSynWithData}) whose data starts with {@code prefix}, e.g.
     * {@code "POST "}: a replay filter that picks one kind of request.
     */
    public static boolean isSynWithDataStartingWith(ByteBuffer packet, String prefix) {
        if (!isSynWithData(packet)) {
            return false;
        }
        int ipHeader = (packet.get(0) & 0x0f) * 4;
        int payload = ipHeader + ((packet.get(ipHeader + 12) & 0xf0) >> 4) * 4;
        for (int i = 0; i < prefix.length(); i++) {
            if (payload + i >= packet.limit() || packet.get(payload + i) != (byte) prefix.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** True for an IPv4 TCP SYN (not SYN-ACK) that carries payload: a Fast Open SYN with data. */
    public static boolean isSynWithData(ByteBuffer packet) {
        if (!isIpv4Tcp(packet)) {
            return false;
        }
        int ipHeader = (packet.get(0) & 0x0f) * 4;
        int flags = packet.get(ipHeader + 13) & 0xff;
        int tcpHeader = ((packet.get(ipHeader + 12) & 0xf0) >> 4) * 4;
        int total = packet.getShort(2) & 0xffff;
        return (flags & FLAG_SYN) != 0 && (flags & FLAG_ACK) == 0 && total > ipHeader + tcpHeader;
    }

    /** The TCP source port of an IPv4 TCP packet. */
    public static int sourcePort(ByteBuffer packet) {
        requireIpv4Tcp(packet);
        return packet.getShort((packet.get(0) & 0x0f) * 4) & 0xffff;
    }

    /** A copy of an IPv4 TCP packet with {@code port} as its source port and a recomputed TCP checksum. */
    public static byte[] withSourcePort(ByteBuffer packet, int port) {
        requireIpv4Tcp(packet);
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port must be 1 to 65535, got " + port);
        }
        int total = packet.getShort(2) & 0xffff;
        byte[] copy = new byte[total];
        packet.duplicate().position(0).get(copy, 0, total);
        ByteBuffer out = ByteBuffer.wrap(copy);
        int ipHeader = (copy[0] & 0x0f) * 4;
        out.putShort(ipHeader, (short) port);
        fixChecksum(copy);
        return copy;
    }

    /**
     * A copy of an IPv4 TCP packet with its Fast Open option (a cookie request or a cookie) overwritten by
     * NOP options, or null when it has none. A SYN so stripped still carries its data, but without a cookie
     * the server does not take the data; a SYN-ACK so stripped gives the client no cookie.
     */
    public static byte[] withoutFastOpenOption(ByteBuffer packet) {
        if (!isIpv4Tcp(packet)) {
            return null;
        }
        int total = packet.getShort(2) & 0xffff;
        byte[] copy = new byte[total];
        packet.duplicate().position(0).get(copy, 0, total);
        int ipHeader = (copy[0] & 0x0f) * 4;
        int optionsEnd = ipHeader + ((copy[ipHeader + 12] & 0xf0) >> 4) * 4;
        boolean stripped = false;
        int at = ipHeader + 20;
        while (at < optionsEnd) {
            int kind = copy[at] & 0xff;
            if (kind == 0) {
                break;
            }
            if (kind == OPTION_NOP) {
                at++;
                continue;
            }
            int length = at + 1 < optionsEnd ? copy[at + 1] & 0xff : 0;
            if (length < 2 || at + length > optionsEnd) {
                break; // malformed options: leave the rest alone
            }
            boolean experimental = kind == OPTION_EXPERIMENTAL && length >= 4
                    && (((copy[at + 2] & 0xff) << 8) | (copy[at + 3] & 0xff)) == FAST_OPEN_MAGIC;
            if (kind == OPTION_FAST_OPEN || experimental) {
                Arrays.fill(copy, at, at + length, OPTION_NOP);
                stripped = true;
            }
            at += length;
        }
        if (!stripped) {
            return null;
        }
        fixChecksum(copy);
        return copy;
    }

    private static void fixChecksum(byte[] packet) {
        int ipHeader = (packet[0] & 0x0f) * 4;
        int total = ((packet[2] & 0xff) << 8) | (packet[3] & 0xff);
        ByteBuffer out = ByteBuffer.wrap(packet);
        out.putShort(ipHeader + 16, (short) 0);
        out.putShort(ipHeader + 16, (short) tcpChecksum(packet, ipHeader, total));
    }

    private static int tcpChecksum(byte[] packet, int ipHeader, int total) {
        int segment = total - ipHeader;
        long sum = 0;
        for (int i = 12; i < 20; i += 2) { // source and destination address
            sum += ((packet[i] & 0xff) << 8) | (packet[i + 1] & 0xff);
        }
        sum += TCP + segment;
        for (int i = ipHeader; i < total; i += 2) {
            int high = packet[i] & 0xff;
            int low = i + 1 < total ? packet[i + 1] & 0xff : 0;
            sum += (high << 8) | low;
        }
        while ((sum >> 16) != 0) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        return (int) (~sum & 0xffff);
    }

    /** A whole IPv4 TCP packet: both headers' lengths are sane and lie within the total length, which lies in the buffer. */
    private static boolean isIpv4Tcp(ByteBuffer packet) {
        if (packet.limit() < 40 || (packet.get(0) & 0xf0) != 0x40 || (packet.get(9) & 0xff) != TCP) {
            return false;
        }
        int ipHeader = (packet.get(0) & 0x0f) * 4;
        int total = packet.getShort(2) & 0xffff;
        return ipHeader >= 20 && total <= packet.limit() && total >= ipHeader + 20
                && total >= ipHeader + ((packet.get(ipHeader + 12) & 0xf0) >> 4) * 4
                && (packet.get(ipHeader + 12) & 0xf0) >= 0x50;
    }

    private static void requireIpv4Tcp(ByteBuffer packet) {
        if (!isIpv4Tcp(packet)) {
            throw new IllegalArgumentException("not a whole IPv4 TCP packet");
        }
    }
}
