package io.tfo4j.bench;

import io.tfo4j.lab.LabProcess;
import io.tfo4j.lab.DelayedHosts;
import com.fasterxml.jackson.databind.JsonNode;
import io.tfo4j.FastOpenCounters;
import io.tfo4j.bench.peer.InsecureTls;
import io.tfo4j.lab.JvmLauncher;
import io.tfo4j.lab.Processes;
import io.tfo4j.lab.WanLab;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.HttpsURLConnection;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The benchmark peers of {@code tfo4j peer} across a 100 ms round trip: Netty's epoll client and server
 * with their own Fast Open options, against each other and against tfo4j serve's FastOpenFileServer, the JDK
 * HttpClient, which cannot do Fast Open, against the Netty server, and the TLS client (the JDK's SSLSocket on a
 * tfo4j socket) against the FastOpenFileServer over HTTPS.
 */
class PeersTest {
    private static final String CLIENT = WanLab.CLIENT_ADDRESS;
    private static final String SERVER = WanLab.SERVER_ADDRESS;
    private static final Duration ONE_WAY = Duration.ofMillis(50);
    private static final int NETTY_PORT = 8090;
    private static final int SERVE_PORT = 8091;
    private static final int SERVE_TLS_PORT = 8092;

    private DelayedHosts hosts;

    @BeforeEach
    void createHosts() throws IOException {
        hosts = DelayedHosts.open(ONE_WAY);
    }

    @AfterEach
    void closeHosts() {
        if (hosts != null) {
            hosts.close();
        }
    }

    /** {@code tfo4j peer netty-server --fastopen} with its access log on stdout; it warms up before it listens. */
    private LabProcess startNettyServer() throws Exception {
        return startServer(NETTY_PORT, "peer", "netty-server", "--bind", SERVER, "--port", Integer.toString(NETTY_PORT),
                "--fastopen", "--access-log");
    }

    private LabProcess startServer(int port, String... args) throws Exception {
        LabProcess server = BenchProcess.start(hosts.server(), new byte[0], args);
        try {
            DelayedHosts.awaitListening(hosts.server(), port);
        } catch (AssertionError e) {
            server.close();
            throw new AssertionError(e.getMessage() + "; the server said: " + server.stderr(), e);
        }
        return server;
    }

    /** Runs a peer client in the client namespace; its JSON lines, after checking it exited with 0. */
    private List<JsonNode> runClient(String... args) throws Exception {
        try (LabProcess cli = BenchProcess.run(hosts.client(), new byte[0], args)) {
            assertEquals(0, cli.awaitExit(5), cli.stdout() + cli.stderr());
            return cli.stdoutJson();
        }
    }

