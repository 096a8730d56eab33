package io.tfo4j.http;

import io.tfo4j.lab.NetNamespace;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Slow clients against {@link FastOpenFileServer}, over loopback in a private namespace: a client that trickles
 * its request head one byte at a time, well inside the idle timeout, gets 408 at the head deadline; two hundred
 * of them at once do not keep a normal client from its answer; and the connection limit holds, makes the rest
 * wait rather than fail, and is said once on the problem log.
 */
class SlowClientsTest {
    private static final String TEXT = "0123456789abcdefghij";
    private static final String GET = "GET /text.txt HTTP/1.1\r\nHost: tfo4j.test\r\nConnection: close\r\n\r\n";

    @TempDir
    Path site;
    private NetNamespace host;
    private FastOpenFileServer server;
    private InetSocketAddress address;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final List<String> problems = new CopyOnWriteArrayList<>();
    private final ExecutorService clients = Executors.newCachedThreadPool();

    @BeforeEach
    void namespace() throws Exception {
        assumeTrue(NetNamespace.unavailableReason().isEmpty(),
                () -> "skipped: " + NetNamespace.unavailableReason().orElse(""));
        Files.writeString(site.resolve("text.txt"), TEXT);
        host = NetNamespace.create(3);
    }

    private void start(UnaryOperator<FastOpenFileServer.Builder> settings) throws Exception {
        server = host.call(() -> settings.apply(FastOpenFileServer.builder(site).port(0).fastOpen(16)
                .problemLog(problems::add)).start());
        address = new InetSocketAddress("127.0.0.1", server.port());
    }

    @AfterEach
    void stop() throws Exception {
        clients.shutdownNow();
        for (Socket socket : sockets) {
            socket.close();
        }
        if (server != null) {
            server.close();
        }
        if (host != null) {
            host.close();
        }
        assertTrue(clients.awaitTermination(10, TimeUnit.SECONDS), "the client threads end");
    }

    /** A connection from inside the namespace that has sent {@code first}. */
    private Socket connect(String first) throws Exception {
        Socket socket = host.call(() -> new Socket(address.getAddress(), address.getPort()));
        sockets.add(socket);
        socket.setSoTimeout(30_000);
        socket.getOutputStream().write(first.getBytes(StandardCharsets.US_ASCII));
        return socket;
    }

    @Test
    void aClientTricklingItsHeadInsideTheIdleTimeoutGets408AtTheHeadDeadline() throws Exception {
        // Idle timeout 3 s, one byte every 250 ms: only the 1 s head deadline can cut this client off.
        start(b -> b.headerTimeout(Duration.ofSeconds(1)).idleTimeout(Duration.ofSeconds(3)));
        Socket slow = connect("GET /text.txt HTTP/1.1\r\nHost: tfo4j.test\r\n");
        String rest = "X-Slow: " + "a".repeat(60) + "\r\n\r\n"; // 17 s at this pace: the head never completes in time
        InputStream in = slow.getInputStream();
        OutputStream out = slow.getOutputStream();
        int sent = 0;
        while (sent < rest.length() && in.available() == 0) {
            try {
                out.write(rest.charAt(sent));
                out.flush();
                sent++;
            } catch (IOException closed) {
                break;
            }
            Thread.sleep(250);
        }
        String answer = readAll(in);
        assertTrue(answer.startsWith("HTTP/1.1 408 "), "a 408 (an idle timeout closes without one): " + answer);
        assertTrue(sent < rest.length(), "cut off before the head was complete, after " + sent + " trickled bytes");
        assertTrue(sent > 0, "bytes kept coming in");
        System.out.println("SlowClientsTest: the trickling client sent " + sent + " of " + rest.length()
                + " bytes one per 250 ms and got: " + answer.lines().findFirst().orElse(""));
        assertEquals(200, exchange(GET).status(), "still serving");
        awaitConnections(0);
    }

