package io.tfo4j.http;

import io.tfo4j.ServerOutcome;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.SocketChannelEndPoint;
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
    record RequestFacts(int index, boolean fastOpenChild, boolean connectionSynData, boolean arrivedInSyn,
                        SocketChannel channel) {
        /** The access log's word for it: syn-data, tfo (a Fast Open connection, request not in the SYN) or plain. */
        String label() {
            return arrivedInSyn ? "syn-data" : fastOpenChild ? "tfo" : "plain";
        }
    }

    private final boolean fastOpenChild;
    private final boolean synData;
    private final SocketChannel channel;
    private final AtomicInteger requests = new AtomicInteger();

    private ConnectionFacts(boolean fastOpenChild, boolean synData, SocketChannel channel) {
        this.fastOpenChild = fastOpenChild;
        this.synData = synData;
        this.channel = channel;
    }

    /**
     * The facts for {@code request}; the first call for a request numbers it (1 for the first request on
     * its connection). A request counts as having arrived in the SYN when it is the first on a connection
     * whose SYN carried data (the SYN may have carried only its beginning).
     */
    static RequestFacts of(Request request) {
        Object known = request.getAttribute(REQUEST_ATTRIBUTE);
        if (known instanceof RequestFacts facts) {
            return facts;
        }
        ConnectionFacts connection = of(request.getConnectionMetaData());
        int index = connection.requests.incrementAndGet();
        RequestFacts facts = new RequestFacts(index, connection.fastOpenChild, connection.synData,
                index == 1 && connection.synData,
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
        SocketChannel channel = channelOf(connection);
        if (channel == null) {
            return new ConnectionFacts(false, false, null);
        }
        try {
            ServerOutcome outcome = ServerOutcome.of(channel);
            return new ConnectionFacts(outcome.fastOpenChild(), outcome.synData(), channel);
        } catch (IOException | RuntimeException e) {
            // Without TCP_INFO (no --add-exports flag) Fast Open could not have been enabled on the listener
            // either, so no request can have come in a SYN.
            return new ConnectionFacts(false, false, null);
        }
    }

    /** The kernel socket under a Jetty connection, or null when it is not a plain TCP channel. */
    static SocketChannel channelOf(ConnectionMetaData connection) {
        EndPoint endPoint = connection.getConnection() == null ? null : connection.getConnection().getEndPoint();
        return endPoint instanceof SocketChannelEndPoint socket ? socket.getChannel() : null;
    }
}
