package io.tfo4j;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketImpl;
import java.net.SocketOption;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The implementation of {@link FastOpenSocket}: a JDK socket channel (so that its descriptor needs only
 * the {@code --add-exports} flag), with Fast Open switched on before connect and with what a deferred
 * connect would get wrong handled.
 *
 * <p>When a cookie is cached, connect returns at once and sends nothing. If the first write comes within
 * the first-write window, it sends as much as fits in the SYN and waits for the handshake with the connect
 * timeout. If the window closes first, a timer sends the SYN without data, because the server may have to
 * see the connection before the client uses it (FTP passive data connections). If the first operation is a
 * read (FTP, SMTP and other protocols where the server speaks first), the SYN goes before the read. A
 * refused or silent server fails that first operation with the {@link java.net.ConnectException} or
 * {@link java.net.SocketTimeoutException} a plain connect would have thrown, and the socket is closed.
 *
 * <p>Everything else is the channel's socket adaptor's.
 */
final class FastOpenSocketImpl extends SocketImpl {
    /** One daemon thread for all sockets, to send the SYN of those whose first write does not come. */
    private static final ScheduledThreadPoolExecutor WINDOW_TIMERS = windowTimers();

    private static ScheduledThreadPoolExecutor windowTimers() {
        ScheduledThreadPoolExecutor timers = new ScheduledThreadPoolExecutor(1,
                task -> Thread.ofPlatform().daemon().name("tfo4j-first-write-window").unstarted(task));
        timers.setRemoveOnCancelPolicy(true);
        // Started now rather than by the first deferred connect, which would wait for it before its SYN.
        timers.prestartCoreThread();
        return timers;
    }

    private final SocketChannel channel;
    private final Socket adaptor;
    private final boolean fastOpenWanted;
    private final Duration firstWriteWindow;
    /** Guards {@link #handshakePending} and {@link #windowTimer}; never held while waiting for the network. */
    private final Object stateLock = new Object();
    private Socket owner;
    private volatile FastOpenStatus status;
    /** True from a deferred connect until the first read or write has seen the handshake through. */
    private volatile boolean handshakePending;
    private ScheduledFuture<?> windowTimer;
    private volatile int connectTimeoutMillis;
    /** True when the window timer sent the SYN, without data, before the first read or write came. */
    private volatile boolean windowClosedFirst;
    /** Made with the socket, not at a deferred connect: a cold JVM spends a millisecond making a lambda's class. */
    private final Runnable windowCloser = this::sendSynWhenWindowCloses;

    FastOpenSocketImpl(boolean fastOpenWanted, Duration firstWriteWindow) throws IOException {
        this.channel = SocketChannel.open();
        this.adaptor = channel.socket();
        this.fastOpenWanted = fastOpenWanted;
        this.firstWriteWindow = firstWriteWindow;
    }

    /** The socket to close when a deferred connect fails, as a failed plain connect closes its socket. */
    void closeOnFailedConnect(Socket socket) {
        this.owner = socket;
    }

    /** The first-write window, when the timer sent the SYN without data because no write came within it; else null. */
    Duration expiredFirstWriteWindow() {
        return windowClosedFirst ? firstWriteWindow : null;
    }

    SocketChannel channel() {
        return channel;
    }

    FastOpenStatus enableFastOpen() throws IOException {
        if (status == null) {
            status = FastOpen.enableClient(FileDescriptors.of(channel));
        }
        return status;
    }

    /** Nothing to do: the channel is the socket, open since construction. */
    @Override
    protected void create(boolean stream) {
    }

    @Override
    protected void connect(String host, int port) throws IOException {
        connect(new InetSocketAddress(host, port), 0);
    }

    @Override
    protected void connect(InetAddress address, int port) throws IOException {
        connect(new InetSocketAddress(address, port), 0);
    }

    @Override
    protected void connect(SocketAddress remote, int timeoutMillis) throws IOException {
        if (fastOpenWanted && status == null) {
            enableFastOpen();
        }
        adaptor.connect(remote, timeoutMillis);
        connectTimeoutMillis = timeoutMillis;
        if (status != null && status.active()
                && TcpInfo.read(FileDescriptors.of(channel)).state() == TcpState.SYN_SENT) {
            synchronized (stateLock) {
                handshakePending = true;
                windowTimer = WINDOW_TIMERS.schedule(windowCloser,
                        firstWriteWindow.toNanos(), TimeUnit.NANOSECONDS);
            }
        }
    }

    /**
     * The first write did not come within the window: send the SYN without data now. Some protocols make
     * the server act on a new connection before the client uses it (FTP: vsftpd accepts the passive data
     * connection before it answers RETR on the control connection); a SYN that waits for a write would
     * deadlock them.
     */
    private void sendSynWhenWindowCloses() {
        synchronized (stateLock) {
            if (!handshakePending || !channel.isOpen()) {
                return;
            }
            try {
                windowClosedFirst = true;
                DeferredConnect.sendSyn(FileDescriptors.of(channel), null, 0, 0, adaptor.getRemoteSocketAddress());
            } catch (IOException | RuntimeException e) {
                // The first read or write waits for the handshake and reports the failure.
            }
        }
    }

