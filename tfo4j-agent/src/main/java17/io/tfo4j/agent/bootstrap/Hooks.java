package io.tfo4j.agent.bootstrap;

import java.io.FileDescriptor;
import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * The entry points into the agent from code it does not own: the JDK classes it rewrites call these static
 * methods (so this class is loaded by the boot loader and uses {@code java.base} types only), and so do
 * tfo4j's servlet filter and the application's servlet API. Each passes on to the {@link Handler} the agent
 * installed; with none installed, or when a handler fails, the JDK goes on exactly as without the agent.
 *
 * <p>The read and write hooks run on every socket read and write of the JVM, so each first tests one
 * volatile field and returns at once unless the agent watches some connection.
 *
 * <p>This is the agent's internal interface, public only because the boot loader and other class loaders
 * must reach it; it may change in any release.
 */
public final class Hooks {
    /** Returned by {@link #beforeWrite} and {@link #beforeWritev} to let the write go on. */
    public static final int PROCEED = Integer.MIN_VALUE;
    /** What a rewritten JDK write returns to its caller to mean "try again when writable" (IOStatus.UNAVAILABLE). */
    public static final int UNAVAILABLE = -2;

    /** {@link #earlyDataState}: the connection is not waiting for its handshake: act on its requests. */
    public static final int EARLY_DATA_NONE = 0;
    /** {@link #earlyDataState}: the connection's SYN carried data and its handshake has not completed. */
    public static final int EARLY_DATA_WAITING = 1;
    /** {@link #earlyDataState}: the connection's SYN carried data and it was reset before its handshake completed. */
    public static final int EARLY_DATA_RESET = 2;

    /** What the agent does at each entry point; every method's default is to do nothing. */
    public interface Handler {
        /** Before the JDK binds a TCP socket (a listener, or a client that binds first). */
        default void beforeTcpBind(FileDescriptor fd, InetAddress address, int port) {
        }

        /**
         * Before the JDK connects a socket (TCP, or UDP for a connected DatagramChannel). Returns what
         * {@link #afterConnect} is given, or null when the connection needs nothing after.
         */
        default Object beforeConnect(FileDescriptor fd, InetAddress address, int port) {
            return null;
        }

        /** After the kernel's connect returned {@code result}, for a connection {@link #beforeConnect} marked. */
        default void afterConnect(int result, Object marked) {
        }

        /** After the JDK accepted {@code child} on {@code listener}. */
        default void accepted(FileDescriptor listener, FileDescriptor child, InetSocketAddress remote) {
        }

        /** Before the JDK writes {@code length} bytes at native {@code address}; {@link #PROCEED} or what write returns. */
        default int beforeWrite(FileDescriptor fd, long address, int length) throws IOException {
            return PROCEED;
        }

        /** Before the JDK writes {@code count} iovecs at native {@code iovecs}; {@link #PROCEED} or what writev returns. */
        default long beforeWritev(FileDescriptor fd, long iovecs, int count) throws IOException {
            return PROCEED;
        }

        /** Before the JDK reads from a socket. */
        default void beforeRead(FileDescriptor fd) {
        }

        /** Before {@code HttpServlet.service(request, response)}; false when the request must not run. */
        default boolean beforeServletService(Object servlet, Object request, Object response) {
            return true;
        }

        /** One of the {@code EARLY_DATA_*} states of the accepted connection with these addresses. */
        default int earlyDataState(int localPort, String remoteAddress, int remotePort) {
            return EARLY_DATA_NONE;
        }

        /** Waits up to {@code timeoutMillis} while the state is {@link #EARLY_DATA_WAITING}; returns the last state. */
        default int awaitEarlyDataHandshake(int localPort, String remoteAddress, int remotePort, long timeoutMillis) {
            return EARLY_DATA_NONE;
        }

        /** Counts what the early-data filter did with a request ("held", "rejected", "dropped", "allowed"). */
        default void earlyDataDecision(String decision) {
        }

