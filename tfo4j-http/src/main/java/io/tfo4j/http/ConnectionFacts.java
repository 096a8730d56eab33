package io.tfo4j.http;

import io.tfo4j.ServerOutcome;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.SocketChannelEndPoint;
import org.eclipse.jetty.io.ssl.SslConnection;
import org.eclipse.jetty.server.ConnectionMetaData;
import org.eclipse.jetty.server.Request;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How the connection under a Jetty request came in, read once per connection from TCP_INFO, and which
 * request on that connection a request is. Shared by {@link EarlyDataHandler} and
 * {@link FastOpenRequestLog}, so that both agree on whether a request arrived in the SYN.
 */
final class ConnectionFacts {
    private static final String CONNECTION_ATTRIBUTE = ConnectionFacts.class.getName();
    private static final String REQUEST_ATTRIBUTE = ConnectionFacts.class.getName() + ".request";

    /** How one request relates to its connection's Fast Open handshake. */
    record RequestFacts(int index, boolean fastOpenChild, boolean connectionSynData, boolean tls,
                        SocketChannel channel) {
        /**
         * True when this request, or its beginning, came in the SYN: the first request on a plain connection
         * whose SYN carried data. Never under TLS, where the SYN carried the ClientHello and every request
         * came after a TLS handshake that needed the TCP handshake complete.
         */
        boolean arrivedInSyn() {
            return index == 1 && connectionSynData && !tls;
        }

        /**
         * The access log's word for it: syn-data (the request came in the SYN), syn-clienthello (the first
         * request on a TLS connection whose SYN carried the ClientHello), tfo (a Fast Open connection, this
         * request not in the SYN) or plain.
         */
        String label() {
            if (arrivedInSyn()) {
                return "syn-data";
            }
            return index == 1 && connectionSynData ? "syn-clienthello" : fastOpenChild ? "tfo" : "plain";
        }
    }

    private final boolean fastOpenChild;
    private final boolean synData;
    private final boolean tls;
    private final SocketChannel channel;
    private final AtomicInteger requests = new AtomicInteger();

    private ConnectionFacts(boolean fastOpenChild, boolean synData, boolean tls, SocketChannel channel) {
        this.fastOpenChild = fastOpenChild;
        this.synData = synData;
        this.tls = tls;
        this.channel = channel;
    }

    /** The facts for {@code request}; the first call for a request numbers it (1 for the first request on its connection). */
    static RequestFacts of(Request request) {
        Object known = request.getAttribute(REQUEST_ATTRIBUTE);
        if (known instanceof RequestFacts facts) {
            return facts;
        }
        ConnectionFacts connection = of(request.getConnectionMetaData());
        int index = connection.requests.incrementAndGet();
        RequestFacts facts = new RequestFacts(index, connection.fastOpenChild, connection.synData, connection.tls,
                connection.channel);
        request.setAttribute(REQUEST_ATTRIBUTE, facts);
        return facts;
    }

    /**
     * Reads the connection's facts now, if they are not known yet: for a connection about to be closed
     * before its request log runs ({@link PromptCloseEndPoint}), when TCP_INFO can no longer be read.
     */
    static void remember(ConnectionMetaData connection) {
        of(connection);
    }

    private static ConnectionFacts of(ConnectionMetaData connection) {
        Object known = connection.getAttribute(CONNECTION_ATTRIBUTE);
        if (known instanceof ConnectionFacts facts) {
            return facts;
        }
        ConnectionFacts facts = read(connection);
        connection.setAttribute(CONNECTION_ATTRIBUTE, facts);
        return facts;
    }

    private static ConnectionFacts read(ConnectionMetaData connection) {
        EndPoint endPoint = connection.getConnection() == null ? null : connection.getConnection().getEndPoint();
        boolean tls = endPoint instanceof SslConnection.SslEndPoint;
        if (endPoint instanceof SslConnection.SslEndPoint decrypted) {
            endPoint = decrypted.getSslConnection().getEndPoint();
        }
        if (!(endPoint instanceof SocketChannelEndPoint socket)) {
            return new ConnectionFacts(false, false, tls, null);
        }
        try {
            ServerOutcome outcome = ServerOutcome.of(socket.getChannel());
            return new ConnectionFacts(outcome.fastOpenChild(), outcome.synData(), tls, socket.getChannel());
        } catch (IOException | RuntimeException e) {
            // Without TCP_INFO (no --add-exports flag) Fast Open could not have been enabled on the listener
            // either, so no request can have come in a SYN.
            return new ConnectionFacts(false, false, tls, null);
        }
    }
}
