package io.tfo4j.lab;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A client and a server "host" for the tests of the CLI and of the bench's peers (this module's test-jar): a
 * {@link WanLab} (two namespaces with
 * {@code net.ipv4.tcp_fastopen=3} and a delay line), so one round trip saved is plain to see in a time to
 * first byte. Also the checks the tests across it share.
 */
public final class DelayedHosts implements AutoCloseable {
    private final WanLab lab;
    private final double rttMs;

    private DelayedHosts(WanLab lab) {
        this.lab = lab;
        this.rttMs = lab.rtt().toNanos() / 1e6;
    }

    /**
     * Makes the hosts ({@link WanLab#CLIENT_ADDRESS}, {@link WanLab#SERVER_ADDRESS}), or skips the test
     * with the reason where a lab cannot be built.
     */
    public static DelayedHosts open(Duration oneWay) throws IOException {
        assumeTrue(WanLab.unavailableReason().isEmpty(), () -> "skipped: " + WanLab.unavailableReason().orElse(""));
        return new DelayedHosts(WanLab.create(LinkProfile.rtt(oneWay.multipliedBy(2))));
    }

    public NetNamespace client() {
        return lab.client();
    }

    public NetNamespace server() {
        return lab.server();
    }

    public double rttMs() {
        return rttMs;
    }

    /**
     * Connection 1 needs the handshake before the request (2 round trips); the others carry the request
     * in the SYN (1 round trip). The bounds are wide: they separate 1 from 2 round trips, nothing finer.
     */
    public void assertRoundTrips(List<JsonNode> lines) {
        assertTwoRoundTrips(lines.subList(0, 1));
        for (int i = 1; i < lines.size(); i++) {
            double later = lines.get(i).get("ttfbMs").asDouble() / rttMs;
            // Below 1.9, where every connection that waits for the handshake lies: the saved round trip, with the
            // margin a loaded 2-core machine needs (the kernel counters already proved the SYN carried data).
            assertTrue(later >= 0.9 && later < 1.9, "connection " + (i + 1) + " took " + later + " RTT, expected about 1");
        }
    }

    /** Every connection needed the handshake before the request: about 2 round trips each. */
    public void assertTwoRoundTrips(List<JsonNode> lines) {
        for (int i = 0; i < lines.size(); i++) {
            double rtts = lines.get(i).get("ttfbMs").asDouble() / rttMs;
            // The lower bound is the point; the upper one only catches a retransmission (1 s), with room for a
            // cold JVM on a loaded machine.
            assertTrue(rtts >= 1.9 && rtts < 6.0, "connection " + (i + 1) + " took " + rtts + " RTT, expected about 2");
        }
    }

    /** Prints each line with its time to first byte in round trips. */
    public void report(String title, List<JsonNode> lines) {
        System.out.println(title + " (RTT " + rttMs + " ms):");
        for (JsonNode line : lines) {
            double ttfb = line.path("ttfbMs").asDouble(Double.NaN);
            System.out.println(String.format(Locale.ROOT, "  synData=%-5s ttfb=%7.1f ms (%.2f RTT)  %s",
                    line.get("synData").asBoolean(), ttfb, ttfb / rttMs, line));
        }
    }

    /** Waits until a socket listens on {@code port} in the namespace (read from its /proc/net/tcp and tcp6). */
    public static void awaitListening(NetNamespace namespace, int port) throws Exception {
        String hexPort = String.format(":%04X", port);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            // A JDK listener is a dual-stack IPv6 socket: it shows in tcp6, not tcp.
            boolean listening = namespace.call(() -> Stream.of("tcp", "tcp6")
                    .flatMap(table -> {
                        try {
                            return Files.readAllLines(Path.of("/proc/thread-self/net", table)).stream();
                        } catch (IOException e) {
                            return Stream.empty();
                        }
                    })
                    .map(String::trim).map(l -> l.split("\\s+"))
                    .anyMatch(f -> f.length > 3 && f[1].endsWith(hexPort) && f[3].equals("0A")));
            if (listening) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("nothing listens on port " + port + " in " + namespace + " after 20 s");
    }

    /** Closes the line, then the namespaces (which kills nothing: stop processes in them first). */
    @Override
    public void close() {
        lab.close();
    }
}
