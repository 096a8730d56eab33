package io.tfo4j.bench.peer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * A few requests from {@link NettyHttpClient} to a throwaway {@link NettyHttpServer} on this namespace's
 * loopback, in this process. Run before the timed work, so that neither the first timed request nor the
 * first answer pays for loading Netty's classes and native library (hundreds of milliseconds in a cold JVM).
 */
final class NettyWarmUp {
    private static final int REQUESTS = 3;

    private NettyWarmUp() {
    }

    /** Warms up with {@code client}'s event loops; problems are ignored, the real work reports its own. */
    static void run(NettyHttpClient client) {
        InetSocketAddress loopback = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        try (NettyHttpServer local = NettyHttpServer.start(client.group(), loopback, 0,
                "warm-up\n".getBytes(StandardCharsets.US_ASCII), null)) {
            HttpTarget target = HttpTarget.parse("http://127.0.0.1:" + local.port() + "/");
            for (int i = 0; i < REQUESTS; i++) {
                client.get(target);
            }
        } catch (IOException | RuntimeException e) {
            // Only a warm-up.
        }
    }
}
