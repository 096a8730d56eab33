package io.tfo4j.http;

import io.tfo4j.FastOpen;
import io.tfo4j.FastOpenKeys;
import io.tfo4j.FastOpenStatus;
import org.eclipse.jetty.io.ManagedSelector;
import org.eclipse.jetty.io.SelectorManager;
import org.eclipse.jetty.io.SocketChannelEndPoint;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.Scheduler;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Set;
import java.util.concurrent.Executor;

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
 *
 * <p>Fast Open pays off on short connections, so the connector is set up for them: the selector accepts
 * (no acceptor thread), sets up each connection itself and, for HTTP/1, clears it away too (no hand-off to
 * a pool thread), and a connection the server is done with ({@code Connection: close}) is closed at once
 * when the client has sent nothing more, rather than half-closed until the client's FIN comes.
 */
public class FastOpenServerConnector extends ServerConnector {
    /** ManagedSelector's per-connection tasks that {@link #newSelectorManager} may run without a hand-off. */
    private static final Set<String> INLINE_TASKS = Set.of("Accept", "DestroyEndPoint");
    /** The task's name when it is one of {@link #INLINE_TASKS}, else null. */
    private static final ClassValue<String> INLINE_TASK = new ClassValue<>() {
        @Override
        protected String computeValue(Class<?> type) {
            return type.getEnclosingClass() == ManagedSelector.class && INLINE_TASKS.contains(type.getSimpleName())
                    ? type.getSimpleName() : null;
        }
    };

    private final int queueLength;
    private volatile FastOpenKeys keys;
    private volatile boolean noCookie;
    /** Whether closed connections are cleared away on the selector thread; decided at start, see {@link #doStart()}. */
    private volatile boolean destroyInline;
    private volatile FastOpenStatus status = new FastOpenStatus(false, "the connector is not open yet", "start the server");

    /**
     * A connector with {@code queueLength} as the Fast Open queue: the most connections that may wait in
     * SYN_RECV with accepted SYN data (nginx's {@code fastopen=256} is the same number).
     */
    public FastOpenServerConnector(Server server, int queueLength, ConnectionFactory... factories) {
        this(server, factories, queueLength);
        if (queueLength < 1) {
            throw new IllegalArgumentException("the Fast Open queue length must be at least 1, got " + queueLength);
        }
    }

    private FastOpenServerConnector(Server server, ConnectionFactory[] factories, int queueLength) {
        // No acceptor threads: the selector accepts, one thread hand-off less per connection (measured: about
        // 15-20% less server CPU per connection-per-request; docs/benchmarks.md).
        super(server, 0, 1, factories);
        this.queueLength = queueLength;
    }

    /** The same connector, tuned for short connections alike, with a listener that does not take data in the SYN. */
    static FastOpenServerConnector withoutFastOpen(Server server, ConnectionFactory... factories) {
        FastOpenServerConnector connector = new FastOpenServerConnector(server, factories, 0);
        connector.status = new FastOpenStatus(false, "Fast Open was not asked for", "start the server with fastOpen(queueLength)");
        return connector;
    }

    /**
     * A connector like {@link #FastOpenServerConnector(Server, int, ConnectionFactory...)} whose listener
     * carries {@code keys} (see {@link #setKeys(FastOpenKeys)}).
     */
    public FastOpenServerConnector(Server server, int queueLength, FastOpenKeys keys, ConnectionFactory... factories) {
        this(server, queueLength, factories);
        this.keys = keys;
    }

    /**
     * The Fast Open server keys for the listener ({@code TCP_FASTOPEN_KEY}), so that the servers behind one
     * address accept each other's cookies; null (the default) keeps the network namespace's key. Applied when
     * the connector opens its listener, right after Fast Open is turned on; set it before {@code start()}.
     * To give the live listener new keys, use {@link #applyKeys(FastOpenKeys)}.
     */
    public void setKeys(FastOpenKeys keys) {
        this.keys = keys;
    }

