package io.tfo4j.agent.jdk25;

import io.tfo4j.agent.bootstrap.Hooks;
import io.tfo4j.agent.common.AgentLog;
import io.tfo4j.agent.common.AgentStats;
import java.io.FileDescriptor;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Locale;

/**
 * The full agent's answer to each {@link Hooks} entry point, passed on to the part that handles it. A part
 * that is off (see {@link JdkRewrites.Part}) is null and its entry points are never called.
 */
final class SocketHooks implements Hooks.Handler {
    private final Listeners listeners;
    private final AcceptedConnections accepted;
    private final ClientConnections clients;
    private final ServletGate servlets;
    private final AgentStats stats;
    private final AgentLog log;
    private final String earlyDataPolicy;

    SocketHooks(Listeners listeners, AcceptedConnections accepted, ClientConnections clients, ServletGate servlets,
                AgentStats stats, AgentLog log, String earlyDataPolicy) {
        this.listeners = listeners;
        this.accepted = accepted;
        this.clients = clients;
        this.servlets = servlets;
        this.stats = stats;
        this.log = log;
        this.earlyDataPolicy = earlyDataPolicy;
    }

    @Override
    public void beforeTcpBind(FileDescriptor fd, InetAddress address, int port) {
        if (listeners != null) {
            listeners.beforeBind(fd, address, port);
        }
    }

    @Override
    public Object beforeConnect(FileDescriptor fd, InetAddress address, int port) {
        return clients == null ? null : clients.beforeConnect(fd, address, port);
    }

    @Override
    public void afterConnect(int result, Object marked) {
        if (clients != null && marked instanceof ClientConnections.Watched connection) {
            clients.afterConnect(connection);
        }
    }

    @Override
    public void accepted(FileDescriptor listener, FileDescriptor child, InetSocketAddress remote) {
        if (accepted != null) {
            accepted.accepted(listener, child, remote);
        }
    }

    @Override
    public int beforeWrite(FileDescriptor fd, long address, int length) throws IOException {
        return clients == null ? Hooks.PROCEED : clients.beforeWrite(fd, address, length);
    }

    @Override
    public long beforeWritev(FileDescriptor fd, long iovecs, int count) throws IOException {
        return clients == null ? Hooks.PROCEED : clients.beforeWritev(fd, iovecs, count);
    }

    @Override
    public void beforeRead(FileDescriptor fd) {
        if (clients != null) {
            clients.beforeRead(fd);
        }
    }

    @Override
    public boolean beforeServletService(Object servlet, Object request, Object response) {
        return servlets == null || servlets.beforeService(servlet, request, response);
    }

    @Override
    public int earlyDataState(int localPort, String remoteAddress, int remotePort) {
        return accepted == null ? Hooks.EARLY_DATA_NONE : accepted.state(localPort, remoteAddress, remotePort);
    }

    @Override
    public int awaitEarlyDataHandshake(int localPort, String remoteAddress, int remotePort, long timeoutMillis) {
        return accepted == null ? Hooks.EARLY_DATA_NONE
                : accepted.awaitHandshake(localPort, remoteAddress, remotePort, timeoutMillis);
    }

    @Override
    public void earlyDataDecision(String decision) {
        switch (decision.toLowerCase(Locale.ROOT)) {
            case "held" -> stats.earlyDataHeld.increment();
            case "rejected" -> stats.earlyDataRejected.increment();
            case "dropped" -> stats.earlyDataDropped.increment();
            case "allowed" -> stats.earlyDataAllowed.increment();
            default -> {
            }
        }
        log.verbose(() -> "early data: a request from SYN data was " + decision);
    }

    @Override
    public String earlyDataPolicy() {
        return earlyDataPolicy;
    }

    @Override
    public void failed(String hook, Throwable failure) {
        log.once("failed " + hook, "the " + hook + " hook failed (" + failure + "); sockets there work as without"
                + " the agent (further failures are not logged)");
    }
}
