package io.tfo4j.http;

import io.tfo4j.FastOpen;
import io.tfo4j.FastOpenStatus;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;

/**
 * A Jetty 12 {@link ServerConnector} whose listener accepts data in the SYN:
 *
 * <pre>{@code
 * FastOpenServerConnector connector = new FastOpenServerConnector(server, 256, new HttpConnectionFactory());
 * connector.setPort(8080);
 * server.addConnector(connector);
 * server.start();
 * connector.fastOpenStatus(); // active, or why not and what to do
 * }</pre>
 *
 * <p>It sets {@code TCP_FASTOPEN} on the listening channel before binding it, so no SYN can arrive between
 * bind and setsockopt and go without a cookie. Needs Linux 3.7+, the sysctl bit 0x2
 * ({@code sysctl -w net.ipv4.tcp_fastopen=3}, per network namespace) and tfo4j-core's JVM flags; without
 * them the connector works as a plain one and {@link #fastOpenStatus()} says why. Wrap the application in
 * an {@link EarlyDataHandler} unless every handler is safe to run twice.
 */
public class FastOpenServerConnector extends ServerConnector {
    private final int queueLength;
    private volatile FastOpenStatus status = new FastOpenStatus(false, "the connector is not open yet", "start the server");

    /**
     * A connector with {@code queueLength} as the Fast Open queue: the most connections that may wait in
     * SYN_RECV with accepted SYN data (nginx's {@code fastopen=256} is the same number).
     */
    public FastOpenServerConnector(Server server, int queueLength, ConnectionFactory... factories) {
        // No acceptor threads: the selector accepts, one thread hand-off less per connection (measured: about
        // 15-20% less server CPU per connection-per-request; docs/benchmarks.md).
        super(server, 0, 1, factories);
        if (queueLength < 1) {
            throw new IllegalArgumentException("the Fast Open queue length must be at least 1, got " + queueLength);
        }
        this.queueLength = queueLength;
    }

    /** Whether the listener accepts data in the SYN, and if not why not; known once the connector is open. */
    public FastOpenStatus fastOpenStatus() {
        return status;
    }

    @Override
    protected ServerSocketChannel openAcceptChannel() throws IOException {
        InetSocketAddress address = getHost() == null
                ? new InetSocketAddress(getPort()) : new InetSocketAddress(getHost(), getPort());
        ServerSocketChannel channel = ServerSocketChannel.open();
        try {
            channel.setOption(StandardSocketOptions.SO_REUSEADDR, getReuseAddress());
            status = FastOpen.enableServer(channel, queueLength);
            channel.bind(address, getAcceptQueueSize());
            return channel;
        } catch (BindException e) {
            channel.close();
            BindException named = new BindException("cannot listen on " + address + ": " + e.getMessage()
                    + " (another process uses the port, or the address is not on this host)");
            named.initCause(e);
            throw named;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }
}
