package io.tfo4j.lab;

import java.nio.ByteBuffer;

/**
 * Reading and rewriting the IPv4 TCP packets a {@link DelayLine} carries, for middlebox faults: which
 * packets are SYNs with data, and a copy of a packet from another source port with its checksum fixed.
 * IPv6 packets are never matched.
 */
public final class Packets {
    private static final int TCP = 6;
    private static final int FLAG_SYN = 0x02;
    private static final int FLAG_ACK = 0x10;

    private Packets() {
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
        out.putShort(ipHeader + 16, (short) 0);
        out.putShort(ipHeader + 16, (short) tcpChecksum(copy, ipHeader, total));
        return copy;
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

    private static boolean isIpv4Tcp(ByteBuffer packet) {
        return packet.limit() >= 40 && (packet.get(0) & 0xf0) == 0x40 && (packet.get(9) & 0xff) == TCP
                && (packet.getShort(2) & 0xffff) <= packet.limit();
    }

    private static void requireIpv4Tcp(ByteBuffer packet) {
        if (!isIpv4Tcp(packet)) {
            throw new IllegalArgumentException("not a whole IPv4 TCP packet");
        }
    }
}
