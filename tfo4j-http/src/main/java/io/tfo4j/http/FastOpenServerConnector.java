package io.tfo4j.http;

import io.tfo4j.FastOpen;
import io.tfo4j.FastOpenKeys;
import io.tfo4j.FastOpenStatus;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.ManagedSelector;
import org.eclipse.jetty.io.SelectorManager;
import org.eclipse.jetty.io.SocketChannelEndPoint;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.Scheduler;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.lang.management.ManagementFactory;
import java.net.StandardSocketOptions;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

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
 *
 * <p>Limits ({@link #setMaxConnections(int)}) and faults on the way in are said once per episode on the
 * {@linkplain #setProblemLog problem log}, not once per connection. When an accept fails for want of file
 * descriptors ({@code EMFILE}, {@code ENFILE}), Jetty's own accept loop (Jetty 12.1.14, a selector that accepts)
 * logs a warning with a stack trace for each failure and closes the connection it accepted just before, which
 * frees a descriptor for the next accept, which fails again: one connection lost and one warning per failure.
 * This connector instead stops selecting for accepts for {@value #DESCRIPTOR_RETRY_MILLIS} ms at a time, closes
 * nothing, leaves the waiting connections in the backlog, and says so once, with the fix, and once more when
 * accepts have gone well for a second.
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

    /** How long accepting pauses after an accept failed for want of file descriptors, before it tries again. */
    static final long DESCRIPTOR_RETRY_MILLIS = 100;
    /** How long the connection limit must stay clear, or accepts go well, before the problem log says so. */
    static final long LIMIT_QUIET_MILLIS = 1000;

    private final int queueLength;
    private volatile Consumer<String> problemLog = LoggerFactory.getLogger(FastOpenServerConnector.class)::warn;
    private volatile long requestHeadTimeoutNanos;
    private volatile Scheduler.Task headSweep;
    /** What Jetty (or the connection limit) asked for with {@link #setAccepting(boolean)}. */
    private volatile boolean acceptingWanted = true;
    private volatile boolean pausedForDescriptors;
    /** The selector that accepts: this connector has one. */
    private volatile ManagedSelector acceptSelector;
    /** True from the first accept that failed for want of descriptors until accepts have gone well for a while. */
    private volatile boolean descriptorEpisode;
    private final Object descriptorLock = new Object();
    private long descriptorEpisodeStart;
    private long lastDescriptorFailure;
    private long descriptorFailures;
    private boolean recoveryCheckScheduled;
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

    /**
     * Where the connector says that a limit was reached or cleared, or that accepting failed for want of file
     * descriptors and recovered: one line per change. Default: a warning on SLF4J's
     * {@code io.tfo4j.http.FastOpenServerConnector} logger.
     */
    public void setProblemLog(Consumer<String> log) {
        this.problemLog = Objects.requireNonNull(log, "log");
    }

    /**
     * At most {@code max} connections open at once (Jetty's {@link NetworkConnectionLimit}): at the limit the
     * connector stops accepting, so further clients wait in the listen backlog (their handshake completes
     * there, up to the backlog's length; beyond it the kernel drops their SYNs and they retry) until a
     * connection closes. The problem log gets one line when the limit is reached and one when it has stayed clear
     * for a second. Set it before {@code start()}.
     */
    public void setMaxConnections(int max) {
        if (max < 1) {
            throw new IllegalArgumentException("the connection limit must be at least 1, got " + max);
        }
        addBean(new AnnouncedConnectionLimit(max));
    }

    /** The connection limit set with {@link #setMaxConnections(int)}, or 0 for none. */
    public int getMaxConnections() {
        AnnouncedConnectionLimit limit = getBean(AnnouncedConnectionLimit.class);
        return limit == null ? 0 : limit.getMaxNetworkConnectionCount();
    }

    /**
     * A deadline for each request head, {@link RequestHeadDeadline}; the server's first handler must be a
     * {@link RequestHeadDeadline.HeadCompleteHandler}, which stops the clock. Set it before {@code start()}.
     */
    void setRequestHeadTimeout(Duration timeout) {
        this.requestHeadTimeoutNanos = timeout.toNanos();
    }

    /**
     * Pauses or resumes accepting by the listener's interest in accepts on the selector, rather than as
     * {@code ServerConnector} does on a selector that accepts: it cancels the listener's selection key and
     * registers the listener again, and when both happen within one turn of the selector (a connection limit
     * reached and cleared at once, as soon as one connection closes under load) the registration meets the
     * cancelled key and Jetty closes the listening socket (Jetty 12.1.14, {@code CancelledKeyException}: "Unable
     * to register OP_ACCEPT"; {@code SlowClientsTest} ran into it). Connections that are not accepted wait in the
     * listen backlog.
     */
    @Override
    public void setAccepting(boolean accepting) {
        acceptingWanted = accepting;
        applyAccepting();
    }

    /** Whether the connector accepts now: asked to, and not pausing for file descriptors. */
    @Override
    public boolean isAccepting() {
        return acceptingWanted && !pausedForDescriptors;
    }

    private void applyAccepting() {
        ManagedSelector selector = acceptSelector;
        if (selector == null) {
            return; // not started: the listener is registered with accepts on at start
        }
        selector.submit(nioSelector -> {
            if (getTransport() instanceof ServerSocketChannel channel) {
                SelectionKey key = channel.keyFor(nioSelector);
                if (key != null && key.isValid()) {
                    key.interestOps(isAccepting() ? SelectionKey.OP_ACCEPT : 0);
                }
            }
        });
    }

    /** Whether the listener accepts data in the SYN, and if not why not; known once the connector is open. */
    public FastOpenStatus fastOpenStatus() {
        return status;
    }

    @Override
    protected SelectorManager newSelectorManager(Executor executor, Scheduler scheduler, int selectors) {
        return new ServerConnectorManager(executor, scheduler, selectors) {
            @Override
            protected ManagedSelector newSelector(int id) {
                ManagedSelector selector = super.newSelector(id);
                acceptSelector = selector;
                return selector;
            }

            @Override
            protected SelectableChannel doAccept(SelectableChannel server) throws IOException {
                if (!isAccepting()) {
                    // At the connection limit (or pausing): leave the rest in the backlog rather than accept and
                    // close them, which is what Jetty's limit would do to those the accept loop takes meanwhile.
                    return null;
                }
                try {
                    SelectableChannel accepted = super.doAccept(server);
                    if (accepted != null && descriptorEpisode) {
                        checkRecoverySoon();
                    }
                    return accepted;
                } catch (IOException e) {
                    if (!outOfDescriptors(e)) {
                        throw e;
                    }
                    pauseForDescriptors(e);
                    return null;
                }
            }

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
        descriptorEpisode = false;
        pausedForDescriptors = false;
        acceptingWanted = true;
        super.doStart();
        if (requestHeadTimeoutNanos > 0) {
            scheduleHeadSweep();
        }
    }

    @Override
    protected void doStop() throws Exception {
        Scheduler.Task sweep = headSweep;
        if (sweep != null) {
            sweep.cancel();
        }
        super.doStop();
    }

    /** Looks for late request heads every tenth of the timeout (at least every second, at most every 20 ms). */
    private void scheduleHeadSweep() {
        long period = Math.clamp(requestHeadTimeoutNanos / 10, TimeUnit.MILLISECONDS.toNanos(20), TimeUnit.SECONDS.toNanos(1));
        headSweep = getScheduler().schedule(() -> {
            if (!isRunning()) {
                return;
            }
            long now = System.nanoTime();
            for (EndPoint endPoint : getConnectedEndPoints()) {
                if (endPoint instanceof PromptCloseEndPoint prompt && prompt.headDeadline() != null) {
                    prompt.headDeadline().expireIfLate(prompt, now);
                }
            }
            scheduleHeadSweep();
        }, period, TimeUnit.NANOSECONDS);
    }

    private static boolean outOfDescriptors(IOException e) {
        // The JDK's text for EMFILE and ENFILE (strerror), the only trace of the errno it keeps.
        String message = e.getMessage();
        return message != null && message.startsWith("Too many open files");
    }

    /** Stops selecting for accepts for a while; the first failure of an episode is logged with its fix. */
    private void pauseForDescriptors(IOException e) {
        boolean first;
        synchronized (descriptorLock) {
            first = !descriptorEpisode;
            long now = System.nanoTime();
            if (first) {
                descriptorEpisode = true;
                descriptorEpisodeStart = now;
                descriptorFailures = 0;
            }
            descriptorFailures++;
            lastDescriptorFailure = now;
        }
        if (first) {
            int limit = getMaxConnections();
            problemLog.accept("cannot accept connections: " + e.getMessage() + descriptorLimit()
                    + "; the waiting connections stay in the listen backlog and are accepted once descriptors free up"
                    + " (retrying every " + DESCRIPTOR_RETRY_MILLIS + " ms; said once per episode)."
                    + " Fix: raise the open file limit (ulimit -n, LimitNOFILE= in systemd) or lower the connection limit"
                    + (limit > 0 ? " (now " + limit + ")" : "") + " well below it");
        }
        pausedForDescriptors = true;
        applyAccepting();
        getScheduler().schedule(() -> {
            pausedForDescriptors = false;
            if (isRunning()) {
                applyAccepting();
            }
        }, DESCRIPTOR_RETRY_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** An accept went well during an episode: it is over once no accept has failed for a quiet while. */
    private void checkRecoverySoon() {
        synchronized (descriptorLock) {
            if (recoveryCheckScheduled) {
                return;
            }
            recoveryCheckScheduled = true;
        }
        getScheduler().schedule(() -> {
            String line;
            synchronized (descriptorLock) {
                recoveryCheckScheduled = false;
                long now = System.nanoTime();
                if (!descriptorEpisode || now - lastDescriptorFailure < TimeUnit.MILLISECONDS.toNanos(LIMIT_QUIET_MILLIS) * 9 / 10) {
                    return; // a later accept that goes well looks again
                }
                descriptorEpisode = false;
                line = String.format(Locale.ROOT, "accepting connections again: %d accepts failed for want of file"
                        + " descriptors over %.1f s", descriptorFailures, (lastDescriptorFailure - descriptorEpisodeStart) / 1e9);
            }
            problemLog.accept(line);
        }, LIMIT_QUIET_MILLIS, TimeUnit.MILLISECONDS);
    }

    /**
     * " (the limit is N file descriptors)", or nothing where the JVM cannot say. Not the count of those open:
     * counting them opens a directory, which needs a descriptor too.
     */
    private static String descriptorLimit() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
            return " (the open file limit is " + unix.getMaxFileDescriptorCount() + ")";
        }
        return "";
    }

    /**
     * Jetty's limit, saying on the problem log when it is reached and when it has cleared. Under a steady
     * overload the limit is reached again each time a connection closes and one that waited takes its place, so
     * an episode ends only when the limit has stayed clear for {@value #LIMIT_QUIET_MILLIS} ms: two lines per
     * overload, not two per connection.
     */
    private final class AnnouncedConnectionLimit extends NetworkConnectionLimit {
        private boolean limiting;
        private boolean episode;
        private long episodeStart;
        private long clearedAt;
        private int reached;

        AnnouncedConnectionLimit(int max) {
            super(max, FastOpenServerConnector.this);
        }

        @Override
        protected void limit() {
            super.limit();
            synchronized (this) {
                limiting = true;
                reached++;
                if (episode) {
                    return;
                }
                episode = true;
                episodeStart = System.nanoTime();
            }
            problemLog.accept("connection limit reached: " + getMaxNetworkConnectionCount()
                    + " connections open; new connections wait in the listen backlog until one closes"
                    + " (said once per episode)");
        }

        @Override
        protected void unlimit() {
            super.unlimit();
            synchronized (this) {
                limiting = false;
                clearedAt = System.nanoTime();
            }
            getScheduler().schedule(this::endEpisodeIfQuiet, LIMIT_QUIET_MILLIS, TimeUnit.MILLISECONDS);
        }

        private void endEpisodeIfQuiet() {
            int max = getMaxNetworkConnectionCount(); // its lock before ours, as in limit() and unlimit()
            String line;
            synchronized (this) {
                long now = System.nanoTime();
                if (!episode || limiting || now - clearedAt < TimeUnit.MILLISECONDS.toNanos(LIMIT_QUIET_MILLIS) * 9 / 10) {
                    return;
                }
                episode = false;
                line = String.format(Locale.ROOT, "connection limit cleared: below %d connections for %d ms,"
                        + " after %.1f s at the limit (reached %d times)", max,
                        LIMIT_QUIET_MILLIS, (clearedAt - episodeStart) / 1e9, reached);
                reached = 0;
            }
            problemLog.accept(line);
        }
    }

    @Override
    protected SocketChannelEndPoint newEndPoint(SocketChannel channel, ManagedSelector selector, SelectionKey key) {
        long headTimeout = requestHeadTimeoutNanos;
        SocketChannelEndPoint endPoint = new PromptCloseEndPoint(channel, selector, key, getScheduler(),
                () -> getServer().getRequestLog() != null, headTimeout > 0 ? new RequestHeadDeadline(headTimeout) : null);
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
