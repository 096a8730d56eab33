package io.tfo4j.http;

import io.tfo4j.FastOpenCounters;
import io.tfo4j.FastOpenDialer;
import io.tfo4j.lab.NetNamespace;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Malformed HTTP against {@link FastOpenFileServer} (what {@code tfo4j serve} runs) over real sockets, on
 * loopback in a private namespace with {@code tcp_fastopen=3}: thousands of mutated requests (byte flips,
 * truncation, huge and duplicated headers, bad methods and versions, bad chunked bodies, NULs, CR/LF
 * injection, overlong lines, random bytes), each on its own connection, a third of them in the SYN. Each is
 * answered with a 4xx (or 501/505) or a close, never another 5xx and never silence; after every few a good
 * GET gets 200 with the file's exact bytes; at the end the server holds no connection.
 *
 * <p>Seeded: the seed is printed at the start and in every failure, with the input; rerun one with
 * {@code -Dtfo4j.fuzz.seed=N} (and {@code -Dtfo4j.fuzz.count=N}, default 3000).
 */
class MalformedHttpFuzzTest {
    private static final int COUNT = Integer.getInteger("tfo4j.fuzz.count", 3000);
    private static final int GOOD_EVERY = 5;
    private static final int MAX_HEADER_BYTES = 8192;
    private static final int MAX_BODY_BYTES = 100_000;
    private static final Duration READ_DEADLINE = Duration.ofSeconds(20);
    private static final Pattern STATUS = Pattern.compile("(?m)^HTTP/1\\.[01] (\\d{3}) ");
    private static final FastOpenDialer FAST_OPEN = FastOpenDialer.create().withConnectTimeout(Duration.ofSeconds(10));
    private static final FastOpenDialer PLAIN = FAST_OPEN.withFastOpen(false);

    @TempDir
    Path site;
    private NetNamespace host;
    private FastOpenFileServer server;
    private InetSocketAddress address;
    private byte[] file;

