package io.tfo4j.agent.it.apps;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousServerSocketChannel;
import java.nio.channels.AsynchronousSocketChannel;
import java.nio.channels.CompletionHandler;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * Three plain JDK servers, one per kind of listener, each answering one line with "echo: LINE" and closing:
 * a {@link ServerSocketChannel} on the first port, a {@link ServerSocket} on the second and an
 * {@link AsynchronousServerSocketChannel} on the third. Arguments: ADDRESS PORT1 PORT2 PORT3. Prints "ready".
 */
public final class EchoServersApp {
    private EchoServersApp() {
    }

    public static void main(String[] args) throws IOException {
        String address = args[0];
        ServerSocketChannel channel = ServerSocketChannel.open().bind(new InetSocketAddress(address, Integer.parseInt(args[1])));
        Thread.ofPlatform().start(() -> {
            while (true) {
                try (SocketChannel accepted = channel.accept()) {
                    echo(accepted.socket().getInputStream(), accepted.socket().getOutputStream());
                } catch (IOException e) {
                    System.out.println("channel server: " + e);
                }
            }
        });
        ServerSocket socket = new ServerSocket();
        socket.bind(new InetSocketAddress(address, Integer.parseInt(args[2])));
        Thread.ofPlatform().start(() -> {
            while (true) {
                try (Socket accepted = socket.accept()) {
                    echo(accepted.getInputStream(), accepted.getOutputStream());
                } catch (IOException e) {
                    System.out.println("socket server: " + e);
                }
            }
        });
        AsynchronousServerSocketChannel async = AsynchronousServerSocketChannel.open()
                .bind(new InetSocketAddress(address, Integer.parseInt(args[3])));
        async.accept(null, new CompletionHandler<AsynchronousSocketChannel, Void>() {
            @Override
            public void completed(AsynchronousSocketChannel accepted, Void unused) {
                async.accept(null, this);
                asyncEcho(accepted);
            }

            @Override
            public void failed(Throwable failure, Void unused) {
                System.out.println("async server: " + failure);
            }
        });
        System.out.println("ready");
    }

    private static void echo(InputStream in, OutputStream out) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int b = in.read(); b >= 0 && b != '\n'; b = in.read()) {
            line.append((char) b);
        }
        out.write(("echo: " + line + "\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    private static void asyncEcho(AsynchronousSocketChannel accepted) {
        ByteBuffer buffer = ByteBuffer.allocate(256);
        accepted.read(buffer, null, new CompletionHandler<Integer, Void>() {
            @Override
            public void completed(Integer read, Void unused) {
                String text = new String(buffer.array(), 0, buffer.position(), StandardCharsets.US_ASCII);
                if (read >= 0 && !text.contains("\n")) {
                    accepted.read(buffer, null, this);
                    return;
                }
                ByteBuffer reply = ByteBuffer.wrap(("echo: " + text.strip() + "\n").getBytes(StandardCharsets.US_ASCII));
                accepted.write(reply, null, new CompletionHandler<Integer, Void>() {
                    @Override
                    public void completed(Integer written, Void unused) {
                        if (reply.hasRemaining()) {
                            accepted.write(reply, null, this);
                        } else {
                            close(accepted);
                        }
                    }

                    @Override
                    public void failed(Throwable failure, Void unused) {
                        close(accepted);
                    }
                });
            }

            @Override
            public void failed(Throwable failure, Void unused) {
                close(accepted);
            }
        });
    }

    private static void close(AsynchronousSocketChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing
        }
    }
}
