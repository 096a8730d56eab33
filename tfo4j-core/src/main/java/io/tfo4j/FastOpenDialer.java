package io.tfo4j;

import java.io.IOException;
import java.net.ConnectException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Objects;

/**
 * Opens a client connection and sends its first bytes in one step, in the SYN when it can: the model is
 * tfo-go's {@code Dial(address, data)}.
 *
 * <pre>{@code
 * SocketChannel channel = FastOpenDialer.create().dial(address, ByteBuffer.wrap(request));
 * }</pre>
 *
 * <p>The first connection to a server asks for a cookie and sends the data after the handshake; later ones
 * send it in the SYN and the reply arrives one round trip sooner. When this host cannot do Fast Open (not
 * Linux, kernel older than 4.11, sysctl bit 0x1 off, {@value FastOpenSupport#DISABLE_PROPERTY} set, JVM
 * flags missing), the dialer does a plain connect and write: the caller does not have to care, and
 * {@link ClientOutcome#of(SocketChannel)} says what happened and why. Empty initial data means a plain
 * dial, because a Fast Open connect with nothing to send gains nothing and would defer the SYN. Instances
 * are immutable and thread-safe.
 */
public final class FastOpenDialer {
    private final boolean fastOpen;
    private final Duration connectTimeout;
    private final boolean noCookie;

    private FastOpenDialer(boolean fastOpen, Duration connectTimeout, boolean noCookie) {
        this.fastOpen = fastOpen;
        this.connectTimeout = connectTimeout;
        this.noCookie = noCookie;
    }

    /** A dialer that uses Fast Open where it can, with no connect timeout (the kernel's SYN retries bound it). */
    public static FastOpenDialer create() {
        return new FastOpenDialer(true, Duration.ZERO, false);
    }

    /** A copy that uses Fast Open ({@code true}) or never does ({@code false}). */
    public FastOpenDialer withFastOpen(boolean enabled) {
        return new FastOpenDialer(enabled, connectTimeout, noCookie);
    }

    /** A copy whose connect (including the handshake of a deferred Fast Open connect) fails after {@code timeout}. */
    public FastOpenDialer withConnectTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("connect timeout must not be negative: " + timeout);
        }
        return new FastOpenDialer(fastOpen, timeout, noCookie);
    }

    /**
     * A copy that sends the first data in the SYN even without a cookie ({@code TCP_FASTOPEN_NO_COOKIE}, see
     * {@link FastOpen#setNoCookie(SocketChannel, boolean)}): the first connection to a server that accepts
     * data without a cookie takes one round trip. Only on a network where the server trusts every client
     * address; a server that does not accept it acknowledges the SYN without its data, and the data follows
     * the handshake.
     */
    public FastOpenDialer withNoCookie(boolean enabled) {
        return new FastOpenDialer(fastOpen, connectTimeout, enabled);
    }

    /** Whether the next dial from this thread's network namespace will try Fast Open. */
    public boolean willTryFastOpen() {
        return fastOpen && FastOpenSupport.current().client().active();
    }

    /** Like {@link #dial(SocketAddress, ByteBuffer)}. */
    public SocketChannel dial(SocketAddress remote, byte[] initialData) throws IOException {
        return dial(remote, ByteBuffer.wrap(initialData));
    }

    /**
     * Connects to {@code remote} and writes all of {@code initialData}, the first part in the SYN when Fast
     * Open is possible. Returns a connected channel in blocking mode; the buffer's position has advanced to
     * its limit.
     *
     * @throws java.net.ConnectException       when the server refuses the connection
     * @throws java.net.SocketTimeoutException when the connect timeout passes before the handshake completes
     */
    public SocketChannel dial(SocketAddress remote, ByteBuffer initialData) throws IOException {
        Objects.requireNonNull(remote, "remote");
        Objects.requireNonNull(initialData, "initialData");
        SocketChannel channel = open(remote);
        try {
            boolean tryFastOpen = fastOpen && initialData.hasRemaining() && FastOpen.enableClient(channel).active();
            if (tryFastOpen && noCookie) {
                FastOpen.setNoCookie(channel, true);
            }
            long timeoutMillis = connectTimeout.toMillis();
            if (timeoutMillis == 0) {
                channel.connect(remote);
            } else {
                channel.socket().connect(remote, (int) Math.min(Integer.MAX_VALUE, timeoutMillis));
            }
            if (tryFastOpen) {
                int fd = FileDescriptors.of(channel);
                if (TcpInfo.read(fd).state() == TcpState.SYN_SENT) {
                    // A cookie is cached: the connect was deferred, and the first send carries the SYN.
                    firstWriteOfDeferredConnect(channel, fd, remote, initialData, timeoutMillis);
                }
            }
            while (initialData.hasRemaining()) {
                channel.write(initialData);
            }
            return channel;
        } catch (IOException | RuntimeException | Error e) {
            try {
                channel.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * Without a timeout the channel's own blocking write sends the SYN with the data and waits for the
     * handshake in the kernel: the fewest system calls. With one, {@link DeferredConnect} sends what fits in
     * the SYN without blocking and waits at most the timeout. Either way a refused or silent server is
     * reported as a connect failure, as a plain dial would.
     */
    private static void firstWriteOfDeferredConnect(SocketChannel channel, int fd, SocketAddress remote,
                                                    ByteBuffer data, long timeoutMillis) throws IOException {
        if (timeoutMillis == 0) {
            try {
                channel.write(data);
            } catch (IOException e) {
                ConnectException failed = new ConnectException(e.getMessage() + ": Fast Open connect to " + remote);
                failed.initCause(e);
                throw failed;
            }
            return;
        }
        int length = Math.min(data.remaining(), 64 * 1024);
        byte[] first = new byte[length];
        data.duplicate().get(first);
        int sent = DeferredConnect.sendInSyn(fd, first, 0, length, remote, timeoutMillis);
        data.position(data.position() + sent);
    }

    private static SocketChannel open(SocketAddress remote) throws IOException {
        if (remote instanceof InetSocketAddress inet && inet.getAddress() instanceof Inet4Address) {
            return SocketChannel.open(StandardProtocolFamily.INET);
        }
        return SocketChannel.open();
    }
}
