package io.tfo4j.agent.it.apps;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;

/**
 * A plain UDP echo server: a {@link DatagramChannel} bound to ADDRESS PORT sends every datagram back to
 * where it came from. Arguments: ADDRESS PORT. Prints "ready" when it is bound.
 */
public final class UdpEchoServerApp {
    private UdpEchoServerApp() {
    }

    public static void main(String[] args) throws IOException {
        try (DatagramChannel channel = DatagramChannel.open()) {
            channel.bind(new InetSocketAddress(args[0], Integer.parseInt(args[1])));
            System.out.println("ready");
            ByteBuffer buffer = ByteBuffer.allocate(2048);
            while (true) {
                buffer.clear();
                SocketAddress from = channel.receive(buffer);
                buffer.flip();
                channel.send(buffer, from);
            }
        }
    }
}
