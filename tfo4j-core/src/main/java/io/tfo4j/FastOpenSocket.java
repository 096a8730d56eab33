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
import java.util.Set;

/**
 * The {@link Socket} that {@link FastOpenSocketFactory} makes: a JDK socket channel's socket, with Fast
 * Open switched on before connect, and with the one thing a plain socket would get wrong handled.
 *
 * <p>When a cookie is cached, connect returns at once and sends nothing. The first write then sends as
 * much as fits in the SYN and waits for the handshake with the connect timeout. If the first operation is
 * a read instead (FTP, SMTP and other protocols where the server speaks first), the socket sends the SYN
 * without data before reading, so the read never waits for a SYN that was not sent. A refused or silent
 * server fails that first operation with the {@link java.net.ConnectException} or
 * {@link java.net.SocketTimeoutException} a plain connect would have thrown, and the socket is closed.
 *
 * <p>Every other method delegates to the channel's socket.
 */
final class FastOpenSocket extends Socket {
    private final SocketChannel channel;
    private final Socket delegate;
    private final boolean fastOpenWanted;
    private final Object handshakeLock = new Object();
    private volatile FastOpenStatus status;
    /** True between a connect that Fast Open deferred and the first read or write. */
    private volatile boolean deferred;
    private volatile SocketAddress remote;
    private volatile int connectTimeoutMillis;
    private volatile InputStream in;
    private volatile OutputStream out;

    FastOpenSocket(boolean fastOpenWanted) throws IOException {
        super((SocketImpl) null);
        this.channel = SocketChannel.open();
        this.delegate = channel.socket();
        this.fastOpenWanted = fastOpenWanted;
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
            deferred = true;
        }
    }

    /** Before the first read: send the deferred SYN without data and wait for the handshake. */
    private void finishDeferredConnect() throws IOException {
        if (!deferred) {
            return;
        }
        synchronized (handshakeLock) {
            if (deferred) {
                try {
                    DeferredConnect.handshakeWithoutData(FileDescriptors.of(channel), remote, handshakeTimeout());
                } catch (IOException e) {
                    closeAfterFailedConnect(e);
                    throw e;
                } finally {
                    deferred = false;
                }
            }
        }
    }

    /** The first write: as much as fits in the SYN, then the handshake; returns how many bytes went. */
    private int firstWrite(byte[] b, int off, int len) throws IOException {
        synchronized (handshakeLock) {
            if (!deferred) {
                return 0;
            }
            try {
                return DeferredConnect.sendInSyn(FileDescriptors.of(channel), b, off, len, remote, handshakeTimeout());
            } catch (IOException e) {
                closeAfterFailedConnect(e);
                throw e;
            } finally {
                deferred = false;
            }
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
                    finishDeferredConnect();
                    return plain.read();
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    finishDeferredConnect();
                    return plain.read(b, off, len);
                }

                @Override
                public int available() throws IOException {
                    return deferred ? 0 : plain.available();
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
                    if (deferred && len > 0) {
                        int sent = firstWrite(b, off, len);
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
        finishDeferredConnect();
        delegate.shutdownOutput();
    }

    @Override
    public void shutdownInput() throws IOException {
        finishDeferredConnect();
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
        finishDeferredConnect();
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
        return "FastOpenSocket[" + delegate + (deferred ? ", connect deferred" : "") + "]";
    }
}