    @BeforeEach
    void start() throws Exception {
        assumeTrue(NetNamespace.unavailableReason().isEmpty(),
                () -> "skipped: " + NetNamespace.unavailableReason().orElse(""));
        file = new byte[3000];
        new Random(7).nextBytes(file);
        Files.write(site.resolve("file.bin"), file);
        Files.writeString(site.resolve("index.html"), "<!doctype html><p>fuzz</p>\n");
        host = NetNamespace.create(3);
        server = host.call(() -> FastOpenFileServer.builder(site).port(0).fastOpen(64)
                .maxHeaderBytes(MAX_HEADER_BYTES).maxBodyBytes(MAX_BODY_BYTES).idleTimeout(Duration.ofSeconds(10))
                .start());
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

    /** What came back on one connection. */
    /** What came back on one connection; {@code localPort} is the client's port, -1 when the dial failed. */
    private record Answer(byte[] bytes, boolean reset, boolean timedOut, int localPort) {
        String text() {
            return new String(bytes, StandardCharsets.ISO_8859_1);
        }

        List<Integer> statuses() {
            List<Integer> statuses = new ArrayList<>();
            Matcher matcher = STATUS.matcher(text());
            while (matcher.find()) {
                statuses.add(Integer.parseInt(matcher.group(1)));
            }
            return statuses;
        }
    }

    /** Sends {@code request} on a new connection, half-closes, and reads until the server closes or the deadline. */
    private Answer exchange(byte[] request, boolean fastOpen) throws IOException {
        return host.call(() -> {
            int first = Math.min(request.length, 1000);
            FastOpenDialer dialer = fastOpen && first > 0 ? FAST_OPEN : PLAIN;
            ByteArrayOutputStream received = new ByteArrayOutputStream();
            int port = -1;
            try (SocketChannel channel = dialer.dial(address, Arrays.copyOf(request, first))) {
                port = ((java.net.InetSocketAddress) channel.getLocalAddress()).getPort();
                try {
                    ByteBuffer rest = ByteBuffer.wrap(request, first, request.length - first);
                    while (rest.hasRemaining()) {
                        channel.write(rest);
                    }
                    channel.shutdownOutput();
                } catch (IOException closedWhileSending) {
                    // The server answered and closed before taking everything: read what it said.
                }
                channel.socket().setSoTimeout((int) READ_DEADLINE.toMillis());
                InputStream in = channel.socket().getInputStream();
                byte[] buffer = new byte[16384];
                try {
                    for (int n; (n = in.read(buffer)) >= 0; ) {
                        received.write(buffer, 0, n);
                    }
                } catch (SocketTimeoutException e) {
                    return new Answer(received.toByteArray(), false, true, port);
                } catch (IOException e) {
                    return new Answer(received.toByteArray(), true, false, port);
                }
            } catch (IOException e) {
                return new Answer(received.toByteArray(), true, false, port);
            }
            return new Answer(received.toByteArray(), false, false, port);
        });
    }

    @Test
    void mutatedRequestsGetA4xxOrACloseAndGoodOnesStillGetTheFile() throws Exception {
        long seed = Long.getLong("tfo4j.fuzz.seed", System.nanoTime());
        System.out.println("MalformedHttpFuzzTest: seed " + seed + ", " + COUNT + " inputs"
                + " (rerun with -Dtfo4j.fuzz.seed=" + seed + ")");
        Random random = new Random(seed);
        Mutator mutator = new Mutator(random);
        Map<String, Integer> outcomes = new TreeMap<>();
        Map<String, Integer> kinds = new TreeMap<>();
        FastOpenCounters before = host.call(FastOpenCounters::read);
        int good = 0;
        long bytesSent = 0;
        for (int i = 0; i < COUNT; i++) {
            Mutator.Input input = mutator.next();
            kinds.merge(input.kind(), 1, Integer::sum);
            bytesSent += input.bytes().length;
            boolean fastOpen = random.nextInt(3) == 0;
            Answer answer = exchange(input.bytes(), fastOpen);
            String context = "seed " + seed + ", input " + i + " (" + input.kind() + ", " + input.bytes().length
                    + " bytes" + (fastOpen ? ", in the SYN" : "") + ", from port " + answer.localPort() + ", answered "
                    + show(Arrays.copyOf(answer.bytes(), Math.min(answer.bytes().length, 40))) + "): "
                    + show(input.bytes());
            if (answer.timedOut()) {
                fail("no answer and no close within " + READ_DEADLINE.toSeconds() + " s for " + context
                        + "; got " + show(answer.bytes()));
            }
            List<Integer> statuses = answer.statuses();
            for (int status : statuses) {
                if (status >= 500 && status != 501 && status != 505) {
                    fail("answered " + status + " to " + context + ":\n" + answer.text());
                }
            }
            String outcome = statuses.isEmpty()
                    ? (answer.bytes().length > 0 ? "not HTTP: " + show(answer.bytes()) : answer.reset() ? "reset" : "closed")
                    : statuses.get(0) + (statuses.size() > 1 ? " (+" + (statuses.size() - 1) + " pipelined)" : "");
            if (!statuses.isEmpty() && answer.bytes().length > 0 && !answer.text().startsWith("HTTP/1.")) {
                fail("the answer to " + context + " does not start with a status line:\n" + show(answer.bytes()));
            }
            if (statuses.isEmpty() && answer.bytes().length > 0) {
                fail("bytes that are not an HTTP answer for " + context + ": " + show(answer.bytes()));
            }
            outcomes.merge(outcome.replaceAll(" \\(\\+\\d+ pipelined\\)", " +pipelined"), 1, Integer::sum);
            if (i % GOOD_EVERY == GOOD_EVERY - 1 || i == COUNT - 1) {
                assertGoodGet(context, random.nextBoolean());
                good++;
            }
        }
        FastOpenCounters counters = host.call(FastOpenCounters::read).minus(before);
        try (SocketChannel idle = host.call(() -> PLAIN.dial(address, "GET / HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII)))) {
            assertTrue(awaitConnections(count -> count > 0, Duration.ofSeconds(10)) > 0,
                    "the count sees a connection the server holds (" + idle.getLocalAddress() + ")");
        }
        int held = awaitConnections(count -> count == 0, Duration.ofSeconds(20));
        System.out.println("MalformedHttpFuzzTest: seed " + seed + ": " + COUNT + " mutated requests ("
                + bytesSent + " bytes), " + good + " good GETs all 200 with the exact bytes; outcomes " + outcomes
                + "; inputs by kind " + kinds + "; TCPFastOpenPassive +" + counters.passive()
                + "; connections the server still holds: " + held);
        assertEquals(0, held, "connections (ESTABLISHED or CLOSE_WAIT) the server still holds after the fuzz");
        assertTrue(counters.passive() > 0, "some inputs rode in the SYN: " + counters);
    }

    private void assertGoodGet(String after, boolean fastOpen) throws IOException {
        String request = "GET /file.bin HTTP/1.1\r\nHost: tfo4j.test\r\nConnection: close\r\n\r\n";
        Answer answer = exchange(request.getBytes(StandardCharsets.US_ASCII), fastOpen);
        String text = answer.text();
        int end = text.indexOf("\r\n\r\n");
        assertTrue(text.startsWith("HTTP/1.1 200 ") && end > 0,
                () -> "a good GET" + (fastOpen ? " in the SYN" : "") + " from port " + answer.localPort() + " after "
                        + after + " got: " + show(answer.bytes()));
        assertArrayEquals(file, Arrays.copyOfRange(answer.bytes(), end + 4, answer.bytes().length),
                () -> "a good GET after " + after + " got other bytes");
    }

    /**
     * Counts the server's sockets that are ESTABLISHED (01) or CLOSE_WAIT (08) in the namespace's
     * {@code /proc/net/tcp} and {@code tcp6} (local port = the server's) until the count is {@code wanted} or the deadline
     * passes; returns the last count.
     */
    private int awaitConnections(java.util.function.IntPredicate wanted, Duration deadline) throws Exception {
        long end = System.nanoTime() + deadline.toNanos();
        String port = String.format(":%04X", server.port());
        while (true) {
            int held = host.call(() -> {
                int count = 0;
                // Java's sockets are IPv6 sockets even for IPv4 addresses, so they are listed in tcp6.
                for (String table : List.of("/proc/thread-self/net/tcp", "/proc/thread-self/net/tcp6")) {
                    for (String line : Files.readAllLines(Path.of(table))) {
                        String[] fields = line.trim().split("\\s+");
                        if (fields.length > 3 && fields[1].endsWith(port)
                                && (fields[3].equals("01") || fields[3].equals("08"))) {
                            count++;
                        }
                    }
                }
                return count;
            });
            if (wanted.test(held) || System.nanoTime() > end) {
                return held;
            }
            Thread.sleep(200);
        }
    }

    /** Printable form of some bytes, at most 600 characters, with the length. */
    static String show(byte[] bytes) {
        StringBuilder out = new StringBuilder("\"");
        for (int i = 0; i < Math.min(bytes.length, 600); i++) {
            int b = bytes[i] & 0xff;
            out.append(b == '\r' ? "\\r" : b == '\n' ? "\\n" : b == '"' ? "\\\"" : b == '\\' ? "\\\\"
                    : b >= 0x20 && b < 0x7f ? String.valueOf((char) b) : String.format("\\x%02x", b));
        }
        return out.append(bytes.length > 600 ? "\"... (" + bytes.length + " bytes)" : "\"").toString();
    }

    /** Makes malformed requests from valid ones, deterministically from its Random. */
    static final class Mutator {
        record Input(String kind, byte[] bytes) {
        }

        private static final String[] METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH",
                "CONNECT", "PRI", "get", "G ET", "GET\0", "\u00c9T", "X".repeat(300), "", "-", "GET/", "BREW"};
        private static final String[] VERSIONS = {"HTTP/1.1", "HTTP/1.0", "HTTP/1.2", "HTTP/2.0", "HTTP/0.9", "HTTP/9.9",
                "HTTP/1", "HTTPS/1.1", "http/1.1", "HTTP/1.1x", "HTTP/01.1", "HTTP/1.10", "", " HTTP/1.1", "HTTP/\0.1"};
        private static final String[] PATHS = {"/file.bin", "/", "/index.html", "/echo", "/missing", "/../../etc/passwd",
                "/%zz", "/..%2f..%2fetc/passwd", "/%00", "*", "http://tfo4j.test/file.bin", "//", "/a?b=c#d",
                "/\u00e9", "file.bin", "/%2e%2e/", "/;x=y"};
        private final Random random;

        Mutator(Random random) {
            this.random = random;
        }

        private String pick(String[] choices) {
            return choices[random.nextInt(choices.length)];
        }

        private String body(int length) {
            StringBuilder body = new StringBuilder(length);
            for (int i = 0; i < length; i++) {
                body.append((char) ('a' + random.nextInt(26)));
            }
            return body.toString();
        }

        /** A valid request to start from: a GET, a HEAD, a POST to /echo with a length or in chunks. */
        private String base() {
            String headers = "Host: tfo4j.test\r\nUser-Agent: fuzz\r\nAccept: */*\r\n";
            return switch (random.nextInt(5)) {
                case 0 -> "GET /file.bin HTTP/1.1\r\n" + headers + "\r\n";
                case 1 -> "HEAD /index.html HTTP/1.1\r\n" + headers + "Range: bytes=0-10\r\n\r\n";
                case 2 -> {
                    String body = body(random.nextInt(200));
                    yield "POST /echo HTTP/1.1\r\n" + headers + "Content-Type: text/plain\r\nContent-Length: "
                            + body.length() + "\r\n\r\n" + body;
                }
                case 3 -> "POST /echo HTTP/1.1\r\n" + headers + "Transfer-Encoding: chunked\r\n\r\n"
                        + chunks(false);
                default -> "GET / HTTP/1.0\r\n\r\n";
            };
        }

        private String chunks(boolean broken) {
            StringBuilder out = new StringBuilder();
            int count = 1 + random.nextInt(4);
            for (int i = 0; i < count; i++) {
                String data = body(1 + random.nextInt(40));
                String size = Integer.toHexString(data.length());
                if (broken) {
                    switch (random.nextInt(10)) {
                        case 0 -> size = "zz";
                        case 1 -> size = "-" + size;
                        case 2 -> size = "ffffffffffffffffff";
                        case 3 -> size = Integer.toHexString(data.length() + 1 + random.nextInt(10));
                        case 4 -> size = size + ";ext=\"unterminated";
                        case 5 -> size = "";
                        case 6 -> size = " " + size;
                        case 7 -> size = "7fffffff";
                        default -> {
                        }
                    }
                }
                out.append(size).append("\r\n").append(data).append(broken && random.nextInt(6) == 0 ? "" : "\r\n");
            }
            if (!broken || random.nextInt(3) > 0) {
                out.append("0\r\n").append(broken && random.nextInt(4) == 0 ? "Trailer: x\r\n" : "").append("\r\n");
            }
            return out.toString();
        }

        Input next() {
            int kind = random.nextInt(20);
            String request = base();
            return switch (kind) {
                case 0 -> new Input("byte flips", flip(bytes(request), 1 + random.nextInt(4)));
                case 1 -> {
                    byte[] bytes = bytes(request);
                    yield new Input("truncated", Arrays.copyOf(bytes, random.nextInt(bytes.length)));
                }
                case 2 -> new Input("huge header", bytes(insertHeader(request, "X-Big: "
                        + "v".repeat(MAX_HEADER_BYTES / 2 + random.nextInt(4 * MAX_HEADER_BYTES)))));
                case 3 -> {
                    StringBuilder many = new StringBuilder();
                    int count = 50 + random.nextInt(2000);
                    for (int i = 0; i < count; i++) {
                        many.append("X-").append(i).append(": ").append(i).append("\r\n");
                    }
                    yield new Input("many headers", bytes(insertHeader(request, many.toString().strip())));
                }
                case 4 -> new Input("duplicated headers", bytes(insertHeader(request, switch (random.nextInt(6)) {
                    case 0 -> "Host: other.test";
                    case 1 -> "Content-Length: 5\r\nContent-Length: 7";
                    case 2 -> "Transfer-Encoding: chunked\r\nContent-Length: 3";
                    case 3 -> "Transfer-Encoding: gzip, chunked\r\nTransfer-Encoding: identity";
                    case 4 -> "Content-Length: -1";
                    default -> "Connection: close, upgrade\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__";
                })));
                case 5 -> new Input("bad method", bytes(pick(METHODS) + " " + pick(PATHS) + " HTTP/1.1\r\n"
                        + "Host: tfo4j.test\r\nContent-Length: 0\r\n\r\n"));
                case 6 -> new Input("bad version", bytes("GET " + pick(PATHS) + " " + pick(VERSIONS)
                        + "\r\nHost: tfo4j.test\r\n\r\n"));
                case 7 -> new Input("bad chunked body", bytes("POST /echo HTTP/1.1\r\nHost: tfo4j.test\r\n"
                        + "Transfer-Encoding: chunked\r\n\r\n" + chunks(true)));
                case 8 -> new Input("NULs", insert(bytes(request), "\0".repeat(1 + random.nextInt(3))));
                case 9 -> new Input("CR/LF injection", insert(bytes(request), pick(new String[]{"\r\n", "\r", "\n",
                        "\r\n\r\n", "\n\r", "\r\nX-Injected: 1\r\n", "\r\n\r\nGET /x HTTP/1.1\r\n"})));
                case 10 -> new Input("overlong request line", bytes("GET /" + "a".repeat(MAX_HEADER_BYTES
                        + random.nextInt(10 * MAX_HEADER_BYTES)) + " HTTP/1.1\r\nHost: tfo4j.test\r\n\r\n"));
                case 11 -> {
                    byte[] junk = new byte[random.nextInt(2000)];
                    random.nextBytes(junk);
                    yield new Input("random bytes", junk);
                }
                case 12 -> new Input("body over the limit", bytes("POST /echo HTTP/1.1\r\nHost: tfo4j.test\r\n"
                        + "Content-Length: " + (MAX_BODY_BYTES + 1 + random.nextInt(1 << 20)) + "\r\n\r\n"
                        + body(random.nextInt(2000))));
                case 13 -> new Input("body shorter than its length", bytes("POST /echo HTTP/1.1\r\nHost: tfo4j.test\r\n"
                        + "Content-Length: " + (50 + random.nextInt(1000)) + "\r\n\r\n" + body(random.nextInt(50))));
                case 14 -> new Input("bad path", bytes("GET " + pick(PATHS) + pick(PATHS) + " HTTP/1.1\r\n"
                        + "Host: tfo4j.test\r\n\r\n"));
                case 15 -> new Input("bad header syntax", bytes(insertHeader(request, pick(new String[]{
                        "Host : spaced.test", "NoColon", " folded continuation", ": empty name", "X\0Y: z",
                        "X-Bad\u00e9: v", "Content-Length: 1e3", "Content-Length: 0x10", "Content-Length: 99999999999999999999",
                        "Transfer-Encoding: chunked, gzip", "Expect: 100-continue", "Expect: nonsense",
                        "Range: bytes=9999999999-", "Range: bytes=-0,-0,-0,-0,-0", "If-Modified-Since: never"}))));
                case 16 -> new Input("HTTP/0.9 and bare lines", bytes(pick(new String[]{"GET /\r\n", "GET /\n\n",
                        "\r\n\r\n\r\n", "\n", "GET / HTTP/1.1\n\n", "GET / HTTP/1.1\r\nHost: tfo4j.test\n\n"})));
                case 17 -> new Input("pipelined with junk", bytes(request + base() + body(random.nextInt(100))));
                case 18 -> new Input("TLS or HTTP/2 on the plain port", random.nextBoolean()
                        ? bytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + body(20))
                        : new byte[]{0x16, 0x03, 0x01, 0x00, (byte) 0xa5, 0x01, 0x00, 0x00, (byte) 0xa1, 0x03, 0x03});
                default -> new Input("several mutations", flip(insert(bytes(request), "\r\n"), 1 + random.nextInt(8)));
            };
        }

        private static byte[] bytes(String text) {
            return text.getBytes(StandardCharsets.ISO_8859_1);
        }

        private String insertHeader(String request, String header) {
            int at = request.indexOf("\r\n") + 2;
            return request.substring(0, at) + header + "\r\n" + request.substring(at);
        }

        private byte[] flip(byte[] bytes, int flips) {
            byte[] copy = bytes.clone();
            for (int i = 0; i < flips && copy.length > 0; i++) {
                int at = random.nextInt(copy.length);
                copy[at] = random.nextBoolean() ? (byte) (copy[at] ^ (1 << random.nextInt(8))) : (byte) random.nextInt(256);
            }
            return copy;
        }

        private byte[] insert(byte[] bytes, String text) {
            int at = random.nextInt(bytes.length + 1);
            byte[] inserted = text.getBytes(StandardCharsets.ISO_8859_1);
            byte[] out = new byte[bytes.length + inserted.length];
            System.arraycopy(bytes, 0, out, 0, at);
            System.arraycopy(inserted, 0, out, at, inserted.length);
            System.arraycopy(bytes, at, out, at + inserted.length, bytes.length - at);
            return out;
        }
    }
}
