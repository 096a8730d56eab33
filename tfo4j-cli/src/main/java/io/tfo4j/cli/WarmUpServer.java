package io.tfo4j.cli;

import com.sun.net.httpserver.HttpServer;
import io.tfo4j.httpserver.FastOpenHttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * A throwaway JDK HttpServer on this namespace's loopback for an HTTP client to warm up against before
 * timed requests, so that those run compiled code and loaded classes, not a cold JVM. Fast Open is on where
 * this host allows it, so that the path of a cached cookie (data in the SYN) is compiled too, not only the
 * cookie request. Problems are ignored: it is only a warm-up, and the real requests report their own.
 */
public final class WarmUpServer {
    private static final byte[] BODY = "warm\n".getBytes(StandardCharsets.US_ASCII);

    /** One warm-up request, the {@code index}-th, to {@code url}. */
    public interface Request {
        void send(int index, String url) throws IOException;
    }

    private WarmUpServer() {
    }

    /** Starts the server, makes {@code requests} requests to it, and stops it. */
    public static void run(int requests, Request request) {
        HttpServer local = null;
        try {
            local = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            local.createContext("/", exchange -> {
                exchange.sendResponseHeaders(200, BODY.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(BODY);
                }
            });
            FastOpenHttpServer.enable(local, 16);
            local.start();
            String url = "http://127.0.0.1:" + local.getAddress().getPort() + "/";
            for (int i = 0; i < requests; i++) {
                request.send(i, url);
            }
        } catch (IOException | RuntimeException e) {
            // Only a warm-up.
        } finally {
            if (local != null) {
                local.stop(0);
            }
        }
    }
}
