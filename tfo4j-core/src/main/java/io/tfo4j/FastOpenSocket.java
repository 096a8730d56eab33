package io.tfo4j;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketImpl;
import java.net.SocketOption;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The {@link Socket} that {@link FastOpenSocketFactory} makes: a JDK socket channel's socket, with Fast
 * Open switched on before connect, and with what a deferred connect would get wrong handled.
 *
 * <p>When a cookie is cached, connect returns at once and sends nothing. If the first write comes within
 * the first-write window, it sends as much as fits in the SYN and waits for the handshake with the connect
 * timeout. If the window closes first, a timer sends the SYN without data, because the server may have to
 * see the connection before the client uses it (FTP passive data connections). If the first operation is a
 * read (FTP, SMTP and other protocols where the server speaks first), the SYN goes before the read. A
 * refused or silent server fails that first operation with the {@link java.net.ConnectException} or
 * {@link java.net.SocketTimeoutException} a plain connect would have thrown, and the socket is closed.
 *
 * <p>Every other method delegates to the channel's socket.
 */
final class FastOpenSocket extends Socket {
    /** Where a deferred connect stands. */
    private enum Handshake {
        /** Connect returned without sending anything: the SYN waits for the first write. */
        DEFERRED,
        /** The window closed first: the SYN went without data, the handshake may still be under way. */
        SYN_SENT,
        /** Nothing left to do: a plain connect, or the first read or write has seen the handshake through. */
        DONE
    }

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
    private final Socket delegate;
    private final boolean fastOpenWanted;
    private final Duration firstWriteWindow;
    /** Guards {@link #handshake} and {@link #windowTimer}; never held while waiting for the network. */
    private final Object stateLock = new Object();
    /** Made with the socket, not at a deferred connect: a cold JVM spends a millisecond making a lambda's class. */
    private final Runnable windowCloser = this::sendSynWhenWindowCloses;
    private volatile FastOpenStatus status;
    private volatile Handshake handshake = Handshake.DONE;
    private ScheduledFuture<?> windowTimer;
    private volatile SocketAddress remote;
    private volatile int connectTimeoutMillis;
    private volatile InputStream in;
    private volatile OutputStream out;

    FastOpenSocket(boolean fastOpenWanted, Duration firstWriteWindow) throws IOException {
        super((SocketImpl) null);
        this.channel = SocketChannel.open();
        this.delegate = channel.socket();
        this.fastOpenWanted = fastOpenWanted;
        this.firstWriteWindow = firstWriteWindow;
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

    @Override
    public void connect(SocketAddress endpoint) throws IOException {
        connect(endpoint, 0);
    }

    @Override
    public void connect(SocketAddress endpoint, int timeout) throws IOException {
        if (fastOpenWanted && status == null && !delegate.isConnected()) {
            enableFastOpen();
        }
        delegate.connect(endpoint, timeout);
        remote = endpoint;
        connectTimeoutMillis = timeout;
        if (status != null && status.active()
                && TcpInfo.read(FileDescriptors.of(channel)).state() == TcpState.SYN_SENT) {
            synchronized (stateLock) {
                handshake = Handshake.DEFERRED;
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
            if (handshake != Handshake.DEFERRED || delegate.isClosed()) {
                return;
            }
            handshake = Handshake.SYN_SENT;
            try {
                DeferredConnect.sendSyn(FileDescriptors.of(channel), null, 0, 0, remote);
            } catch (IOException | RuntimeException e) {
                // The first read or write waits for the handshake and reports the failure.
            }
        }
    }

    /**
     * Before the first read or write: sends the deferred SYN (with as much of {@code data} as fits, for a
     * write) if the window timer has not, then waits for the handshake with the connect timeout. Returns
     * how many bytes of {@code data} the SYN carried.
     */
    private int finishDeferredConnect(byte[] data, int offset, int length) throws IOException {
        Handshake was;
        int sent = 0;
        synchronized (stateLock) {
            was = handshake;
            if (was == Handshake.DONE) {
                return 0;
            }
            cancelWindowTimer();
            handshake = Handshake.DONE;
            if (was == Handshake.DEFERRED) {
                try {
                    sent = DeferredConnect.sendSyn(FileDescriptors.of(channel), data, offset, length, remote);
                } catch (IOException e) {
                    closeAfterFailedConnect(e);
                    throw e;
                }
            }
        }
        try {
            DeferredConnect.awaitHandshake(FileDescriptors.of(channel), remote, handshakeTimeout());
        } catch (IOException e) {
            closeAfterFailedConnect(e);
            throw e;
        }
        return sent;
    }

    private void cancelWindowTimer() {
        if (windowTimer != null) {
            windowTimer.cancel(false);
            windowTimer = null;
        }
    }

    private long handshakeTimeout() throws SocketException {
        if (connectTimeoutMillis > 0) {
            return connectTimeoutMillis;
        }
        return delegate.getSoTimeout();
    }

    private void closeAfterFailedConnect(IOException failure) {
        try {
            close();
        } catch (IOException e) {
            failure.addSuppressed(e);
        }
    }

    @Override
    public InputStream getInputStream() throws IOException {
        InputStream stream = in;
        if (stream == null) {
            InputStream plain = delegate.getInputStream();
            stream = new InputStream() {
                @Override
                public int read() throws IOException {
                    finishDeferredConnect(null, 0, 0);
                    return plain.read();
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    finishDeferredConnect(null, 0, 0);
                    return plain.read(b, off, len);
                }

                @Override
                public int available() throws IOException {
                    return handshake == Handshake.DONE ? plain.available() : 0;
                }

                @Override
                public void close() throws IOException {
                    plain.close();
                }
            };
            in = stream;
        }
        return stream;
    }

    @Override
    public OutputStream getOutputStream() throws IOException {
        OutputStream stream = out;
        if (stream == null) {
            OutputStream plain = delegate.getOutputStream();
            stream = new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    java.util.Objects.checkFromIndexSize(off, len, b.length);
                    if (handshake != Handshake.DONE && len > 0) {
                        int sent = finishDeferredConnect(b, off, len);
                        off += sent;
                        len -= sent;
                    }
                    if (len > 0) {
                        plain.write(b, off, len);
                    }
                }

                @Override
                public void flush() throws IOException {
                    plain.flush();
                }

                @Override
                public void close() throws IOException {
                    plain.close();
                }
            };
            out = stream;
        }
        return stream;
    }

