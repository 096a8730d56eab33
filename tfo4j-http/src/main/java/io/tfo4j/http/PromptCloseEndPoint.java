package io.tfo4j.http;

import org.eclipse.jetty.io.ManagedSelector;
import org.eclipse.jetty.io.SocketChannelEndPoint;
import org.eclipse.jetty.io.ssl.SslConnection;
import org.eclipse.jetty.server.ConnectionMetaData;
import org.eclipse.jetty.util.thread.Scheduler;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.function.BooleanSupplier;

/**
 * A Jetty endpoint that closes a connection as soon as the server is done with it, as nginx does. Jetty ends
 * a {@code Connection: close} exchange by half-closing (shutdown of the sending side), then waits for the
 * client's FIN: one more selector wake-up, a read of end-of-stream and two exceptions Jetty throws and
 * catches on the way, about a fifth of the server's CPU time on a connection-per-request load. When the client
 * has sent nothing more, the close is the same to the client (the answer and a FIN), so this closes at once;
 * when more has come (a request body the answer did not wait for), it half-closes as Jetty does, so that the
 * client can still read the answer instead of a reset.
 *
 * <p>It also carries the connection's {@link RequestHeadDeadline}, and tells it when bytes come in.
 *
 * <p>Jetty writes its request log after this close, when the socket's TCP_INFO can no longer be read; so when
 * there is a request log, the connection's Fast Open facts ({@link ConnectionFacts}) are read first.
 */
final class PromptCloseEndPoint extends SocketChannelEndPoint {
    private final BooleanSupplier requestLogged;
    private final RequestHeadDeadline headDeadline;

    PromptCloseEndPoint(SocketChannel channel, ManagedSelector selector, SelectionKey key, Scheduler scheduler,
                        BooleanSupplier requestLogged, RequestHeadDeadline headDeadline) {
        super(channel, selector, key, scheduler);
        this.requestLogged = requestLogged;
        this.headDeadline = headDeadline;
    }

    /** The connection's request head deadline, or null when there is none. */
    RequestHeadDeadline headDeadline() {
        return headDeadline;
    }

    @Override
    public int fill(ByteBuffer buffer) throws IOException {
        int read = super.fill(buffer);
        if (read > 0 && headDeadline != null) {
            headDeadline.bytesRead();
        }
        return read;
    }

    @Override
    protected void doShutdownOutput() {
        if (nothingMoreToRead()) {
            if (requestLogged.getAsBoolean() && httpConnection() instanceof ConnectionMetaData connection) {
                ConnectionFacts.remember(connection);
            }
            close(); // Jetty's state machine calls doOnClose once this returns
        } else {
            super.doShutdownOutput();
        }
    }

    /** The HTTP connection on this endpoint: the one on TLS's decrypted side when it is a TLS connection. */
    private Object httpConnection() {
        return getConnection() instanceof SslConnection tls ? tls.getSslEndPoint().getConnection() : getConnection();
    }

    /** True when the client has sent nothing this connection has not read, or has closed its side. */
    private boolean nothingMoreToRead() {
        try {
            // Jetty discards whatever comes after it has decided to close, so a byte read here loses nothing.
            return getChannel().read(ByteBuffer.allocate(1)) <= 0;
        } catch (IOException e) {
            return true; // reset or broken: nobody is left to read an answer
        }
    }
}
