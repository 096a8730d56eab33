package io.tfo4j.cli;

import io.tfo4j.lab.DelayedHosts;
import io.tfo4j.lab.LabProcess;
import io.tfo4j.lab.NetNamespace;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code tfo4j serve} out of file descriptors: run under {@code prlimit --nofile=128:128} with a connection limit
 * above what the descriptors allow, idle connections are opened until accepting fails ({@code EMFILE}); the
 * server keeps running, says why once (with the fix) however often the accept is retried, and once those
 * connections close, says it accepts again and serves.
 */
class DescriptorExhaustionTest {
    private static final int DESCRIPTORS = 128;
    private static final int MOST_IDLE = 250;
    private static final int PORT = 8081;
    private static final String CANNOT_ACCEPT = "tfo4j serve: cannot accept connections: Too many open files";
    private static final String ACCEPTING_AGAIN = "tfo4j serve: accepting connections again";

    @TempDir
    Path site;

    @Test
    void acceptFailsForAWhileIsSaidOnceAndTheServerServesAgain() throws Exception {
        assumeTrue(NetNamespace.unavailableReason().isEmpty(), () -> "skipped: " + NetNamespace.unavailableReason().orElse(""));
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/prlimit")), "skipped: needs prlimit (util-linux)");
        Files.writeString(site.resolve("text.txt"), "served\n");
        List<String> command = new ArrayList<>(List.of("/usr/bin/prlimit", "--nofile=" + DESCRIPTORS + ":" + DESCRIPTORS, "--"));
        command.addAll(ChildJvm.command("serve", site.toString(), "--port", Integer.toString(PORT),
                "--max-connections", "1000", "--idle-timeout", "120", "--header-timeout", "120"));
        List<Socket> idle = new ArrayList<>();
        try (NetNamespace host = NetNamespace.create(3);
             LabProcess serve = LabProcess.start(host, new byte[0], command)) {
            try {
                try {
                    DelayedHosts.awaitListening(host, PORT);
                } catch (AssertionError e) {
                    throw new AssertionError(e.getMessage() + "; tfo4j serve said: " + serve.stderr(), e);
                }
                InetSocketAddress address = new InetSocketAddress("127.0.0.1", PORT);
                assertEquals(200, status(host, address), "serving before: " + serve.stderr());
                // Idle connections, ten at a time, until the server says it cannot accept: the JVM holds some of
                // the 128 descriptors itself; the rest go to connections, and those beyond wait in the backlog.
                while (!serve.stderr().contains(CANNOT_ACCEPT) && idle.size() < MOST_IDLE) {
                    for (int i = 0; i < 10; i++) {
                        idle.add(host.call(() -> {
                            Socket socket = new Socket();
                            socket.connect(address, 5000);
                            return socket;
                        }));
                    }
                    Thread.sleep(200);
                }
                assertTrue(serve.stderr().contains(CANNOT_ACCEPT), "accepting failed after " + idle.size()
                        + " idle connections: " + serve.stderr());
                // Retried every 100 ms meanwhile; still said once.
                Thread.sleep(2000);
                String during = serve.stderr();
                assertEquals(1, count(during, CANNOT_ACCEPT), during);
                assertTrue(during.contains("Fix: raise the open file limit (ulimit -n") && during.contains("lower --max-connections"), during);
                assertFalse(during.contains("Accept failed"), "no warning per failure: " + during);
                int closedByServer = 0;
                for (Socket socket : idle) {
                    socket.setSoTimeout(1);
                    try {
                        closedByServer += socket.getInputStream().read() < 0 ? 1 : 0;
                    } catch (SocketTimeoutException open) {
                        // still open, as it should be
                    } catch (IOException reset) {
                        closedByServer++;
                    }
                }
                assertEquals(0, closedByServer, "no connection lost to the episode (Jetty's own accept loop closes one per failure)");

                for (Socket socket : idle) {
                    socket.close();
                }
                assertEquals(200, status(host, address), "serving again: " + serve.stderr());
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (!serve.stderr().contains(ACCEPTING_AGAIN) && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                String after = serve.stderr();
                assertEquals(1, count(after, CANNOT_ACCEPT), after);
                assertEquals(1, count(after, ACCEPTING_AGAIN), after);
                Matcher failures = Pattern.compile("accepting connections again: (\\d+) accepts failed").matcher(after);
                assertTrue(failures.find() && Integer.parseInt(failures.group(1)) > 1, "retried more than once: " + after);
                System.out.println("DescriptorExhaustionTest: " + idle.size() + " idle connections under nofile="
                        + DESCRIPTORS + "; tfo4j serve said:\n" + after);
            } finally {
                for (Socket socket : idle) {
                    socket.close();
                }
            }
        }
    }

    /** The status of a GET on a new connection, within 30 s. */
    private static int status(NetNamespace host, InetSocketAddress address) throws IOException {
        return host.call(() -> {
            try (Socket socket = new Socket()) {
                socket.connect(address, 5000);
                socket.setSoTimeout(30_000);
                socket.getOutputStream().write("GET /text.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                InputStream in = socket.getInputStream();
                ByteArrayOutputStream answer = new ByteArrayOutputStream();
                in.transferTo(answer);
                String text = answer.toString(StandardCharsets.ISO_8859_1);
                if (!text.startsWith("HTTP/1.1 ")) {
                    throw new IOException("not an HTTP answer: " + text);
                }
                return Integer.parseInt(text.substring(9, 12));
            }
        });
    }

    private static int count(String text, String what) {
        int count = 0;
        for (int at = text.indexOf(what); at >= 0; at = text.indexOf(what, at + 1)) {
            count++;
        }
        return count;
    }
}
