package io.tfo4j.agent.it.apps;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * A plain java.nio client of a protocol where the server speaks first, in the style of event-loop
 * libraries: a non-blocking {@code SocketChannel} connects (finishing the connect on {@code OP_CONNECT} when
 * it did not complete at once), registers for {@code OP_READ} only and selects until the greeting line has
 * come, then writes {@code bye\n} and closes. {@code COUNT} connections, one after another. Prints
 * {@code connection I: connect() returned CONNECTED, greeting 'LINE' after MS ms} per connection, and exits 0
 * when every one got its greeting, 1 when one did not within 20 s. Arguments: HOST PORT COUNT.
 */
public final class SelectorReadFirstClient {
    private static final long PATIENCE_MILLIS = 20_000;

    private SelectorReadFirstClient() {
    }

    public static void main(String[] args) throws Exception {
        InetSocketAddress server = new InetSocketAddress(args[0], Integer.parseInt(args[1]));
        int count = Integer.parseInt(args[2]);
        for (int i = 1; i <= count; i++) {
            long start = System.nanoTime();
            long deadline = start + PATIENCE_MILLIS * 1_000_000;
            try (Selector selector = Selector.open(); SocketChannel channel = SocketChannel.open()) {
                channel.configureBlocking(false);
                boolean connected = channel.connect(server);
                if (!connected) {
                    SelectionKey key = channel.register(selector, SelectionKey.OP_CONNECT);
                    while (!channel.finishConnect()) {
                        if (!select(selector, deadline)) {
                            System.out.println("connection " + i + ": not connected after " + PATIENCE_MILLIS + " ms");
                            System.exit(1);
                        }
                    }
                    key.cancel();
                    selector.selectNow();
                }
                channel.register(selector, SelectionKey.OP_READ);
                ByteBuffer buffer = ByteBuffer.allocate(256);
                while (buffer.position() == 0 || buffer.get(buffer.position() - 1) != '\n') {
                    if (!select(selector, deadline)) {
                        System.out.println("connection " + i + ": no greeting after " + PATIENCE_MILLIS + " ms");
                        System.exit(1);
                    }
                    selector.selectedKeys().clear();
                    if (channel.read(buffer) < 0) {
                        System.out.println("connection " + i + ": closed by the server before its greeting");
                        System.exit(1);
                    }
                }
                String greeting = new String(buffer.array(), 0, buffer.position() - 1, StandardCharsets.US_ASCII);
                double millis = (System.nanoTime() - start) / 1e6;
                ByteBuffer bye = ByteBuffer.wrap("bye\n".getBytes(StandardCharsets.US_ASCII));
                while (bye.hasRemaining()) {
                    channel.write(bye);
                }
                System.out.println(String.format("connection %d: connect() returned %s, greeting '%s' after %.1f ms", i,
                        connected, greeting, millis));
            }
        }
    }

    /** Selects until something is ready or the deadline passes; false when it passed. */
    private static boolean select(Selector selector, long deadline) throws Exception {
        while (true) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                return false;
            }
            if (selector.select(left) > 0) {
                return true;
            }
        }
    }
}
