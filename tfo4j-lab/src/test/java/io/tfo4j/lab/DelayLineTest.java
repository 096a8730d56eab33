package io.tfo4j.lab;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Checks that a {@link DelayLine} applies its delay, counts and drops packets, and cleans up after itself. */
class DelayLineTest {
    private static final String ADDRESS_A = "198.19.0.1";
    private static final String ADDRESS_B = "198.19.0.2";
    private static final int PORT = 7007;
    private static final Duration ONE_WAY = Duration.ofMillis(25);
    private static final double RTT_MILLIS = 2 * ONE_WAY.toNanos() / 1e6;
    private static final int ROUND_TRIPS = 5;

    @BeforeAll
    static void requirements() {
        assumeTrue(NetNamespace.unavailableReason().isEmpty(),
                () -> "skipped: " + NetNamespace.unavailableReason().orElse(""));
        assumeTrue(Files.exists(Path.of("/dev/net/tun")), "skipped: /dev/net/tun is missing");
    }

    @Test
    void connectAndRequestEachTakeOneRoundTrip() throws Exception {
        try (NetNamespace a = NetNamespace.create(3);
             NetNamespace b = NetNamespace.create(3);
             DelayLine line = DelayLine.connect(a, ADDRESS_A, b, ADDRESS_B, ONE_WAY)) {
            ServerSocket server = listen(b);
            Future<?> echo = b.submit(() -> echoOnce(server));

            double[] millis = a.call(() -> {
                double[] times = new double[1 + ROUND_TRIPS];
                try (Socket socket = new Socket()) {
                    long start = System.nanoTime();
                    socket.connect(new InetSocketAddress(ADDRESS_B, PORT), 5000);
                    times[0] = (System.nanoTime() - start) / 1e6;
                    socket.setTcpNoDelay(true);
                    socket.setSoTimeout(5000);
                    OutputStream out = socket.getOutputStream();
                    InputStream in = socket.getInputStream();
                    byte[] request = new byte[64];
                    for (int i = 1; i <= ROUND_TRIPS; i++) {
                        Arrays.fill(request, (byte) i);
                        start = System.nanoTime();
                        out.write(request);
                        byte[] response = in.readNBytes(request.length);
                        times[i] = (System.nanoTime() - start) / 1e6;
                        assertArrayEquals(request, response);
                    }
                }
                return times;
            });
            echo.get(5, TimeUnit.SECONDS);
            server.close();

            double connect = millis[0];
            double[] roundTrips = Arrays.copyOfRange(millis, 1, millis.length);
            double[] sorted = roundTrips.clone();
            Arrays.sort(sorted);
            System.out.printf("DelayLine RTT %.1f ms: connect %.2f ms, request/response %s ms, forwarded %d a->b,"
                            + " %d b->a%n", RTT_MILLIS, connect, Arrays.toString(roundTrips),
                    line.packetsForwarded(DelayLine.Direction.A_TO_B), line.packetsForwarded(DelayLine.Direction.B_TO_A));

            assertBetween("connect", connect, 0.9 * RTT_MILLIS, 2.0 * RTT_MILLIS);
            assertBetween("fastest request/response", sorted[0], 0.9 * RTT_MILLIS, 2.0 * RTT_MILLIS);
            assertBetween("median request/response", sorted[sorted.length / 2], 0.9 * RTT_MILLIS, 2.0 * RTT_MILLIS);
            // SYN, ACK, the requests and FIN one way; SYN-ACK and the responses the other.
            assertTrue(line.packetsForwarded(DelayLine.Direction.A_TO_B) >= 2 + ROUND_TRIPS,
                    "packets a->b: " + line.packetsForwarded(DelayLine.Direction.A_TO_B));
            assertTrue(line.packetsForwarded(DelayLine.Direction.B_TO_A) >= 1 + ROUND_TRIPS,
                    "packets b->a: " + line.packetsForwarded(DelayLine.Direction.B_TO_A));
            assertEquals(0, line.packetsDropped(DelayLine.Direction.A_TO_B));
            assertEquals(0, line.packetsDropped(DelayLine.Direction.B_TO_A));
        }
    }

