package io.tfo4j.bench.peer;

import com.sun.net.httpserver.HttpServer;
import io.tfo4j.httpserver.FastOpenHttpServer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * Requests from a peer client to a throwaway {@code jdk-server} ({@link JdkServerCommand#create}) on this
 * namespace's loopback, before the timed requests, so that those run compiled code and loaded classes, not a
 * cold JVM. Fast Open is on where this host allows it, so that the path of a cached cookie (data in the SYN)
 * is compiled too. Problems are ignored: it is only a warm-up, and the real requests report their own.
 */
final class JdkWarmUp {
    /** One warm-up request, the {@code index}-th, to {@code url}. */
    interface Request {
        void send(int index, String url) throws IOException;
    }

    private JdkWarmUp() {
    }

    /** Starts the server, makes {@code requests} requests to it, and stops it. */
    static void run(int requests, Request request) {
        HttpServer local = null;
        try {
            local = JdkServerCommand.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                    "warm\n".getBytes(StandardCharsets.US_ASCII));
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