    /** The server's access log lines for requests from the client host (waits up to 5 s for {@code count}). */
    private static List<JsonNode> accessLog(LabProcess server, int count) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        List<JsonNode> lines;
        do {
            lines = server.stdoutJson().stream().filter(l -> l.get("remote").asText().startsWith(CLIENT + ":")).toList();
        } while (lines.size() < count && System.nanoTime() < deadline && sleep());
        assertEquals(count, lines.size(), "access log: " + server.stdout() + server.stderr());
        lines.forEach(l -> System.out.println("  access log: " + l));
        return lines;
    }

    private static boolean sleep() throws InterruptedException {
        Thread.sleep(20);
        return true;
    }

    private static List<Object> field(List<JsonNode> lines, String name) {
        return lines.stream().map(l -> l.get(name)).map(n -> n.isNumber() ? (Object) n.asInt() : n.asBoolean()).toList();
    }

    @Test
    void nettyClientAgainstNettyServerSendsTheRequestInTheSynFromTheSecondConnection() throws Exception {
        try (LabProcess server = startNettyServer()) {
            String url = "http://" + SERVER + ":" + NETTY_PORT + "/";
            FastOpenCounters before = hosts.server().call(FastOpenCounters::read);
            List<JsonNode> lines = runClient("peer", "netty-client", "--count", "3", "--json", url);
            hosts.report("tfo4j peer netty-client -> tfo4j peer netty-server --fastopen", lines);
            assertEquals(List.of(200, 200, 200), field(lines, "status"));
            assertEquals(List.of(true, true, true), field(lines, "fastOpen"));
            assertEquals(List.of(false, true, true), field(lines, "synData"));
            assertEquals(2, hosts.server().call(FastOpenCounters::read).minus(before).passive(), "TCPFastOpenPassive");
            hosts.assertRoundTrips(lines);
            // The server's own view of each connection agrees.
            assertEquals(List.of(false, true, true), field(accessLog(server, 3), "synData"));

            before = hosts.server().call(FastOpenCounters::read);
            List<JsonNode> plain = runClient("peer", "netty-client", "--count", "2", "--json", "--no-fastopen", url);
            hosts.report("tfo4j peer netty-client --no-fastopen -> tfo4j peer netty-server --fastopen", plain);
            assertEquals(List.of(200, 200), field(plain, "status"));
            assertEquals(List.of(false, false), field(plain, "fastOpen"));
            assertEquals(List.of(false, false), field(plain, "synData"));
            assertEquals(0, hosts.server().call(FastOpenCounters::read).minus(before).passive(), "TCPFastOpenPassive");
            hosts.assertTwoRoundTrips(plain);
        }
    }

    @Test
    void jdkClientAgainstNettyServerOpensANewConnectionPerRequestWithoutFastOpen() throws Exception {
        try (LabProcess server = startNettyServer()) {
            FastOpenCounters before = hosts.server().call(FastOpenCounters::read);
            List<JsonNode> lines = runClient("peer", "jdk-client", "--count", "3", "--json",
                    "http://" + SERVER + ":" + NETTY_PORT + "/");
            hosts.report("tfo4j peer jdk-client -> tfo4j peer netty-server --fastopen", lines);
            assertEquals(List.of(200, 200, 200), field(lines, "status"));
            assertEquals(List.of(false, false, false), field(lines, "fastOpen"));
            assertEquals(List.of(false, false, false), field(lines, "synData"));
            assertEquals(0, hosts.server().call(FastOpenCounters::read).minus(before).passive(), "TCPFastOpenPassive");
            hosts.assertTwoRoundTrips(lines);
            List<JsonNode> log = accessLog(server, 3);
            assertEquals(3, log.stream().map(l -> l.get("connection").asInt()).distinct().count(), "connections: " + log);
            assertEquals(3, log.stream().map(l -> l.get("remote").asText()).distinct().count(), "client ports: " + log);
            assertEquals(List.of(1, 1, 1), field(log, "request"), "each the first request on its connection");
        }
    }

    @Test
    void nettyClientAgainstServeFastOpenSendsTheRequestInTheSynFromTheSecondConnection(@TempDir Path site) throws Exception {
        Files.writeString(site.resolve("index.html"), "<p>hello from tfo4j serve</p>\n");
        // What tfo4j serve --fastopen runs, in a JVM of its own on the server host: no need for the user CLI here.
        Process serve = hosts.server().command(JvmLauncher.command(List.of(), System.getProperty("java.class.path"),
                FileServerMain.class.getName(), List.of(site.toString(), SERVER, Integer.toString(SERVE_PORT)))
                .toArray(String[]::new)).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            DelayedHosts.awaitListening(hosts.server(), SERVE_PORT);
            String url = "http://" + SERVER + ":" + SERVE_PORT + "/index.html";
            // Warm the server's JVM up from its own host first, so the timed requests see a warm server.
            assertEquals(200, hosts.server().call(() -> plainGet(url)), "warm-up request");
            FastOpenCounters before = hosts.server().call(FastOpenCounters::read);
            List<JsonNode> lines = runClient("peer", "netty-client", "--count", "3", "--json", url);
            hosts.report("tfo4j peer netty-client -> FastOpenFileServer (tfo4j serve --fastopen)", lines);
            assertEquals(List.of(200, 200, 200), field(lines, "status"));
            assertEquals(List.of(30, 30, 30), field(lines, "bytes"));
            assertEquals(List.of(false, true, true), field(lines, "synData"));
            assertEquals(2, hosts.server().call(FastOpenCounters::read).minus(before).passive(), "TCPFastOpenPassive");
            hosts.assertRoundTrips(lines);
        } finally {
            Processes.stop(serve);
        }
    }

    @Test
    void tlsClientAgainstServeTlsSendsTheClientHelloInTheSynFromTheSecondConnection(@TempDir Path site) throws Exception {
        Files.writeString(site.resolve("index.html"), "<p>hello from tfo4j serve --tls</p>\n");
        Process serve = hosts.server().command(JvmLauncher.command(List.of(), System.getProperty("java.class.path"),
                FileServerMain.class.getName(), List.of(site.toString(), SERVER, Integer.toString(SERVE_TLS_PORT), "tls"))
                .toArray(String[]::new)).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            DelayedHosts.awaitListening(hosts.server(), SERVE_TLS_PORT);
            String url = "https://" + SERVER + ":" + SERVE_TLS_PORT + "/index.html";
            // Warm the server's TLS up from its own host first (a cold JVM's handshake takes tens of milliseconds of
            // CPU), so the timed requests see a warm server: 200 requests, or as many as 10 s allow.
            long warmUpEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            for (int i = 0; i < 200 && System.nanoTime() < warmUpEnd; i++) {
                assertEquals(200, hosts.server().call(() -> insecureGet(url)), "warm-up request");
            }
            FastOpenCounters before = hosts.server().call(FastOpenCounters::read);
            List<JsonNode> lines = runTlsClient("--count", "3", url);
            hosts.report("tfo4j peer tls-client -> FastOpenFileServer over TLS (tfo4j serve --tls --fastopen)", lines);
            assertEquals(List.of(200, 200, 200), field(lines, "status"));
            assertEquals(List.of(36, 36, 36), field(lines, "bytes"));
            assertEquals(List.of("TLSv1.3", "TLSv1.3", "TLSv1.3"), lines.stream().map(l -> l.get("tls").asText()).toList());
            assertEquals(List.of(false, true, true), field(lines, "synData"), "the ClientHello in the SYN from the second on");
            assertEquals(2, hosts.server().call(FastOpenCounters::read).minus(before).passive(), "TCPFastOpenPassive");
            assertTlsRoundTrips(lines.subList(0, 1), 3);
            assertTlsRoundTrips(lines.subList(1, 3), 2);

            before = hosts.server().call(FastOpenCounters::read);
            List<JsonNode> plain = runTlsClient("--count", "2", "--no-fastopen", url);
            hosts.report("tfo4j peer tls-client --no-fastopen -> FastOpenFileServer over TLS", plain);
            assertEquals(List.of(200, 200), field(plain, "status"));
            assertEquals(List.of(false, false), field(plain, "synData"));
            assertEquals(0, hosts.server().call(FastOpenCounters::read).minus(before).passive(), "TCPFastOpenPassive");
            assertTlsRoundTrips(plain, 3);
        } finally {
            Processes.stop(serve);
        }
    }

    /** The TLS client in the client namespace; its warm-up on loopback takes up to 15 s of a loaded machine. */
    private List<JsonNode> runTlsClient(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("peer", "tls-client", "--json"));
        command.addAll(List.of(args));
        try (LabProcess cli = BenchProcess.start(hosts.client(), new byte[0], command.toArray(String[]::new))) {
            assertEquals(0, cli.awaitExit(60), cli.stdout() + cli.stderr());
            return cli.stdoutJson();
        }
    }

    /**
     * Each connection took about {@code roundTrips} round trips to its first byte: TLS 1.3 needs the TCP
     * handshake (unless the SYN carries the ClientHello), the TLS handshake and the request. Bounds as
     * {@link DelayedHosts#assertRoundTrips}: 0.1 below, 0.9 above (the saved round trip, with the margin of a
     * loaded 2-core machine and the TLS handshake's CPU time).
     */
    private void assertTlsRoundTrips(List<JsonNode> lines, int roundTrips) {
        for (JsonNode line : lines) {
            double rtts = line.get("ttfbMs").asDouble() / hosts.rttMs();
            assertTrue(rtts >= roundTrips - 0.1 && rtts < roundTrips + 0.9,
                    "request " + line.get("request") + " took " + rtts + " RTT, expected about " + roundTrips);
        }
    }

    /** A GET over HTTPS trusting any certificate, on the calling thread (so in its namespace); the status. */
    private static int insecureGet(String url) throws IOException {
        HttpsURLConnection connection = (HttpsURLConnection) URI.create(url).toURL().openConnection();
        connection.setSSLSocketFactory(InsecureTls.trustingAnyone().getSocketFactory());
        connection.setHostnameVerifier((host, session) -> true);
        try (InputStream body = connection.getInputStream()) {
            body.transferTo(OutputStream.nullOutputStream());
            return connection.getResponseCode();
        } finally {
            connection.disconnect();
        }
    }

    /** A GET with HttpURLConnection on the calling thread, so in that thread's namespace; the status. */
    private static int plainGet(String url) throws IOException {
        HttpURLConnection connection = (HttpURLConnection) URI.create(url).toURL().openConnection();
        try (InputStream body = connection.getInputStream()) {
            body.transferTo(OutputStream.nullOutputStream());
            return connection.getResponseCode();
        } finally {
            connection.disconnect();
        }
    }
}
