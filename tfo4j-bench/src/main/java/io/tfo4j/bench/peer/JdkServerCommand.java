package io.tfo4j.bench.peer;

import com.sun.net.httpserver.HttpServer;
import io.tfo4j.FastOpenStatus;
import io.tfo4j.httpserver.FastOpenHttpServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Callable;

/**
 * {@code tfo4j peer jdk-server}: the JDK's own {@code com.sun.net.httpserver.HttpServer}, with Fast Open
 * turned on by {@link FastOpenHttpServer#enable} when asked; answers every GET with the same body. For
 * {@code tfo4j bench throughput}.
 */
@Command(name = "jdk-server", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"The JDK's com.sun.net.httpserver.HttpServer answering every GET with the same body,"
                + " optionally with TCP Fast Open (tfo4j's FastOpenHttpServer.enable). Stops on Ctrl-C."})
final class JdkServerCommand implements Callable<Integer> {
    @Mixin
    ServerOptions options;

    @Override
    public Integer call() throws Exception {
        InetSocketAddress address = options.address();
        byte[] body = options.body("hello from the JDK HttpServer\n".getBytes(StandardCharsets.US_ASCII));
        HttpServer server = create(address, body);
        if (options.fastOpenQueue > 0) {
            FastOpenStatus status = FastOpenHttpServer.enable(server, options.fastOpenQueue);
            if (!status.active()) {
                System.err.println("tfo4j peer jdk-server: Fast Open is not active: " + status.reason()
                        + (status.remedy().isEmpty() ? "" : "; fix: " + status.remedy()));
            }
        }
        server.start();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.stop(0);
            stopped.countDown();
        }, "jdk-server-stop"));
        System.out.println("tfo4j peer jdk-server: listening on " + options.bind + ":" + server.getAddress().getPort());
        System.out.flush();
        stopped.await();
        return 0;
    }

    /** The server, not started: every GET gets {@code body}, answered on one thread. */
    static HttpServer create(InetSocketAddress address, byte[] body) throws IOException {
        HttpServer server = HttpServer.create(address, 1024);
        server.createContext("/", exchange -> {
            exchange.getResponseHeaders().set("Content-Type", "text/html");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        // One thread, like nginx's one worker and Netty's one event loop in the benchmark.
        server.setExecutor(Executors.newSingleThreadExecutor());
        return server;
    }
}
