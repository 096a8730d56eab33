package io.tfo4j.agent.jdk25;

import io.tfo4j.ClientOutcome;
import io.tfo4j.FastOpen;
import io.tfo4j.FastOpenStatus;
import io.tfo4j.TcpInfo;
import io.tfo4j.TcpState;
import io.tfo4j.agent.bootstrap.Hooks;
import io.tfo4j.agent.common.AgentLog;
import io.tfo4j.agent.common.AgentOptions;
import io.tfo4j.agent.common.AgentStats;
import io.tfo4j.agent.common.ListenPorts;
import java.io.FileDescriptor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Client connections on listed ports: {@code TCP_FASTOPEN_CONNECT} before the JDK connects, then, once
 * the kernel's connect has returned, the connection is watched until its first read or write, so that
 * nothing ever waits on a SYN that was never sent.
 *
 * <p>With a cookie cached the kernel's connect returns at once and sends nothing: the SYN leaves with the
 * first write, carrying its bytes. Three things can come first, and each sends the SYN:
 * <ul>
 *   <li>a write: its bytes ride in the SYN, unless {@code early=safe} finds an HTTP request that is not
 *       safe; then the SYN goes without data, the write answers "not yet" ({@link Hooks#UNAVAILABLE}), and
 *       the JDK writes again once the socket is writable, that is after the handshake;</li>
 *   <li>a read (a protocol where the server speaks first, read on a blocking socket or a virtual thread):
 *       the SYN goes without data before the read;</li>
 *   <li>nothing, for the first-write window (a selector waiting to read; FTP's data connection): a timer
 *       sends the SYN without data.</li>
 * </ul>
 * After the handshake, the first read after a write in the SYN reads TCP_INFO for the counters.
 *
 * <p>The timer works on a descriptor number the program may have closed meanwhile. If that number was
 * reused, the worst it can do is send the SYN of another deferred connection early, without data: that
 * connection then takes the plain round trip; nothing is lost or sent twice.
 */
final class ClientConnections {
    /** How long after a write in the SYN the outcome is read again when no read came to read it. */
    private static final long[] OUTCOME_CHECKS_MILLIS = {1000, 5000, 30000};

    /** Where a watched connection stands. */
    private enum Phase {
        /** Connected (perhaps deferred); no read or write yet. */
        FIRST_IO_PENDING,
        /** The first write went into the SYN; its outcome is read at the next read or check. */
        DATA_IN_SYN,
        /** The SYN left without data (read first, window closed, or early=safe held the write). */
        SYN_WITHOUT_DATA,
        /** No longer watched: whoever comes next (a read, a write, the timer) must leave it alone. */
        DONE
    }

    static final class Watched {
        final FileDescriptor fd;
        final String destination;
        final long connectNanos = System.nanoTime();
        Phase phase = Phase.FIRST_IO_PENDING;
        ScheduledFuture<?> timer;
        int outcomeChecks;

        Watched(FileDescriptor fd, String destination) {
            this.fd = fd;
            this.destination = destination;
        }
    }

    private final AgentOptions options;
    private final AgentLog log;
    private final AgentStats stats;
    private final ConcurrentHashMap<FileDescriptor, Watched> watched = new ConcurrentHashMap<>();
    private final ScheduledThreadPoolExecutor timers;

    ClientConnections(AgentOptions options, AgentLog log, AgentStats stats) {
        this.options = options;
        this.log = log;
        this.stats = stats;
        this.timers = new ScheduledThreadPoolExecutor(1, task -> {
            Thread thread = new Thread(task, "tfo4j-agent-window");
            thread.setDaemon(true);
            return thread;
        });
        timers.setRemoveOnCancelPolicy(true);
    }

    /** Before the kernel's connect: the option, and the connection to watch once connect returned, or null. */
    Watched beforeConnect(FileDescriptor fd, InetAddress address, int port) {
        if (!options.connects(port)) {
            return null;
        }
        try {
            // The JDK's Net.connect also connects UDP sockets; only TCP sockets answer TCP_INFO.
            TcpInfo.of(fd);
        } catch (IOException | RuntimeException e) {
            return null;
        }
        String destination = ListenPorts.hostPort(address, port);
        stats.registerSoon();
        FastOpenStatus status;
        try {
            status = FastOpen.enableClient(fd);
        } catch (IOException | RuntimeException e) {
            status = new FastOpenStatus(false, "setsockopt(TCP_FASTOPEN_CONNECT) failed: " + e.getMessage(), "");
        }
        if (!status.active()) {
            stats.connectionsOff.increment();
            log.once("connect " + destination, "connect " + destination + ": Fast Open off: " + status.reason()
                    + (status.remedy().isEmpty() ? "" : "; " + status.remedy()));
            return null;
        }
        stats.connectionsAttempted.increment();
        log.once("connect " + destination, "connect " + destination + ": Fast Open on: once this host holds the"
                + " server's cookie, the first write rides in the SYN"
                + (options.early() == AgentOptions.Early.SAFE
                        ? " (HTTP requests other than GET, HEAD, OPTIONS and TRACE wait for the handshake)" : ""));
        return new Watched(fd, destination);
    }

    /**
     * After the kernel's connect returned (whatever it returned: a failure throws and never gets here):
     * from now on the connection's first read or write, or the window's end, sends its SYN.
     */
    void afterConnect(Watched connection) {
        synchronized (connection) {
            Watched replaced = watched.put(connection.fd, connection);
            if (replaced == null) {
                Hooks.watchConnections(1);
            } else {
                retire(replaced);
            }
            connection.timer = timers.schedule(() -> windowClosed(connection), options.window().toNanos(),
                    TimeUnit.NANOSECONDS);
        }
    }

    int beforeWrite(FileDescriptor fd, long address, int length) throws IOException {
        Watched connection = watched.get(fd);
        if (connection == null) {
            return Hooks.PROCEED;
        }
        return firstWrite(connection, length > 0 ? peek(address, length) : null);
    }

    long beforeWritev(FileDescriptor fd, long iovecs, int count) throws IOException {
        Watched connection = watched.get(fd);
        if (connection == null) {
            return Hooks.PROCEED;
        }
        return firstWrite(connection, peekIovecs(iovecs, count));
    }

    private int firstWrite(Watched connection, byte[] head) throws IOException {
        synchronized (connection) {
            // DONE: the timer or a read dealt with it while this thread waited for the lock.
            if (connection.phase != Phase.FIRST_IO_PENDING || head == null) {
                return Hooks.PROCEED;
            }
            TcpInfo info = tcpInfo(connection);
            if (info == null || info.state() != TcpState.SYN_SENT) {
                // The connect made a whole handshake (no cookie cached yet), or the socket is gone.
                outcome(connection, "first write after a full handshake");
                forget(connection);
                return Hooks.PROCEED;
            }
            cancelTimer(connection);
            if (options.early() == AgentOptions.Early.SAFE && FirstWrite.isUnsafeHttpRequest(head, head.length)) {
                FastOpen.startHandshake(connection.fd);
                connection.phase = Phase.SYN_WITHOUT_DATA;
                stats.synWithoutData.increment();
                log.verbose(() -> "connection to " + connection.destination + ": an HTTP request that is not safe"
                        + " waits for the handshake (early=safe); its SYN left without data " + sinceConnect(connection)
                        + " after connect");
                return Hooks.UNAVAILABLE;
            }
            connection.phase = Phase.DATA_IN_SYN;
            log.verbose(() -> "connection to " + connection.destination + ": first write " + sinceConnect(connection)
                    + " after connect rides in the SYN");
            scheduleOutcomeCheck(connection);
            return Hooks.PROCEED;
        }
    }

    void beforeRead(FileDescriptor fd) {
        Watched connection = watched.get(fd);
        if (connection == null) {
            return;
        }
        synchronized (connection) {
            switch (connection.phase) {
                case FIRST_IO_PENDING -> sendSynWithoutData(connection, "the first operation was a read");
                case DATA_IN_SYN -> {
                    TcpInfo info = tcpInfo(connection);
                    if (info == null || info.state() != TcpState.SYN_SENT) {
                        outcome(connection, "SYN with data");
                        forget(connection);
                    }
                }
                case SYN_WITHOUT_DATA -> forget(connection);
                case DONE -> {
                    // the timer or a write dealt with it while this thread waited for the lock
                }
            }
        }
    }

    private void windowClosed(Watched connection) {
        synchronized (connection) {
            switch (connection.phase) {
                case FIRST_IO_PENDING -> sendSynWithoutData(connection,
                        "nothing was written within " + options.window().toMillis() + " ms");
                case DATA_IN_SYN -> {
                    TcpInfo info = tcpInfo(connection);
                    if (info == null || info.state() != TcpState.SYN_SENT) {
                        outcome(connection, "SYN with data");
                        forget(connection);
                    } else {
                        scheduleOutcomeCheck(connection);
                    }
                }
                case SYN_WITHOUT_DATA -> forget(connection);
                case DONE -> {
                    // a read or a write dealt with it first
                }
            }
        }
    }

    /** A deferred connect whose first operation is not a write: send its SYN now, without data. */
    private void sendSynWithoutData(Watched connection, String why) {
        cancelTimer(connection);
        TcpInfo info = tcpInfo(connection);
        // Deferred: SYN_SENT with no Fast Open failure noted (a connect that sent its SYN asking for a
        // cookie notes "no cookie").
        if (info != null && info.state() == TcpState.SYN_SENT && info.fastOpenClientFail() == 0) {
            try {
                FastOpen.startHandshake(connection.fd);
                stats.synWithoutData.increment();
                log.verbose(() -> "connection to " + connection.destination + ": " + why
                        + ", so its SYN left without data " + sinceConnect(connection) + " after connect");
            } catch (IOException | RuntimeException e) {
                // the read or the JDK's next operation sees the failure
            }
        } else {
            outcome(connection, why);
        }
        forget(connection);
    }

    private static String sinceConnect(Watched connection) {
        return String.format(Locale.ROOT, "%.1f ms", (System.nanoTime() - connection.connectNanos) / 1e6);
    }

    private void scheduleOutcomeCheck(Watched connection) {
        if (connection.outcomeChecks >= OUTCOME_CHECKS_MILLIS.length) {
            forget(connection);
            return;
        }
        long delay = OUTCOME_CHECKS_MILLIS[connection.outcomeChecks++];
        connection.timer = timers.schedule(() -> windowClosed(connection), delay, TimeUnit.MILLISECONDS);
    }

    /** Counts what TCP_INFO says about a connection that has left SYN_SENT (nothing, when it is gone). */
    private void outcome(Watched connection, String context) {
        ClientOutcome outcome;
        try {
            outcome = ClientOutcome.of(connection.fd);
        } catch (IOException | RuntimeException e) {
            return;
        }
        switch (outcome.result()) {
            case SYN_DATA_ACKED -> stats.synDataAcknowledged.increment();
            case COOKIE_REQUESTED -> stats.cookieRequested.increment();
            case PENDING -> {
                return;
            }
            default -> stats.fallbacks.increment();
        }
        log.verbose(() -> "connection to " + connection.destination + " (" + context + "): " + outcome.result()
                + " - " + outcome.reason());
    }

    private static TcpInfo tcpInfo(Watched connection) {
        try {
            return TcpInfo.of(connection.fd);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private void cancelTimer(Watched connection) {
        if (connection.timer != null) {
            connection.timer.cancel(false);
            connection.timer = null;
        }
    }

    private void forget(Watched connection) {
        retire(connection);
        if (watched.remove(connection.fd, connection)) {
            Hooks.watchConnections(-1);
        }
    }

    /** Marks a connection no longer watched, so that a read, a write or the timer that comes later leaves it alone. */
    private void retire(Watched connection) {
        synchronized (connection) {
            cancelTimer(connection);
            connection.phase = Phase.DONE;
        }
    }

    /** The first bytes at a native address the JDK is about to write from. */
    private static byte[] peek(long address, int length) {
        return MemorySegment.ofAddress(address).reinterpret(Math.min(length, FirstWrite.PEEK_BYTES))
                .toArray(JAVA_BYTE);
    }

    /** The first bytes of a gathering write: {@code count} {@code struct iovec {void *base; size_t len;}}. */
    private static byte[] peekIovecs(long iovecs, int count) {
        MemorySegment vector = MemorySegment.ofAddress(iovecs).reinterpret(16L * count);
        byte[] head = new byte[FirstWrite.PEEK_BYTES];
        int filled = 0;
        for (int i = 0; i < count && filled < head.length; i++) {
            long base = vector.get(JAVA_LONG, 16L * i);
            long length = vector.get(JAVA_LONG, 16L * i + 8);
            int take = (int) Math.min(length, head.length - filled);
            if (take > 0) {
                MemorySegment.copy(MemorySegment.ofAddress(base).reinterpret(take), JAVA_BYTE, 0, head, filled, take);
                filled += take;
            }
        }
        return filled == 0 ? null : Arrays.copyOf(head, filled);
    }
}