    /**
     * Gives the listener these keys now when it is open (and at every later open): for keys that change while
     * the server runs, as a {@link io.tfo4j.FastOpenKeyFileWatcher} hands them on.
     *
     * @throws IOException when the kernel refuses them (see {@link FastOpen#setServerKeys})
     */
    public void applyKeys(FastOpenKeys keys) throws IOException {
        this.keys = keys;
        if (getTransport() instanceof ServerSocketChannel channel && channel.isOpen()) {
            FastOpen.setServerKeys(channel, keys.primary(), keys.backup());
        }
    }

    /** The keys given with {@link #setKeys(FastOpenKeys)}, or null. */
    public FastOpenKeys getKeys() {
        return keys;
    }

    /**
     * Accept data in the SYN without a cookie ({@code TCP_FASTOPEN_NO_COOKIE} on the listener): only on a
     * network where client addresses can be trusted, since anyone who can reach the port can then make the
     * server run SYN data without proving their address. Set it before {@code start()}.
     */
    public void setNoCookie(boolean noCookie) {
        this.noCookie = noCookie;
    }

    /** Whether {@link #setNoCookie(boolean)} was set. */
    public boolean isNoCookie() {
        return noCookie;
    }

    /** Whether the listener accepts data in the SYN, and if not why not; known once the connector is open. */
    public FastOpenStatus fastOpenStatus() {
        return status;
    }

    @Override
    protected SelectorManager newSelectorManager(Executor executor, Scheduler scheduler, int selectors) {
        return new ServerConnectorManager(executor, scheduler, selectors) {
            /**
             * Jetty hands two small tasks of every connection to a pool thread: setting up the endpoint of a
             * connection just accepted and the bookkeeping after it closed. On a loaded server each hand-off
             * costs a thread wake-up and a selector wake-up, more than the task itself, so they run on the
             * selector thread (the bookkeeping only for HTTP/1 connections, see {@link #doStart()}). Anything
             * else (the selector's own loop) goes to the pool.
             */
            @Override
            protected void execute(Runnable task) {
                String inline = INLINE_TASK.get(task.getClass());
                if ("Accept".equals(inline) || ("DestroyEndPoint".equals(inline) && destroyInline)) {
                    task.run();
                } else {
                    super.execute(task);
                }
            }
        };
    }

    /**
     * Clears closed connections away on the selector thread only when every connection factory is plain
     * HTTP/1 ({@link HttpConnectionFactory}). The bookkeeping after an HTTP/2 connection closed takes its
     * session container's lock, and the close starts it while holding the TLS endpoint's lock; a server
     * stopping at that moment holds the first and waits for the second: a deadlock
     * ({@code FastOpenServerConnectorTest} reproduces it). On a pool thread it runs after the endpoint's lock is released, as
     * Jetty does by default.
     */
    @Override
    protected void doStart() throws Exception {
        destroyInline = getConnectionFactories().stream().allMatch(HttpConnectionFactory.class::isInstance);
        super.doStart();
    }

    @Override
    protected SocketChannelEndPoint newEndPoint(SocketChannel channel, ManagedSelector selector, SelectionKey key) {
        SocketChannelEndPoint endPoint = new PromptCloseEndPoint(channel, selector, key, getScheduler(),
                () -> getServer().getRequestLog() != null);
        endPoint.setIdleTimeout(getIdleTimeout());
        return endPoint;
    }

    @Override
    protected ServerSocketChannel openAcceptChannel() throws IOException {
        InetSocketAddress address = getHost() == null
                ? new InetSocketAddress(getPort()) : new InetSocketAddress(getHost(), getPort());
        ServerSocketChannel channel = ServerSocketChannel.open();
        try {
            channel.setOption(StandardSocketOptions.SO_REUSEADDR, getReuseAddress());
            if (queueLength > 0) {
                status = FastOpen.enableServer(channel, queueLength);
            }
            FastOpenKeys given = keys;
            if (given != null) {
                FastOpen.setServerKeys(channel, given.primary(), given.backup());
            }
            if (noCookie) {
                FastOpen.setNoCookie(channel, true);
            }
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
