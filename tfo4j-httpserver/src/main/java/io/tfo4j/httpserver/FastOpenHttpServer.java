package io.tfo4j.httpserver;

import com.sun.net.httpserver.HttpServer;
import io.tfo4j.FastOpen;
import io.tfo4j.FastOpenStatus;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.channels.ServerSocketChannel;

/**
 * Turns Fast Open on for the listener of a JDK {@link HttpServer} ({@code com.sun.net.httpserver}) in one
 * call:
 *
 * <pre>{@code
 * HttpServer server = HttpServer.create(new InetSocketAddress(8080), 0);
 * FastOpenStatus status = FastOpenHttpServer.enable(server, 256);
 * }</pre>
 *
 * <p>The JDK's server keeps its listening channel private, so this reads it through the JDK's internals,
 * which needs {@code --add-opens jdk.httpserver/sun.net.httpserver=ALL-UNNAMED} ({@code io.tfo4j.httpserver}
 * instead of ALL-UNNAMED on the module path) besides the flags tfo4j-core needs. This module depends on
 * tfo4j-core only: no Jetty. Without it, the server
 * works normally and the returned status says which flag is missing. Needs Linux 3.7+ and the sysctl bit
 * 0x2 ({@code sysctl -w net.ipv4.tcp_fastopen=3}), as {@link FastOpen#enableServer} does.
 *
 * <p>Safety: the JDK's server runs a handler as soon as a request is read, also a request that arrived
 * in the SYN before the handshake completed; such data can be replayed. Only enable Fast Open for handlers
 * whose requests are safe to run twice.
 */
public final class FastOpenHttpServer {
    private FastOpenHttpServer() {
    }

    /**
     * Sets {@code TCP_FASTOPEN} with {@code queueLength} on the server's listener (bound already, since
     * {@code HttpServer.create(address, backlog)} binds).
     *
     * @return whether the listener accepts data in the SYN now, and if not why not
     */
    public static FastOpenStatus enable(HttpServer server, int queueLength) throws IOException {
        ServerSocketChannel listener;
        try {
            listener = listenerOf(server);
        } catch (IllegalAccessException e) {
            String target = FastOpenHttpServer.class.getModule().isNamed()
                    ? FastOpenHttpServer.class.getModule().getName() : "ALL-UNNAMED";
            String flag = "--add-opens jdk.httpserver/sun.net.httpserver=" + target;
            return new FastOpenStatus(false, "tfo4j cannot reach the JDK HttpServer's listener: add the JVM flag "
                    + flag, "start the JVM with " + flag);
        } catch (ReflectiveOperationException | ClassCastException e) {
            return new FastOpenStatus(false, "this JDK (" + Runtime.version() + ") lays out its HttpServer"
                    + " differently: " + e, "none: the server works without Fast Open");
        }
        if (listener == null) {
            return new FastOpenStatus(false, "the HttpServer is not bound yet", "bind it first: server.bind(address, 0)");
        }
        return FastOpen.enableServer(listener, queueLength);
    }

    /** {@code HttpServerImpl.server} is the {@code ServerImpl}; its {@code schan} is the listening channel. */
    private static ServerSocketChannel listenerOf(HttpServer server) throws ReflectiveOperationException {
        Class<?> serverImpl = Class.forName("sun.net.httpserver.ServerImpl");
        VarHandle impl = MethodHandles.privateLookupIn(server.getClass(), MethodHandles.lookup())
                .findVarHandle(server.getClass(), "server", serverImpl);
        Object delegate = impl.get(server);
        VarHandle channel = MethodHandles.privateLookupIn(serverImpl, MethodHandles.lookup())
                .findVarHandle(serverImpl, "schan", ServerSocketChannel.class);
        return (ServerSocketChannel) channel.get(delegate);
    }
}
