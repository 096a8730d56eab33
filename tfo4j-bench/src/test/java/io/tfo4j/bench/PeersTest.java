package io.tfo4j.bench;

import io.tfo4j.lab.LabProcess;
import io.tfo4j.lab.DelayedHosts;
import com.fasterxml.jackson.databind.JsonNode;
import io.tfo4j.FastOpenCounters;
import io.tfo4j.lab.JvmLauncher;
import io.tfo4j.lab.Processes;
import io.tfo4j.lab.WanLab;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The benchmark peers of {@code tfo4j peer} across a 100 ms round trip: Netty's epoll client and server
 * with their own Fast Open options, against each other and against tfo4j serve's FastOpenFileServer, and the JDK
 * HttpClient, which cannot do Fast Open, against the Netty server.
 */
class PeersTest {
    private static final String CLIENT = WanLab.CLIENT_ADDRESS;
    private static final String SERVER = WanLab.SERVER_ADDRESS;
    private static final Duration ONE_WAY = Duration.ofMillis(50);
    private static final int NETTY_PORT = 8090;
    private static final int SERVE_PORT = 8091;

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
