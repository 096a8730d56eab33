package io.tfo4j.http;

import io.tfo4j.lab.DelayLine;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The IPv4 TCP packets a {@link DelayLine} carried one way, as the hosts' kernels received them: watched by a
 * drop filter that drops nothing. A witness outside both endpoints, for what was in a SYN and who answered
 * whom.
 */
final class PacketLog {
    private static final int FLAG_RST = 0x04;
    private static final int FLAG_SYN = 0x02;
    private static final int FLAG_ACK = 0x10;
    private static final int PAYLOAD_HEAD = 8;

    /** One packet: its ports, TCP flags and the first bytes of its payload (empty when it has none). */
    record Packet(int sourcePort, int destinationPort, int flags, byte[] payloadHead) {
        boolean isSyn() {
            return (flags & (FLAG_SYN | FLAG_ACK)) == FLAG_SYN;
        }

        boolean isReset() {
            return (flags & FLAG_RST) != 0;
        }

        /**
         * True when the payload starts a TLS handshake record (content type 22, version 3.x) holding a
         * handshake message of {@code type}: 1 ClientHello, 2 ServerHello.
         */
        boolean startsTlsHandshake(int type) {
            return payloadHead.length >= 6 && payloadHead[0] == 0x16 && payloadHead[1] == 0x03 && payloadHead[5] == type;
        }

        @Override
        public String toString() {
            return sourcePort + "->" + destinationPort + " flags 0x" + Integer.toHexString(flags) + " payload "
                    + Arrays.toString(payloadHead);
        }
    }

    private final List<Packet> packets = new CopyOnWriteArrayList<>();

    private PacketLog() {
    }

    /** Starts watching {@code direction} of {@code line} (it takes the line's drop filter for that direction). */
    static PacketLog watch(DelayLine line, DelayLine.Direction direction) {
        PacketLog log = new PacketLog();
        line.dropFilter(direction, packet -> {
            Packet read = read(packet);
            if (read != null) {
                log.packets.add(read);
            }
            return false;
        });
        return log;
    }

    /** The packets seen so far. */
    List<Packet> packets() {
        return List.copyOf(packets);
    }

    /** The SYNs seen so far that carried data. */
    List<Packet> synsWithData() {
        return packets.stream().filter(p -> p.isSyn() && p.payloadHead().length > 0).toList();
    }

    private static Packet read(ByteBuffer packet) {
        if (packet.limit() < 40 || (packet.get(0) & 0xf0) != 0x40 || (packet.get(9) & 0xff) != 6) {
            return null;
        }
        int ip = (packet.get(0) & 0x0f) * 4;
        int tcp = ((packet.get(ip + 12) & 0xf0) >> 4) * 4;
        int total = Math.min(packet.getShort(2) & 0xffff, packet.limit());
        byte[] head = new byte[Math.max(0, Math.min(PAYLOAD_HEAD, total - ip - tcp))];
        packet.get(ip + tcp, head);
        return new Packet(packet.getShort(ip) & 0xffff, packet.getShort(ip + 2) & 0xffff, packet.get(ip + 13) & 0xff, head);
    }
}