    @Override
    public void shutdownOutput() throws IOException {
        finishDeferredConnect(null, 0, 0);
        delegate.shutdownOutput();
    }

    @Override
    public void shutdownInput() throws IOException {
        finishDeferredConnect(null, 0, 0);
        delegate.shutdownInput();
    }

    @Override
    public void bind(SocketAddress bindpoint) throws IOException {
        delegate.bind(bindpoint);
    }

    @Override
    public InetAddress getInetAddress() {
        return delegate.getInetAddress();
    }

    @Override
    public InetAddress getLocalAddress() {
        return delegate.getLocalAddress();
    }

    @Override
    public int getPort() {
        return delegate.getPort();
    }

    @Override
    public int getLocalPort() {
        return delegate.getLocalPort();
    }

    @Override
    public SocketAddress getRemoteSocketAddress() {
        return delegate.getRemoteSocketAddress();
    }

    @Override
    public SocketAddress getLocalSocketAddress() {
        return delegate.getLocalSocketAddress();
    }

    /** Null: reading the channel directly would bypass the deferred-connect handling of this socket. */
    @Override
    public SocketChannel getChannel() {
        return null;
    }

    @Override
    public void setTcpNoDelay(boolean on) throws SocketException {
        delegate.setTcpNoDelay(on);
    }

    @Override
    public boolean getTcpNoDelay() throws SocketException {
        return delegate.getTcpNoDelay();
    }

    @Override
    public void setSoLinger(boolean on, int linger) throws SocketException {
        delegate.setSoLinger(on, linger);
    }

    @Override
    public int getSoLinger() throws SocketException {
        return delegate.getSoLinger();
    }

    @Override
    public void sendUrgentData(int data) throws IOException {
        finishDeferredConnect(null, 0, 0);
        delegate.sendUrgentData(data);
    }

    @Override
    public void setOOBInline(boolean on) throws SocketException {
        delegate.setOOBInline(on);
    }

    @Override
    public boolean getOOBInline() throws SocketException {
        return delegate.getOOBInline();
    }

    @Override
    public void setSoTimeout(int timeout) throws SocketException {
        delegate.setSoTimeout(timeout);
    }

    @Override
    public int getSoTimeout() throws SocketException {
        return delegate.getSoTimeout();
    }

    @Override
    public void setSendBufferSize(int size) throws SocketException {
        delegate.setSendBufferSize(size);
    }

    @Override
    public int getSendBufferSize() throws SocketException {
        return delegate.getSendBufferSize();
    }

    @Override
    public void setReceiveBufferSize(int size) throws SocketException {
        delegate.setReceiveBufferSize(size);
    }

    @Override
    public int getReceiveBufferSize() throws SocketException {
        return delegate.getReceiveBufferSize();
    }

    @Override
    public void setKeepAlive(boolean on) throws SocketException {
        delegate.setKeepAlive(on);
    }

    @Override
    public boolean getKeepAlive() throws SocketException {
        return delegate.getKeepAlive();
    }

    @Override
    public void setTrafficClass(int tc) throws SocketException {
        delegate.setTrafficClass(tc);
    }

    @Override
    public int getTrafficClass() throws SocketException {
        return delegate.getTrafficClass();
    }

    @Override
    public void setReuseAddress(boolean on) throws SocketException {
        delegate.setReuseAddress(on);
    }

    @Override
    public boolean getReuseAddress() throws SocketException {
        return delegate.getReuseAddress();
    }

    @Override
    public void close() throws IOException {
        synchronized (stateLock) {
            cancelWindowTimer();
            handshake = Handshake.DONE;
        }
        delegate.close();
    }

    @Override
    public boolean isConnected() {
        return delegate.isConnected();
    }

    @Override
    public boolean isBound() {
        return delegate.isBound();
    }

    @Override
    public boolean isClosed() {
        return delegate.isClosed();
    }

    @Override
    public boolean isInputShutdown() {
        return delegate.isInputShutdown();
    }

    @Override
    public boolean isOutputShutdown() {
        return delegate.isOutputShutdown();
    }

    @Override
    public void setPerformancePreferences(int connectionTime, int latency, int bandwidth) {
        delegate.setPerformancePreferences(connectionTime, latency, bandwidth);
    }

    @Override
    public <T> Socket setOption(SocketOption<T> name, T value) throws IOException {
        delegate.setOption(name, value);
        return this;
    }

    @Override
    public <T> T getOption(SocketOption<T> name) throws IOException {
        return delegate.getOption(name);
    }

    @Override
    public Set<SocketOption<?>> supportedOptions() {
        return delegate.supportedOptions();
    }

    @Override
    public String toString() {
        return "FastOpenSocket[" + delegate + (handshake == Handshake.DONE ? "" : ", handshake " + handshake) + "]";
    }
}
