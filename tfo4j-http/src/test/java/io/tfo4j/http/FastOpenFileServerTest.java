package io.tfo4j.http;

import io.tfo4j.FastOpenCounters;
import io.tfo4j.lab.NetNamespace;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The HTTP behaviour of {@link FastOpenFileServer} (what {@code tfo4j serve} runs), over loopback in a
 * private namespace with {@code tcp_fastopen=3}: files with HTTP's semantics, {@code /echo}, the limits and
 * bad input, and the access log's Fast Open field checked against the kernel's counters.
 */
class FastOpenFileServerTest {
    private static final String INDEX = "<!doctype html><title>tfo4j</title><p>hello</p>\n";
    private static final String TEXT = "0123456789abcdefghij";

    @TempDir
    Path site;
    private NetNamespace host;
    private FastOpenFileServer server;
    private InetSocketAddress address;
    private final List<String> log = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        assumeTrue(NetNamespace.unavailableReason().isEmpty(),
                () -> "skipped: " + NetNamespace.unavailableReason().orElse(""));
        Files.writeString(site.resolve("index.html"), INDEX);
        Files.writeString(site.resolve("text.txt"), TEXT);
        Files.createDirectory(site.resolve("docs"));
        Files.writeString(site.resolve("docs/notes.css"), "p { color: teal }\n");
        host = NetNamespace.create(3);
        server = host.call(() -> FastOpenFileServer.builder(site).port(0).fastOpen(16).accessLog(log::add)
                .maxHeaderBytes(4096).maxBodyBytes(1000).idleTimeout(Duration.ofSeconds(1)).start());
        address = new InetSocketAddress("127.0.0.1", server.port());
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        if (host != null) {
            host.close();
        }
    }

    private RawHttp get(String request) throws IOException {
        return host.call(() -> RawHttp.exchange(address, request));
    }

    private static String request(String method, String path, String... headers) {
        return method + " " + path + " HTTP/1.1\r\nHost: tfo4j.test\r\n" + String.join("", headers)
                + "Connection: close\r\n\r\n";
    }

    @Test
    void servesFilesWithHttpSemantics() throws Exception {
        RawHttp index = get(request("GET", "/"));
        assertEquals(200, index.status(), index.head());
        assertEquals(INDEX, index.body());
        assertEquals("text/html", index.header("Content-Type"));

        RawHttp head = get(request("HEAD", "/text.txt"));
        assertEquals(200, head.status());
        assertEquals(Integer.toString(TEXT.length()), head.header("Content-Length"));
        assertEquals("", head.body(), "HEAD has no body");

        RawHttp range = get(request("GET", "/text.txt", "Range: bytes=2-5\r\n"));
        assertEquals(206, range.status(), range.head());
        assertEquals("2345", range.body());
        assertEquals("bytes 2-5/20", range.header("Content-Range"));

        String etag = head.header("ETag");
        assertNotNull(etag, head.head());
        assertEquals(304, get(request("GET", "/text.txt", "If-None-Match: " + etag + "\r\n")).status());
        String modified = head.header("Last-Modified");
        assertEquals(304, get(request("GET", "/text.txt", "If-Modified-Since: " + modified + "\r\n")).status());

        RawHttp listing = get(request("GET", "/docs/"));
        assertEquals(200, listing.status());
        assertTrue(listing.body().contains("notes.css"), listing.body());
        assertTrue(get(request("GET", "/docs/notes.css")).header("Content-Type").startsWith("text/css"));
        assertEquals(404, get(request("GET", "/missing.txt")).status());
        RawHttp post = get(request("POST", "/text.txt", "Content-Length: 0\r\n"));
        assertEquals(405, post.status());
        assertEquals("GET, HEAD", post.header("Allow"));
        assertEquals(400, get(request("GET", "/../../etc/passwd")).status(), "no way out of the root");
    }

    @Test
    void keepsConnectionsAliveAndPipelines() throws Exception {
        String twoRequests = "GET /text.txt HTTP/1.1\r\nHost: tfo4j.test\r\n\r\n" + request("GET", "/text.txt");
        String answer = host.call(() -> {
            try (SocketChannel channel = RawHttp.PLAIN.dial(address, twoRequests.getBytes(StandardCharsets.US_ASCII))) {
                return readAll(channel);
            }
        });
        assertEquals(2, answer.split("HTTP/1.1 200 OK", -1).length - 1, answer);
        List<String> lines = awaitLog(2);
        String port = lines.get(0).split(" ")[1];
        assertTrue(lines.get(1).contains(" " + port + " "), "both requests on one connection: " + lines);
    }

    @Test
    void echoesPostsWithinTheBodyLimit() throws Exception {
        RawHttp echo = get(RawHttp.request("POST", "/echo", "hello, echo"));
        assertEquals(200, echo.status(), echo.head());
        assertEquals("hello, echo", echo.body());
        assertEquals("text/plain", echo.header("Content-Type"));
        assertEquals(405, get(request("GET", "/echo")).status());
        RawHttp tooBig = get(RawHttp.request("POST", "/echo", "x".repeat(1001)));
        assertEquals(413, tooBig.status(), tooBig.head());
    }

    @Test
    void badRequestsGetA4xxAndTheServerKeepsServing() throws Exception {
        assertEquals(400, get("BLAH\r\n\r\n").status());
        assertEquals(400, get("GET / HTTP/1.1\r\nNo colon here\r\n\r\n").status());
        assertEquals(400, get("GET / HTTP/1.1\r\n\r\n").status(), "HTTP/1.1 without Host");
        assertEquals(505, get("GET / HTTP/7.0\r\nHost: x\r\n\r\n").status());
        assertEquals(431, get(request("GET", "/", "X-Big: " + "a".repeat(5000) + "\r\n")).status());
        assertEquals(400, get(RawHttp.request("POST", "/echo", "abc").replace("Content-Length: 3",
                "Content-Length: -3")).status());
        assertEquals(200, get(request("GET", "/")).status(), "still serving");
    }

    @Test
    void aSlowClientIsClosedAfterTheIdleTimeoutWhileOthersAreServed() throws Exception {
        long started = System.nanoTime();
        Future<String> slow = host.submit(() -> {
            try (SocketChannel channel = RawHttp.PLAIN.dial(address, "GET / HTTP/1.1\r\nHost: tfo4j".getBytes(StandardCharsets.US_ASCII))) {
                return readAll(channel); // returns when the server closes the connection
            }
        });
        assertEquals(200, get(request("GET", "/text.txt")).status(), "served while the slow client waits");
        String answer = slow.get(10, TimeUnit.SECONDS);
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started);
        assertTrue(seconds < 5, "closed after the 1 s idle timeout, took " + seconds + " s");
        assertTrue(answer.isEmpty() || answer.startsWith("HTTP/1.1 4"), "no answer or a 4xx: " + answer);
        assertEquals(200, get(request("GET", "/")).status(), "still serving");
    }

    @Test
    void theAccessLogSaysWhichRequestsCameInTheSyn() throws Exception {
        FastOpenCounters before = host.call(FastOpenCounters::read);
        for (int i = 0; i < 3; i++) {
            RawHttp answer = host.call(() -> RawHttp.exchange(RawHttp.FAST_OPEN, address, request("GET", "/text.txt")));
            assertEquals(200, answer.status());
        }
        FastOpenCounters counted = host.call(FastOpenCounters::read).minus(before);
        List<String> lines = awaitLog(3);
        assertTrue(lines.get(0).endsWith("fastopen=plain"), "the first connection asks for a cookie: " + lines.get(0));
        assertTrue(lines.get(1).endsWith("fastopen=syn-data"), lines.get(1));
        assertTrue(lines.get(2).endsWith("fastopen=syn-data"), lines.get(2));
        assertEquals(2, counted.passive(), "the kernel took two SYNs with data: " + counted);
        assertTrue(lines.get(1).matches("\\S+ 127\\.0\\.0\\.1:\\d+ \"GET /text.txt HTTP/1.1\" 200 20 fastopen=syn-data"),
                lines.get(1));
    }

    private List<String> awaitLog(int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (log.size() < count && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertTrue(log.size() >= count, "expected " + count + " access log lines: " + log);
        return List.copyOf(log);
    }

    private static String readAll(SocketChannel channel) throws IOException {
        StringBuilder text = new StringBuilder();
        ByteBuffer buffer = ByteBuffer.allocate(8192);
        while (channel.read(buffer.clear()) >= 0) {
            text.append(StandardCharsets.ISO_8859_1.decode(buffer.flip()));
        }
        return text.toString();
    }
}
