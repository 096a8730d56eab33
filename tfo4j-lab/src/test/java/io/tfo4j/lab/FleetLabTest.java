package io.tfo4j.lab;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The fleet lab routes connections to one address over every backend, by source port, across a real delay;
 * and goes away whole.
 */
class FleetLabTest {
    private static final int PORT = 7000;

    @Test
    void connectionsToTheVirtualAddressAreSpreadOverEveryBackendAndCrossTheDelay() throws Exception {
        assumeTrue(FleetLab.unavailableReason().isEmpty(), () -> "skipped: " + FleetLab.unavailableReason().orElse(""));
        List<String> names = new ArrayList<>();
        List<ServerSocket> listeners = new ArrayList<>();
        try (FleetLab lab = FleetLab.create(LinkProfile.rtt(Duration.ofMillis(20)), 3);
             AutoCloseable closeListeners = () -> closeAll(listeners)) {
            names.add(lab.client().name());
            names.add(lab.router().name());
            for (int i = 0; i < lab.backends().size(); i++) {
                NetNamespace backend = lab.backends().get(i);
                names.add(backend.name());
                ServerSocket listener = backend.call(() -> new ServerSocket(PORT, 50,
                        java.net.InetAddress.getByName(FleetLab.VIRTUAL_ADDRESS)));
                listeners.add(listener);
                String name = "backend" + (i + 1);
                backend.submit(() -> answerWithName(listener, name));
            }
            assertEquals("1", lab.router().sysctl("net/ipv4/fib_multipath_hash_policy"));

            Map<String, Integer> reached = new TreeMap<>();
            long slowest = 0;
            long fastest = Long.MAX_VALUE;
            for (int i = 0; i < 30; i++) {
                long started = System.nanoTime();
                String answer = lab.client().call(FleetLabTest::askName);
                long took = System.nanoTime() - started;
                slowest = Math.max(slowest, took);
                fastest = Math.min(fastest, took);
                reached.merge(answer, 1, Integer::sum);
            }
            assertEquals(3, reached.size(), "30 connections from new source ports reach all 3 backends: " + reached);
            // Connect (1 RTT) and one exchange (1 RTT) across a 20 ms line: never faster than 40 ms.
            assertTrue(fastest >= 40_000_000L, "the connections cross the delay line: fastest " + fastest / 1e6 + " ms");
            lab.forgetClientCookies();
        }
        String left = netnsList();
        for (String name : names) {
            assertFalse(left.contains(name), name + " is removed: " + left);
        }
    }

    @Test
    void aFleetNeedsOneToSixteenBackends() {
        assertEquals("a fleet has 1 to 16 backends, not 0",
                assertThrows(IllegalArgumentException.class,
                        () -> FleetLab.create(LinkProfile.rtt(Duration.ZERO), 0)).getMessage());
    }

    /** Before the lab: a backend's threads blocked in accept would hold its namespace open. */
    private static void closeAll(List<ServerSocket> listeners) throws IOException {
        for (ServerSocket listener : listeners) {
            listener.close();
        }
    }

    private static Void answerWithName(ServerSocket listener, String name) {
        while (!listener.isClosed()) {
            try (Socket accepted = listener.accept()) {
                accepted.getInputStream().read();
                OutputStream out = accepted.getOutputStream();
                out.write(name.getBytes(StandardCharsets.US_ASCII));
            } catch (IOException e) {
                // closed by the test, or a client gone: take the next one
            }
        }
        return null;
    }

    private static String askName() throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(FleetLab.VIRTUAL_ADDRESS, PORT), 5000);
            socket.setSoTimeout(5000);
            socket.getOutputStream().write('?');
            InputStream in = socket.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    private static String netnsList() throws IOException, InterruptedException {
        Process ip = new ProcessBuilder("ip", "netns", "list").redirectErrorStream(true).start();
        String out = new String(ip.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        ip.waitFor();
        return out;
    }
}