    /**
     * Before the first read or write: sends the deferred SYN with as much of {@code data} as fits, then
     * waits for the handshake with the connect timeout. Returns how many bytes of {@code data} were sent.
     * When the window timer has sent the SYN already, the kernel answers this send with EAGAIN and takes
     * nothing (DeferredConnectTest checks it), and the data follows the handshake.
     */
    private int finishDeferredConnect(byte[] data, int offset, int length) throws IOException {
        if (!handshakePending) {
            return 0;
        }
        SocketAddress remote = adaptor.getRemoteSocketAddress();
        int sent;
        try {
            synchronized (stateLock) {
                if (!handshakePending) {
                    return 0;
                }
                cancelWindowTimer();
                handshakePending = false;
                sent = DeferredConnect.sendSyn(FileDescriptors.of(channel), data, offset, length, remote);
            }
            DeferredConnect.awaitHandshake(FileDescriptors.of(channel), remote,
                    connectTimeoutMillis > 0 ? connectTimeoutMillis : adaptor.getSoTimeout());
            return sent;
        } catch (IOException e) {
            try {
                owner.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private void cancelWindowTimer() {
        if (windowTimer != null) {
            windowTimer.cancel(false);
            windowTimer = null;
        }
    }

    @Override
    protected InputStream getInputStream() throws IOException {
        return new FilterInputStream(adaptor.getInputStream()) {
            @Override
            public int read() throws IOException {
                finishDeferredConnect(null, 0, 0);
                return super.read();
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                finishDeferredConnect(null, 0, 0);
                return super.read(b, off, len);
            }

            @Override
            public int available() throws IOException {
                return FastOpenSocketImpl.this.available();
            }
        };
    }

    @Override
    protected OutputStream getOutputStream() throws IOException {
        OutputStream plain = adaptor.getOutputStream();
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                Objects.checkFromIndexSize(off, len, b.length);
                int sent = len > 0 ? finishDeferredConnect(b, off, len) : 0;
                if (sent < len) {
                    plain.write(b, off + sent, len - sent);
                }
            }
        };
    }

    @Override
    protected int available() throws IOException {
        return handshakePending ? 0 : adaptor.getInputStream().available();
    }

    @Override
    protected void shutdownInput() throws IOException {
        finishDeferredConnect(null, 0, 0);
        adaptor.shutdownInput();
    }

    @Override
    protected void shutdownOutput() throws IOException {
        finishDeferredConnect(null, 0, 0);
        adaptor.shutdownOutput();
    }

    @Override
    protected boolean supportsUrgentData() {
        return true;
    }

    @Override
    protected void sendUrgentData(int data) throws IOException {
        finishDeferredConnect(null, 0, 0);
        adaptor.sendUrgentData(data);
    }

    @Override
    protected void close() throws IOException {
        synchronized (stateLock) {
            cancelWindowTimer();
            handshakePending = false;
        }
        channel.close();
    }

    @Override
    protected void bind(InetAddress host, int port) throws IOException {
        adaptor.bind(new InetSocketAddress(host, port));
    }

    @Override
    protected void listen(int backlog) throws IOException {
        throw new SocketException("a Fast Open client socket cannot listen");
    }

    @Override
    protected void accept(SocketImpl socket) throws IOException {
        throw new SocketException("a Fast Open client socket cannot accept");
    }

    @Override
    protected InetAddress getInetAddress() {
        return adaptor.getInetAddress();
    }

    @Override
    protected int getPort() {
        return adaptor.getPort();
    }

    @Override
    protected int getLocalPort() {
        return adaptor.getLocalPort();
    }

    @Override
    protected <T> void setOption(SocketOption<T> name, T value) throws IOException {
        adaptor.setOption(name, value);
    }

    @Override
    protected <T> T getOption(SocketOption<T> name) throws IOException {
        return adaptor.getOption(name);
    }

    @Override
    protected Set<SocketOption<?>> supportedOptions() {
        return adaptor.supportedOptions();
    }

    /** The options of {@code java.net.Socket}'s own setters and getters, by their old numbers. */
    @Override
    public void setOption(int id, Object value) throws SocketException {
        switch (id) {
            case TCP_NODELAY -> adaptor.setTcpNoDelay((Boolean) value);
            case SO_LINGER -> adaptor.setSoLinger(value instanceof Integer, value instanceof Integer s ? s : 0);
            case SO_TIMEOUT -> adaptor.setSoTimeout((Integer) value);
            case SO_SNDBUF -> adaptor.setSendBufferSize((Integer) value);
            case SO_RCVBUF -> adaptor.setReceiveBufferSize((Integer) value);
            case SO_KEEPALIVE -> adaptor.setKeepAlive((Boolean) value);
            case SO_OOBINLINE -> adaptor.setOOBInline((Boolean) value);
            case SO_REUSEADDR -> adaptor.setReuseAddress((Boolean) value);
            case IP_TOS -> adaptor.setTrafficClass((Integer) value);
            default -> throw new SocketException("unknown socket option " + id);
        }
    }

    @Override
    public Object getOption(int id) throws SocketException {
        return switch (id) {
            case TCP_NODELAY -> adaptor.getTcpNoDelay();
            case SO_LINGER -> adaptor.getSoLinger() < 0 ? Boolean.FALSE : (Object) adaptor.getSoLinger();
            case SO_TIMEOUT -> adaptor.getSoTimeout();
            case SO_SNDBUF -> adaptor.getSendBufferSize();
            case SO_RCVBUF -> adaptor.getReceiveBufferSize();
            case SO_KEEPALIVE -> adaptor.getKeepAlive();
            case SO_OOBINLINE -> adaptor.getOOBInline();
            case SO_REUSEADDR -> adaptor.getReuseAddress();
            case IP_TOS -> adaptor.getTrafficClass();
            case SO_BINDADDR -> adaptor.getLocalAddress();
            default -> throw new SocketException("unknown socket option " + id);
        };
    }
}
