package io.tfo4j.example.consumer;

import io.tfo4j.ClientOutcome;
import io.tfo4j.FastOpen;
import io.tfo4j.FastOpenDialer;
import io.tfo4j.FastOpenStatus;
import io.tfo4j.ServerOutcome;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * Listens on loopback with Fast Open, then dials itself twice with a request in the SYN, and prints one line
 * per fact: the module tfo4j-core was loaded as, the listener's status, and per connection the client's
 * outcome and whether the server saw the data arrive in the SYN. Run it in a network namespace whose
 * {@code net.ipv4.tcp_fastopen} is 3 to see the second request ride in the SYN.
 */
public final class Main {
    private static final byte[] REQUEST = "ping\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] REPLY = "pong\n".getBytes(StandardCharsets.US_ASCII);

    private Main() {
    }

    public static void main(String[] args) throws IOException {
        System.out.println("module: " + FastOpen.class.getModule().getName());
        try (ServerSocketChannel listener = ServerSocketChannel.open()) {
            listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            FastOpenStatus status = FastOpen.enableServer(listener, 16);
            System.out.println("listener: " + (status.active() ? "active" : "inactive: " + status.reason()));
            for (int i = 1; i <= 2; i++) {
                try (SocketChannel client = FastOpenDialer.create().dial(listener.getLocalAddress(), REQUEST);
                     SocketChannel accepted = listener.accept()) {
                    accepted.read(ByteBuffer.allocate(64));
                    accepted.write(ByteBuffer.wrap(REPLY));
                    client.read(ByteBuffer.allocate(64));
                    System.out.println("connection " + i + ": " + outcomes(client, accepted));
                }
            }
        }
    }

    /** The outcomes need the same JVM flags as Fast Open itself; without them the exception names the flag. */
    private static String outcomes(SocketChannel client, SocketChannel accepted) throws IOException {
        try {
            return "client " + ClientOutcome.of(client).result() + ", server synData=" + ServerOutcome.of(accepted).synData();
        } catch (UnsupportedOperationException e) {
            return "exchanged, outcome unknown: " + e.getMessage();
        }
    }
}
