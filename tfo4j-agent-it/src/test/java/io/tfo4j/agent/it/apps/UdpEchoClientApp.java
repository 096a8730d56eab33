package io.tfo4j.agent.it.apps;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.charset.StandardCharsets;

/**
 * A plain UDP client: a {@link DatagramChannel} connected to ADDRESS PORT writes "ping" and reads the echo,
 * then a connected {@link DatagramSocket} does the same with "pong". Prints "echo ping" and "echo pong";
 * exits 1 when an echo does not come back (three tries of 2 s each).
 */
public final class UdpEchoClientApp {
    private static final int TRIES = 3;
    private static final int WAIT_MILLIS = 2000;

    private UdpEchoClientApp() {
    }

    public static void main(String[] args) throws IOException {
        InetSocketAddress server = new InetSocketAddress(args[0], Integer.parseInt(args[1]));
        boolean channelEcho = channel(server);
        boolean socketEcho = socket(server);
        System.exit(channelEcho && socketEcho ? 0 : 1);
    }

    private static boolean channel(InetSocketAddress server) throws IOException {
        try (DatagramChannel channel = DatagramChannel.open(); Selector selector = Selector.open()) {
            channel.connect(server);
            channel.configureBlocking(false);
            channel.register(selector, SelectionKey.OP_READ);
            ByteBuffer answer = ByteBuffer.allocate(2048);
            for (int i = 0; i < TRIES; i++) {
                channel.write(ByteBuffer.wrap("ping".getBytes(StandardCharsets.US_ASCII)));
                if (selector.select(WAIT_MILLIS) > 0 && channel.read(answer) > 0) {
                    answer.flip();
                    System.out.println("echo " + StandardCharsets.US_ASCII.decode(answer));
                    return true;
                }
                selector.selectedKeys().clear();
            }
        }
        System.out.println("no echo on the DatagramChannel");
        return false;
    }

    private static boolean socket(InetSocketAddress server) throws IOException {
        try (DatagramSocket socket = new DatagramSocket()) {
            socket.connect(server);
            socket.setSoTimeout(WAIT_MILLIS);
            byte[] ping = "pong".getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < TRIES; i++) {
                socket.send(new DatagramPacket(ping, ping.length));
                DatagramPacket answer = new DatagramPacket(new byte[2048], 2048);
                try {
                    socket.receive(answer);
                    System.out.println("echo " + new String(answer.getData(), 0, answer.getLength(),
                            StandardCharsets.US_ASCII));
                    return true;
                } catch (SocketTimeoutException e) {
                    // sent again
                }
            }
        }
        System.out.println("no echo on the DatagramSocket");
        return false;
    }
}
