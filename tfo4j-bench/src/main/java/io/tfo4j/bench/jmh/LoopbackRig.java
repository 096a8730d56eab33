package io.tfo4j.bench.jmh;

import io.tfo4j.lab.NetNamespace;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Optional;

/**
 * Everything one benchmark trial runs on: a private network namespace with {@code net.ipv4.tcp_fastopen=3},
 * the calling thread moved into it, and a {@link ReplyServer} on the namespace's loopback.
 *
 * <p>The namespace is needed because a Fast Open server needs the sysctl bit 0x2 and the host's sysctl must
 * not be changed; the sysctl, the Fast Open cookie cache and the {@code TcpExt} counters all belong to the
 * namespace. Both benchmarks run in such a namespace so that they differ only in the client and listener
 * code. Ephemeral ports are widened and {@code tcp_tw_reuse} is on so that hundreds of thousands of short
 * connections do not run out of ports.
 */
public final class LoopbackRig implements AutoCloseable {
    /** {@code net.ipv4.tcp_fastopen} in the namespace: client (0x1) and server (0x2). */
    public static final int TCP_FASTOPEN_SYSCTL = 3;
    /** The kernel prints the range tab-separated; NetNamespace.setSysctl compares the value read back. */
    private static final String PORT_RANGE = "1024\t65535";

    private final NetNamespace namespace;
    private final NetNamespace.Visit visit;
    private final Thread owner;
    private final ReplyServer server;

    private LoopbackRig(NetNamespace namespace, NetNamespace.Visit visit, ReplyServer server) {
        this.namespace = namespace;
        this.visit = visit;
        this.owner = Thread.currentThread();
        this.server = server;
    }

    /**
     * Makes the namespace, moves the calling thread into it and starts the server there.
     *
     * @param fastOpenQueue 0 for a plain listener, else the listener's Fast Open queue length
     * @throws IllegalStateException when network namespaces cannot be made here, with the reason
     */
    public static LoopbackRig open(int fastOpenQueue, int requestBytes, int replyBytes) throws IOException {
        Optional<String> unavailable = NetNamespace.unavailableReason();
        if (unavailable.isPresent()) {
            throw new IllegalStateException("the benchmark needs a private network namespace (the host's"
                    + " net.ipv4.tcp_fastopen is never changed), and none can be made here: " + unavailable.get());
        }
        NetNamespace namespace = NetNamespace.create(TCP_FASTOPEN_SYSCTL);
        NetNamespace.Visit visit = null;
        try {
            namespace.setSysctl("net/ipv4/tcp_tw_reuse", "1");
            namespace.setSysctl("net/ipv4/ip_local_port_range", PORT_RANGE);
            visit = namespace.enterOnThisThread();
            ReplyServer server = ReplyServer.start(fastOpenQueue, requestBytes, replyBytes);
            return new LoopbackRig(namespace, visit, server);
        } catch (IOException | RuntimeException e) {
            if (visit != null) {
                try {
                    visit.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            namespace.close();
            throw e;
        }
    }

    /** The server's address on the namespace's loopback. */
    public InetSocketAddress serverAddress() {
        return server.address();
    }

    /** The server. */
    public ReplyServer server() {
        return server;
    }

    /** The namespace's name under {@code /run/netns}. */
    public String namespaceName() {
        return namespace.name();
    }

    /** The thread that was moved into the namespace: the only one whose sockets are there. */
    public Thread owner() {
        return owner;
    }

    /**
     * Stops the server, moves the calling thread (which must be the one that opened the rig) back to its
     * namespace, and deletes the namespace.
     */
    @Override
    public void close() throws IOException {
        IOException failure = null;
        try {
            server.close();
        } catch (IOException e) {
            failure = e;
        }
        try {
            visit.close();
        } catch (IOException e) {
            if (failure == null) {
                failure = e;
            } else {
                failure.addSuppressed(e);
            }
        }
        namespace.close();
        if (failure != null) {
            throw failure;
        }
    }
}