    @Test
    void twoHundredSlowClientsDoNotKeepANormalClientFromItsAnswer() throws Exception {
        int slowClients = 200;
        start(b -> b.headerTimeout(Duration.ofSeconds(15)).idleTimeout(Duration.ofSeconds(30)));
        List<Socket> slow = new ArrayList<>();
        for (int i = 0; i < slowClients; i++) {
            slow.add(connect("GET /text.txt HTTP/1.1\r\nHost: tfo4j.test\r\nX-Slow: "));
        }
        AtomicBoolean trickling = new AtomicBoolean(true);
        AtomicInteger trickled = new AtomicInteger();
        Future<?> trickle = clients.submit(() -> {
            while (trickling.get()) {
                for (Socket socket : slow) {
                    try {
                        socket.getOutputStream().write('a');
                        trickled.incrementAndGet();
                    } catch (IOException closed) {
                        // answered and closed: counted below
                    }
                }
                Thread.sleep(500);
            }
            return null;
        });
        awaitConnections(slowClients);
        await(() -> trickled.get() >= 3 * slowClients, "three rounds of trickling");
        RawHttp normal = exchange(GET);
        int answeredMeanwhile = 0;
        for (Socket socket : slow) {
            answeredMeanwhile += socket.getInputStream().available() > 0 ? 1 : 0;
        }
        trickling.set(false);
        trickle.get(30, TimeUnit.SECONDS);
        assertEquals(200, normal.status(), normal.head());
        assertEquals(TEXT, normal.body());
        assertEquals(0, answeredMeanwhile, "the normal client was served while all the slow ones were still trickling");
        assertTrue(trickled.get() >= slowClients, "the slow clients trickled: " + trickled);
        for (Socket socket : slow) {
            String answer = readAll(socket.getInputStream());
            assertTrue(answer.startsWith("HTTP/1.1 408 "), answer);
        }
        awaitConnections(0);
        assertEquals(List.of(), problems, "no limit was reached");
        System.out.println("SlowClientsTest: " + slowClients + " slow clients trickled " + trickled
                + " bytes; the normal client got " + normal.status() + " while none of them was answered; then all "
                + slowClients + " got 408");
    }

    @Test
    void theConnectionLimitHoldsTheRestWaitAndTheLogSaysItOnce() throws Exception {
        int limit = 5;
        int waiting = 10;
        start(b -> b.maxConnections(limit).headerTimeout(Duration.ofSeconds(60)).idleTimeout(Duration.ofSeconds(60)));
        assertEquals(limit, server.maxConnections());
        for (int i = 0; i < limit; i++) {
            connect(""); // idle: holds a connection
        }
        awaitConnections(limit);
        AtomicBoolean sampling = new AtomicBoolean(true);
        AtomicInteger most = new AtomicInteger();
        Future<?> sampler = clients.submit(() -> {
            while (sampling.get()) {
                most.accumulateAndGet(server.connector().getConnectedEndPoints().size(), Math::max);
                Thread.sleep(1);
            }
            return null;
        });
        List<Future<RawHttp>> answers = new ArrayList<>();
        for (int i = 0; i < waiting; i++) {
            answers.add(clients.submit(() -> exchange(GET)));
        }
        // They connect (the kernel completes handshakes into the listen backlog) and wait; a second later none
        // has an answer, since every connection the server may hold is taken.
        Thread.sleep(1000);
        assertEquals(0, answers.stream().filter(Future::isDone).count(), "none served while the idle ones hold the limit");
        assertEquals(limit, server.connector().getConnectedEndPoints().size());
        for (Socket socket : sockets) {
            socket.close();
        }
        for (Future<RawHttp> answer : answers) {
            RawHttp served = answer.get(30, TimeUnit.SECONDS);
            assertEquals(200, served.status(), served.head());
            assertEquals(TEXT, served.body());
        }
        sampling.set(false);
        sampler.get(10, TimeUnit.SECONDS);
        assertTrue(most.get() <= limit, "at most " + limit + " connections at once, saw " + most);
        await(() -> problems.stream().anyMatch(line -> line.startsWith("connection limit cleared")), "the limit clears");
        assertEquals(1, problems.stream().filter(line -> line.startsWith("connection limit reached")).count(), problems.toString());
        assertEquals(1, problems.stream().filter(line -> line.startsWith("connection limit cleared")).count(), problems.toString());
        assertEquals(2, problems.size(), problems.toString());
        System.out.println("SlowClientsTest: limit " + limit + ", " + limit + " idle + " + waiting
                + " waiting clients, at most " + most + " connections at once, all " + waiting + " served 200; problem log: " + problems);
    }

    private RawHttp exchange(String request) throws Exception {
        return host.call(() -> RawHttp.exchange(address, request));
    }

    private void awaitConnections(int count) throws InterruptedException {
        await(() -> server.connector().getConnectedEndPoints().size() == count, count + " connections open");
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            assertFalse(System.nanoTime() > deadline, "waited 30 s for: " + what);
            Thread.sleep(10);
        }
    }

    private static String readAll(InputStream in) throws IOException {
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        byte[] buffer = new byte[4096];
        try {
            for (int n; (n = in.read(buffer)) >= 0; ) {
                received.write(buffer, 0, n);
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("no answer and no close within 30 s; so far: " + received, e);
        } catch (IOException reset) {
            // a reset after the answer: keep what came
        }
        return received.toString(StandardCharsets.ISO_8859_1);
    }
}