    @Test
    void dropFilterDropsPacketsUntilRemoved() throws Exception {
        try (NetNamespace a = NetNamespace.create(3);
             NetNamespace b = NetNamespace.create(3);
             DelayLine line = DelayLine.connect(a, ADDRESS_A, b, ADDRESS_B, ONE_WAY)) {
            ServerSocket server = listen(b);
            Future<?> echo = b.submit(() -> echoOnce(server));

            // A middlebox that eats every TCP packet (IP protocol 6) from a to b: the SYN never arrives.
            line.dropFilter(DelayLine.Direction.A_TO_B, packet -> packet.get(9) == 6);
            a.call(() -> {
                try (Socket socket = new Socket()) {
                    assertThrows(SocketTimeoutException.class,
                            () -> socket.connect(new InetSocketAddress(ADDRESS_B, PORT), 300));
                }
                return null;
            });
            assertTrue(line.packetsDropped(DelayLine.Direction.A_TO_B) >= 1);
            assertEquals(0, line.packetsForwarded(DelayLine.Direction.A_TO_B));

            line.dropFilter(DelayLine.Direction.A_TO_B, null);
            a.call(() -> {
                try (Socket socket = new Socket()) {
                    socket.connect(new InetSocketAddress(ADDRESS_B, PORT), 2000);
                    socket.setSoTimeout(2000);
                    socket.getOutputStream().write(42);
                    assertEquals(42, socket.getInputStream().read());
                }
                return null;
            });
            echo.get(5, TimeUnit.SECONDS);
            server.close();
        }
    }

    @Test
    void impairAddsJitterAndKeepsOrder() throws Exception {
        try (NetNamespace a = NetNamespace.create(3);
             NetNamespace b = NetNamespace.create(3);
             DelayLine line = DelayLine.connect(a, ADDRESS_A, b, ADDRESS_B, Duration.ofMillis(10))) {
            line.impair(Duration.ofMillis(4), 0, 42);
            ServerSocket server = listen(b);
            Future<?> echo = b.submit(() -> echoOnce(server));
            double[] millis = a.call(() -> {
                double[] times = new double[30];
                try (Socket socket = new Socket()) {
                    socket.connect(new InetSocketAddress(ADDRESS_B, PORT), 5000);
                    socket.setTcpNoDelay(true);
                    socket.setSoTimeout(5000);
                    for (int i = 0; i < times.length; i++) {
                        long start = System.nanoTime();
                        socket.getOutputStream().write(i);
                        assertEquals(i, socket.getInputStream().read(), "bytes arrive in order");
                        times[i] = (System.nanoTime() - start) / 1e6;
                    }
                }
                return times;
            });
            echo.get(5, TimeUnit.SECONDS);
            server.close();
            double[] sorted = millis.clone();
            Arrays.sort(sorted);
            System.out.printf("DelayLine 20 ms RTT, jitter 4 ms each way: round trips %.1f to %.1f ms%n",
                    sorted[0], sorted[sorted.length - 1]);
            // Each way 10 +- 4 ms: no round trip below 12 ms. No upper bound is asserted: a packet also waits
            // behind one still queued ahead of it, and a busy machine wakes the line late.
            assertBetween("fastest round trip", sorted[0], 11.5, 20);
            assertTrue(sorted[sorted.length - 1] - sorted[0] > 2, "jitter spreads the round trips");
        }
    }

    @Test
    void closeRemovesDevicesAndStopsThreads() throws Exception {
        try (NetNamespace a = NetNamespace.create(3);
             NetNamespace b = NetNamespace.create(3)) {
            DelayLine line = DelayLine.connect(a, ADDRESS_A, b, ADDRESS_B, ONE_WAY);
            a.ip("link", "show", DelayLine.DEVICE);
            b.ip("link", "show", DelayLine.DEVICE);
            assertTrue(line.threads().stream().allMatch(Thread::isAlive));

            long start = System.nanoTime();
            line.close();
            double closeMillis = (System.nanoTime() - start) / 1e6;
            System.out.printf("DelayLine close took %.1f ms%n", closeMillis);
            assertTrue(closeMillis < 1000, "close took " + closeMillis + " ms");

            assertTrue(line.threads().stream().noneMatch(Thread::isAlive), "forwarding threads still alive");
            assertThrows(IOException.class, () -> a.ip("link", "show", DelayLine.DEVICE));
            assertThrows(IOException.class, () -> b.ip("link", "show", DelayLine.DEVICE));
            line.close(); // idempotent

            // The name is free again: a second line can be made in the same namespaces.
            try (DelayLine again = DelayLine.connect(a, ADDRESS_A, b, ADDRESS_B, ONE_WAY)) {
                a.ip("link", "show", DelayLine.DEVICE);
            }
        }
    }

    private static ServerSocket listen(NetNamespace ns) throws IOException {
        return ns.call(() -> {
            ServerSocket server = new ServerSocket();
            server.bind(new InetSocketAddress(ADDRESS_B, PORT));
            return server;
        });
    }

    /** Accepts one connection and echoes it until the client closes. */
    private static Void echoOnce(ServerSocket server) throws IOException {
        try (Socket socket = server.accept()) {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(5000);
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            byte[] buffer = new byte[4096];
            int n;
            while ((n = in.read(buffer)) > 0) {
                out.write(buffer, 0, n);
            }
        }
        return null;
    }

    private static void assertBetween(String what, double millis, double low, double high) {
        assertTrue(millis >= low && millis <= high,
                String.format("%s took %.2f ms, expected %.1f to %.1f ms", what, millis, low, high));
    }
}