        /** The agent's early-data policy ("wait", "reject", "allow"). */
        default String earlyDataPolicy() {
            return "wait";
        }

        /** A hook threw: the handler reports it once and switches the failing part off. */
        default void failed(String hook, Throwable failure) {
        }
    }

    private static final Handler NONE = new Handler() {
    };

    private static volatile Handler handler = NONE;
    /** Connections whose first read or write the agent waits for; the read and write hooks return at once at 0. */
    private static volatile int watchedConnections;
    /** Listeners with Fast Open: the accept hook looks at children only when there are some. */
    private static volatile int fastOpenListeners;
    /** Accepted connections whose SYN carried data and whose handshake was not complete: the servlet hook looks only then. */
    private static volatile int earlyConnections;

    /** The three counts change only by atomic adds, so a hook never reads a count that lost an update. */
    private static final VarHandle WATCHED = countHandle("watchedConnections");
    private static final VarHandle LISTENERS = countHandle("fastOpenListeners");
    private static final VarHandle EARLY = countHandle("earlyConnections");

    private static VarHandle countHandle(String field) {
        try {
            return MethodHandles.lookup().findStaticVarHandle(Hooks.class, field, int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private Hooks() {
    }

    /** Installs the agent's handler; called once, by the agent. */
    public static void install(Handler installed) {
        handler = installed;
    }

    /** Counts connections in or out of the read and write hooks' attention (+1 or -1). */
    public static void watchConnections(int delta) {
        WATCHED.getAndAdd(delta);
    }

    /** Counts listeners with Fast Open in or out (+1 or -1), so that the accept hook looks at their children. */
    public static void countFastOpenListeners(int delta) {
        LISTENERS.getAndAdd(delta);
    }

    /** Counts accepted connections that may still carry early data in or out (+1 or -1), for the servlet hook. */
    public static void countEarlyConnections(int delta) {
        EARLY.getAndAdd(delta);
    }

    // ---- called by the JDK classes the agent rewrites ----

    /** From {@code sun.net.NetHooks.beforeTcpBind} (or the SDP provider slot on Java 17 to 24). */
    public static void beforeTcpBind(FileDescriptor fd, InetAddress address, int port) {
        Handler current = handler;
        try {
            current.beforeTcpBind(fd, address, port);
        } catch (RuntimeException | Error e) {
            current.failed("bind", e);
        }
    }

    /**
     * From the start of {@code sun.nio.ch.Net.connect(ProtocolFamily, FileDescriptor, InetAddress, int)}; the
     * rewritten method keeps what this returns for {@link #afterConnect}.
     */
    public static Object beforeConnect(FileDescriptor fd, InetAddress address, int port) {
        Handler current = handler;
        try {
            return current.beforeConnect(fd, address, port);
        } catch (RuntimeException | Error e) {
            current.failed("connect", e);
            return null;
        }
    }

    /** From the return of the same method, with its result, once the kernel's connect has returned. */
    public static void afterConnect(int result, Object marked) {
        if (marked == null) {
            return;
        }
        Handler current = handler;
        try {
            current.afterConnect(result, marked);
        } catch (RuntimeException | Error e) {
            current.failed("connect", e);
        }
    }

    /** Replaces the JDK's calls of {@code sun.nio.ch.Net.accept}: accepts, then tells the handler. */
    public static int accept(FileDescriptor listener, FileDescriptor child, InetSocketAddress[] remote)
            throws IOException {
        int accepted = NetAccept.accept(listener, child, remote);
        if (accepted > 0 && fastOpenListeners > 0) {
            Handler current = handler;
            try {
                current.accepted(listener, child, remote[0]);
            } catch (RuntimeException | Error e) {
                current.failed("accept", e);
            }
        }
        return accepted;
    }

    /** From the start of {@code sun.nio.ch.SocketDispatcher.write}. */
    public static int beforeWrite(FileDescriptor fd, long address, int length) throws IOException {
        if (watchedConnections == 0) {
            return PROCEED;
        }
        Handler current = handler;
        try {
            return current.beforeWrite(fd, address, length);
        } catch (RuntimeException | Error e) {
            current.failed("write", e);
            return PROCEED;
        }
    }

    /** From the start of {@code sun.nio.ch.SocketDispatcher.writev}. */
    public static long beforeWritev(FileDescriptor fd, long iovecs, int count) throws IOException {
        if (watchedConnections == 0) {
            return PROCEED;
        }
        Handler current = handler;
        try {
            return current.beforeWritev(fd, iovecs, count);
        } catch (RuntimeException | Error e) {
            current.failed("write", e);
            return PROCEED;
        }
    }

    /** From the start of {@code sun.nio.ch.SocketDispatcher.read} and {@code readv}. */
    public static void beforeRead(FileDescriptor fd) {
        if (watchedConnections == 0) {
            return;
        }
        Handler current = handler;
        try {
            current.beforeRead(fd);
        } catch (RuntimeException | Error e) {
            current.failed("read", e);
        }
    }

    // ---- called by the application's servlet API and by tfo4j's servlet filter ----

    /** From the start of {@code jakarta.servlet.http.HttpServlet.service(ServletRequest, ServletResponse)}. */
    public static boolean beforeServletService(Object servlet, Object request, Object response) {
        if (earlyConnections == 0) {
            return true;
        }
        Handler current = handler;
        try {
            return current.beforeServletService(servlet, request, response);
        } catch (RuntimeException | Error e) {
            current.failed("servlet", e);
            return true;
        }
    }

    /** One of the {@code EARLY_DATA_*} states of the accepted connection with these addresses. */
    public static int earlyDataState(int localPort, String remoteAddress, int remotePort) {
        if (earlyConnections == 0) {
            return EARLY_DATA_NONE;
        }
        return handler.earlyDataState(localPort, remoteAddress, remotePort);
    }

    /** Waits while the connection's handshake is incomplete, at most {@code timeoutMillis}; returns the last state. */
    public static int awaitEarlyDataHandshake(int localPort, String remoteAddress, int remotePort, long timeoutMillis) {
        if (earlyConnections == 0) {
            return EARLY_DATA_NONE;
        }
        return handler.awaitEarlyDataHandshake(localPort, remoteAddress, remotePort, timeoutMillis);
    }

    /** Counts what the early-data filter did with one request. */
    public static void earlyDataDecision(String decision) {
        handler.earlyDataDecision(decision);
    }

    /** The agent's early-data policy for servlets: "wait", "reject" or "allow". */
    public static String earlyDataPolicy() {
        return handler.earlyDataPolicy();
    }

    /**
     * {@code sun.nio.ch.Net.accept}, reached through a method handle: the agent exports {@code sun.nio.ch}
     * to this class's module before it rewrites any call of it, then calls {@link #linkAccept()}.
     */
    private static final class NetAccept {
        private static final MethodHandle ACCEPT = find();

        private static MethodHandle find() {
            try {
                return MethodHandles.lookup().findStatic(Class.forName("sun.nio.ch.Net"), "accept",
                        MethodType.methodType(int.class, FileDescriptor.class, FileDescriptor.class,
                                InetSocketAddress[].class));
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("sun.nio.ch.Net.accept cannot be reached: " + e, e);
            }
        }

        static int accept(FileDescriptor listener, FileDescriptor child, InetSocketAddress[] remote)
                throws IOException {
            try {
                return (int) ACCEPT.invokeExact(listener, child, remote);
            } catch (IOException | RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IOException(t);
            }
        }
    }

    /** Resolves {@code sun.nio.ch.Net.accept} now; throws, saying why, when it cannot be. */
    public static void linkAccept() {
        try {
            NetAccept.ACCEPT.type();
        } catch (ExceptionInInitializerError e) {
            throw new IllegalStateException(String.valueOf(e.getCause()), e.getCause());
        }
    }
}
