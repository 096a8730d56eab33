package io.tfo4j.agent.it.apps;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * A plain client of {@link EchoServersApp}: for each port, COUNT connections of one kind, each writing
 * "hello" and reading the echo. KIND is {@code channel} (a blocking {@link SocketChannel}), {@code socket}
 * (a {@link Socket}), {@code async} (an {@link AsynchronousSocketChannel}) or {@code bound-socket} (a Socket
 * bound to BIND before it connects). Arguments: KIND ADDRESS COUNT PORT... [--bind BIND]. Exits 0 when every
 * echo was right.
 */
public final class EchoClientApp {
    private static final byte[] HELLO = "hello\n".getBytes(StandardCharsets.US_ASCII);

    private EchoClientApp() {
    }

    public static void main(String[] args) throws Exception {
        String kind = args[0];
        String address = args[1];
        int count = Integer.parseInt(args[2]);
        String bind = null;
        int end = args.length;
        if (args.length > 2 && args[args.length - 2].equals("--bind")) {
            bind = args[args.length - 1];
            end -= 2;
        }
        boolean ok = true;
        for (int p = 3; p < end; p++) {
            InetSocketAddress server = new InetSocketAddress(address, Integer.parseInt(args[p]));
            for (int i = 0; i < count; i++) {
                String echo = switch (kind) {
                    case "channel" -> channel(server);
                    case "socket" -> socket(server, null);
                    case "bound-socket" -> socket(server, bind);
                    case "async" -> async(server);
                    default -> throw new IllegalArgumentException("unknown kind " + kind);
                };
                System.out.println(kind + " -> " + server.getPort() + ": " + echo);
                ok &= echo.equals("echo: hello");
            }
        }
        System.exit(ok ? 0 : 1);
    }

    private static String channel(InetSocketAddress server) throws IOException {
        try (SocketChannel channel = SocketChannel.open(server)) {
            channel.write(ByteBuffer.wrap(HELLO));
            return readLine(channel.socket().getInputStream());
        }
    }

    private static String socket(InetSocketAddress server, String bind) throws IOException {
        try (Socket socket = new Socket()) {
            if (bind != null) {
                socket.bind(new InetSocketAddress(InetAddress.getByName(bind), 0));
            }
            socket.connect(server, 5000);
            OutputStream out = socket.getOutputStream();
            out.write(HELLO);
            out.flush();
            return readLine(socket.getInputStream());
        }
    }

    private static String async(InetSocketAddress server) throws Exception {
        try (AsynchronousSocketChannel channel = AsynchronousSocketChannel.open()) {
            channel.connect(server).get(5, TimeUnit.SECONDS);
            ByteBuffer hello = ByteBuffer.wrap(HELLO);
            while (hello.hasRemaining()) {
                channel.write(hello).get(5, TimeUnit.SECONDS);
            }
            ByteBuffer reply = ByteBuffer.allocate(256);
            while (channel.read(reply).get(5, TimeUnit.SECONDS) >= 0) {
                if (new String(reply.array(), 0, reply.position(), StandardCharsets.US_ASCII).contains("\n")) {
                    break;
                }
            }
            return new String(reply.array(), 0, reply.position(), StandardCharsets.US_ASCII).strip();
        }
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int b = in.read(); b >= 0 && b != '\n'; b = in.read()) {
            line.append((char) b);
        }
        return line.toString();
    }
}
