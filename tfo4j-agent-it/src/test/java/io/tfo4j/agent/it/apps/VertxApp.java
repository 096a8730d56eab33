package io.tfo4j.agent.it.apps;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;

import java.util.concurrent.TimeUnit;

/**
 * A plain Vert.x HTTP server: every request is answered "hello". Arguments: ADDRESS PORT. Prints which
 * Netty transport Vert.x uses ("transport nio" or "transport native"), then "ready" when it listens.
 *
 * <p>Vert.x uses Netty's NIO transport, which binds through the JDK, unless it is told to prefer a native
 * one that is on the class path. Netty's epoll jar is on this class path (for NettyEpollApp), so this
 * program says {@code setPreferNativeTransport(false)} outright rather than relying on the default.
 */
public final class VertxApp {
    private VertxApp() {
    }

    public static void main(String[] args) throws Exception {
        Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(false));
        System.out.println("transport " + (vertx.isNativeTransportEnabled() ? "native" : "nio"));
        HttpServer server = vertx.createHttpServer()
                .requestHandler(request -> request.response().putHeader("Content-Type", "text/plain").end("hello\n"));
        server.listen(Integer.parseInt(args[1]), args[0]).toCompletionStage().toCompletableFuture()
                .get(30, TimeUnit.SECONDS);
        System.out.println("ready");
    }
}
