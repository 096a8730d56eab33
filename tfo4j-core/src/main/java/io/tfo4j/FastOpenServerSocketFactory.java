package io.tfo4j;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.ServerSocketChannel;
import javax.net.ServerSocketFactory;

/**
 * A {@link ServerSocketFactory} whose listeners accept TCP Fast Open. The server sockets are the JDK's
 * own (made by {@link ServerSocketChannel}), so accepted sockets work with {@link ServerOutcome#of} and
 * {@link TcpInfo#of}.
 *
 * <p>Turning Fast Open on is a promise that the application tolerates a replayed first request (see
 * {@link FastOpen}). Needs Linux 3.7+ and the sysctl bit 0x2 ({@code sysctl -w net.ipv4.tcp_fastopen=3});
 * without them the listeners work normally and {@link FastOpen#serverStatus(ServerSocket)} says why Fast
 * Open is not active.
 */
public class FastOpenServerSocketFactory extends ServerSocketFactory {
    /** The queue length used when none is given: nginx and most guides use 256. */
    public static final int DEFAULT_QUEUE_LENGTH = 256;

    private final int queueLength;
    private final FastOpenKeys keys;

    /** A factory whose listeners have a Fast Open queue of {@value #DEFAULT_QUEUE_LENGTH}. */
    public FastOpenServerSocketFactory() {
        this(DEFAULT_QUEUE_LENGTH);
    }

    /**
     * A factory whose listeners have the given Fast Open queue length.
     *
     * @throws IllegalArgumentException when {@code queueLength} is less than 1
     */
    public FastOpenServerSocketFactory(int queueLength) {
        this(queueLength, null);
    }

    /**
     * A factory whose listeners have the given Fast Open queue length and carry {@code keys} (see
     * {@link FastOpen#setServerKeys(ServerSocketChannel, FastOpenKey, FastOpenKey)}), so that servers behind
     * one address accept each other's cookies; null keeps the network namespace's key.
     *
     * @throws IllegalArgumentException when {@code queueLength} is less than 1
     */
    public FastOpenServerSocketFactory(int queueLength, FastOpenKeys keys) {
        if (queueLength < 1) {
            throw new IllegalArgumentException("Fast Open queue length must be at least 1, got " + queueLength);
        }
        this.queueLength = queueLength;
        this.keys = keys;
    }

    @Override
    public ServerSocket createServerSocket() throws IOException {
        ServerSocketChannel channel = ServerSocketChannel.open();
        try {
            FastOpen.enableServer(channel, queueLength);
            if (keys != null) {
                FastOpen.setServerKeys(channel, keys.primary(), keys.backup());
            }
            return channel.socket();
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    @Override
    public ServerSocket createServerSocket(int port) throws IOException {
        return bound(new InetSocketAddress(port), 50);
    }

    @Override
    public ServerSocket createServerSocket(int port, int backlog) throws IOException {
        return bound(new InetSocketAddress(port), backlog);
    }

    @Override
    public ServerSocket createServerSocket(int port, int backlog, InetAddress bindAddress) throws IOException {
        return bound(new InetSocketAddress(bindAddress, port), backlog);
    }

    private ServerSocket bound(InetSocketAddress address, int backlog) throws IOException {
        ServerSocket socket = createServerSocket();
        try {
            socket.bind(address, backlog);
            return socket;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }
}
