package io.tfo4j;

import java.io.IOException;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.time.Duration;

/**
 * The {@link Socket} that {@link FastOpenSocketFactory} makes: a plain {@code java.net.Socket} whose
 * implementation is {@link FastOpenSocketImpl}, a JDK socket channel with Fast Open and its deferred
 * connect handled. Everything else (state, checks, options, streams that close the socket) is the JDK's
 * own {@code Socket}. {@link #getChannel()} is null, as for any socket not made by a channel: reading the
 * channel directly would bypass the deferred-connect handling. While open it is known to
 * {@link LayeredSockets}, so that the outcome of a TLS socket layered on it can be read.
 */
final class FastOpenSocket extends Socket {
    private final FastOpenSocketImpl impl;

    FastOpenSocket(boolean fastOpen, Duration firstWriteWindow) throws IOException {
        FastOpenSocketImpl impl = new FastOpenSocketImpl(fastOpen, firstWriteWindow);
        super(impl);
        this.impl = impl;
        impl.closeOnFailedConnect(this);
        LayeredSockets.opened(this);
    }

    /** The channel under this socket; open until the socket is closed. */
    SocketChannel channel() {
        return impl.channel();
    }

    /** See {@link FastOpenSocketImpl#expiredFirstWriteWindow()}. */
    Duration expiredFirstWriteWindow() {
        return impl.expiredFirstWriteWindow();
    }

    /** Switches Fast Open on before connect; see {@link FastOpen#enableClient(Socket)}. */
    FastOpenStatus enableFastOpen() throws IOException {
        return impl.enableFastOpen();
    }

    /** Also closes a channel that {@code Socket} never used (it closes its implementation only once used). */
    @Override
    public void close() throws IOException {
        LayeredSockets.closed(this);
        super.close();
        impl.close();
    }
}
