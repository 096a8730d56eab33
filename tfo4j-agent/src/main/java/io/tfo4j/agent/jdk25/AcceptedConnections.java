package io.tfo4j.agent.jdk25;

import io.tfo4j.TcpInfo;
import io.tfo4j.TcpState;
import io.tfo4j.agent.bootstrap.Hooks;
import io.tfo4j.agent.common.AgentLog;
import io.tfo4j.agent.common.AgentStats;
import io.tfo4j.agent.common.ListenPorts;
import java.io.FileDescriptor;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * Connections accepted on Fast Open listeners: counted, and those whose SYN carried data and whose
 * handshake had not completed when they were accepted are kept, keyed by the socket's own addresses (local
 * port, remote address and port), so that the servlet filter can ask whether a request's connection is
 * still waiting for its handshake. The key is the socket's own, not what a proxy header says, and one
 * HTTP/2 connection's many requests share it.
 *
 * <p>Entries leave when a lookup or the sweeper (every second) finds the handshake complete, and at the
 * latest after a minute. A connection found reset stays known as reset until then, so that its request,
 * however late a busy server gets to it, is never run (a replayed SYN's connection is reset by the real
 * client's host one round trip after it arrives). The kernel bounds how many entries there can be: children
 * still in SYN_RECV count against each listener's Fast Open queue.
 */
final class AcceptedConnections {
    private static final long SWEEP_SECONDS = 1;
    private static final long MAX_AGE_NANOS = TimeUnit.MINUTES.toNanos(1);
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    private record Key(int localPort, String remoteAddress, int remotePort) {
    }

    private static final class Early {
        final FileDescriptor fd;
        final long since;
        /** Once seen reset, the descriptor is not read again: its number may name another socket by now. */
        volatile boolean reset;

        Early(FileDescriptor fd, long since) {
            this.fd = fd;
            this.since = since;
        }
    }

    private final Listeners listeners;
    private final AgentLog log;
    private final AgentStats stats;
    private final Map<Key, Early> early = new ConcurrentHashMap<>();
    private final AtomicBoolean sweeping = new AtomicBoolean();

    AcceptedConnections(Listeners listeners, AgentLog log, AgentStats stats) {
        this.listeners = listeners;
        this.log = log;
        this.stats = stats;
    }

    void accepted(FileDescriptor listener, FileDescriptor child, InetSocketAddress remote) {
        Integer port = listeners.portOf(listener);
        if (port == null) {
            return;
        }
        TcpInfo info;
        try {
            info = TcpInfo.of(child);
        } catch (IOException | RuntimeException e) {
            return;
        }
        stats.accepted.increment();
        if (!info.synData()) {
            log.verbose(() -> "accepted " + ListenPorts.hostPort(remote.getAddress(), remote.getPort()) + " on port "
                    + port + ": no data in the SYN");
            return;
        }
        stats.acceptedWithSynData.increment();
        boolean waiting = waiting(info.state());
        log.verbose(() -> "accepted " + ListenPorts.hostPort(remote.getAddress(), remote.getPort()) + " on port "
                + port + ": its SYN carried data (Fast Open)"
                + (waiting ? ", handshake not yet complete" : ""));
        if (waiting) {
            Key key = new Key(port, remote.getAddress().getHostAddress(), remote.getPort());
            if (early.put(key, new Early(child, System.nanoTime())) == null) {
                Hooks.countEarlyConnections(1);
            }
            startSweeper();
        }
    }

    /** One of {@link Hooks}' {@code EARLY_DATA_*} states. */
    int state(int localPort, String remoteAddress, int remotePort) {
        Key key = new Key(localPort, canonical(remoteAddress), remotePort);
        Early entry = early.get(key);
        return entry == null ? Hooks.EARLY_DATA_NONE : check(key, entry);
    }

    private int check(Key key, Early entry) {
        if (entry.reset) {
            return Hooks.EARLY_DATA_RESET;
        }
        TcpState state;
        try {
            state = TcpInfo.of(entry.fd).state();
        } catch (IOException | RuntimeException e) {
            state = TcpState.CLOSE;
        }
        if (waiting(state)) {
            return Hooks.EARLY_DATA_WAITING;
        }
        if (state == TcpState.CLOSE) {
            entry.reset = true;
            return Hooks.EARLY_DATA_RESET;
        }
        forget(key, entry);
        return Hooks.EARLY_DATA_NONE;
    }

    /** Waits while the state is {@link Hooks#EARLY_DATA_WAITING}, polling every millisecond. */
    int awaitHandshake(int localPort, String remoteAddress, int remotePort, long timeoutMillis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (true) {
            int state = state(localPort, remoteAddress, remotePort);
            if (state != Hooks.EARLY_DATA_WAITING || System.nanoTime() >= deadline || Thread.interrupted()) {
                return state;
            }
            LockSupport.parkNanos(POLL_NANOS);
        }
    }

    private static boolean waiting(TcpState state) {
        return state == TcpState.SYN_RECV || state == TcpState.NEW_SYN_RECV;
    }

    /** The address as {@code InetAddress} writes it, whatever form the container gave it in. */
    private static String canonical(String address) {
        try {
            return InetAddress.ofLiteral(address).getHostAddress();
        } catch (IllegalArgumentException | NullPointerException e) {
            return address;
        }
    }

    private void forget(Key key, Early entry) {
        if (early.remove(key, entry)) {
            Hooks.countEarlyConnections(-1);
        }
    }

    private void startSweeper() {
        if (sweeping.compareAndSet(false, true)) {
            Thread sweeper = new Thread(this::sweep, "tfo4j-agent-early-data");
            sweeper.setDaemon(true);
            sweeper.start();
        }
    }

    private void sweep() {
        while (true) {
            try {
                TimeUnit.SECONDS.sleep(SWEEP_SECONDS);
            } catch (InterruptedException e) {
                return;
            }
            long now = System.nanoTime();
            for (Map.Entry<Key, Early> entry : early.entrySet()) {
                if (now - entry.getValue().since > MAX_AGE_NANOS) {
                    forget(entry.getKey(), entry.getValue());
                } else {
                    check(entry.getKey(), entry.getValue());
                }
            }
        }
    }
}
