package io.tfo4j.agent.it.apps;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A plain client of a protocol where the server speaks first, on virtual threads: {@code COUNT} connections
 * one after another, each on a new virtual thread, alternately a {@code java.net.Socket} (odd numbers) and a
 * blocking {@code SocketChannel} (even numbers), each reading the greeting line first, then writing
 * {@code bye\n} and closing. Prints {@code connection I (KIND): greeting 'LINE' after MS ms} per connection,
 * and exits 0 when every one got its greeting. Arguments: HOST PORT COUNT.
 */
public final class VirtualThreadReadFirstClient {
    private VirtualThreadReadFirstClient() {
    }

    public static void main(String[] args) throws Exception {
        InetSocketAddress server = new InetSocketAddress(args[0], Integer.parseInt(args[1]));
        int count = Integer.parseInt(args[2]);
        AtomicBoolean allOk = new AtomicBoolean(true);
        for (int i = 1; i <= count; i++) {
            int number = i;
            Thread thread = Thread.ofVirtual().name("client-" + i).start(() -> {
                long start = System.nanoTime();
                try {
                    String kind;
                    String greeting;
                    if (number % 2 == 1) {
                        kind = "Socket";
                        try (Socket socket = new Socket()) {
                            socket.connect(server);
                            greeting = new BufferedReader(new InputStreamReader(socket.getInputStream(),
                                    StandardCharsets.US_ASCII)).readLine();
                            OutputStream out = socket.getOutputStream();
                            out.write("bye\n".getBytes(StandardCharsets.US_ASCII));
                            out.flush();
                        }
                    } else {
                        kind = "SocketChannel";
                        try (SocketChannel channel = SocketChannel.open(server)) {
                            ByteBuffer buffer = ByteBuffer.allocate(256);
                            while ((buffer.position() == 0 || buffer.get(buffer.position() - 1) != '\n')
                                    && channel.read(buffer) >= 0) {
                                // until the greeting's line ends, or the server closes
                            }
                            greeting = buffer.position() == 0 ? null : new String(buffer.array(), 0,
                                    buffer.position(), StandardCharsets.US_ASCII).strip();
                            channel.write(ByteBuffer.wrap("bye\n".getBytes(StandardCharsets.US_ASCII)));
                        }
                    }
                    System.out.println(String.format("connection %d (%s): greeting '%s' after %.1f ms", number, kind,
                            greeting, (System.nanoTime() - start) / 1e6));
                    if (greeting == null) {
                        allOk.set(false);
                    }
                } catch (Exception e) {
                    System.out.println("connection " + number + ": " + e);
                    allOk.set(false);
                }
            });
            thread.join();
        }
        System.exit(allOk.get() ? 0 : 1);
    }
}
