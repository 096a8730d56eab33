package io.tfo4j.cli;

import io.tfo4j.lab.LabProcess;
import io.tfo4j.lab.DelayedHosts;
import com.fasterxml.jackson.databind.JsonNode;
import io.tfo4j.FastOpenCounters;
import io.tfo4j.lab.Nginx;
import io.tfo4j.lab.NetNamespace;
import io.tfo4j.lab.OpensslCertificate;
import io.tfo4j.lab.WanLab;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code tfo4j nc}, {@code get} and {@code serve} against Fast Open peers nobody here wrote: nginx with
 * {@code listen ... fastopen=256}, curl with {@code --tcp-fastopen}, and a Python client sending with
 * {@code MSG_FASTOPEN}; and {@code get}'s 425 retry against {@code serve --early-data=reject}. Over HTTPS too
 * (nginx {@code listen ... ssl}, {@code serve --tls}, certificates made by openssl or by serve), where the SYN
 * carries the TLS ClientHello. Client and server are namespaces with
 * {@code net.ipv4.tcp_fastopen=3}, joined by a {@link WanLab} link with a 100 ms round trip, so one round
 * trip saved is plain to see in the time to first byte.
 */
class InteropTest {
    private static final String CLIENT = WanLab.CLIENT_ADDRESS;
    private static final String SERVER = WanLab.SERVER_ADDRESS;
    private static final Duration ONE_WAY = Duration.ofMillis(50);
    private static final double RTT_MS = 2 * ONE_WAY.toMillis();
    private static final int TLS_WARM_UP_HANDSHAKES = 200;

    @TempDir
    Path nginxSite;
    private DelayedHosts hosts;
    private NetNamespace client;
    private NetNamespace server;

    @BeforeEach
    void createHosts() throws IOException {
        hosts = DelayedHosts.open(ONE_WAY);
        client = hosts.client();
        server = hosts.server();
    }

    @AfterEach
    void closeHosts() {
        if (hosts != null) {
            hosts.close();
        }
    }

    /** nginx with {@code listen SERVER:8080 fastopen=256} in the server namespace, serving "hello from nginx". */
    private Nginx startNginx() throws Exception {
        return startNginx(null);
    }

    /** {@link #startNginx()}, over TLS ({@code listen ... ssl fastopen=256}) with {@code tls}'s certificate unless it is null. */
    private Nginx startNginx(OpensslCertificate tls) throws Exception {
        assumeTrue(Nginx.unavailableReason().isEmpty(), () -> "skipped: " + Nginx.unavailableReason().orElse(""));
        // nginx's worker runs as an unprivileged user: the directory must be readable by all.
        Files.setPosixFilePermissions(nginxSite, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path index = Files.writeString(nginxSite.resolve("index.html"), "hello from nginx\n");
        Files.setPosixFilePermissions(index, PosixFilePermissions.fromString("rw-r--r--"));
        return Nginx.start(server, SERVER, 8080, nginxSite, tls);
    }

    /** A certificate made by openssl for the server's lab address, or the test is skipped without openssl. */
    private static OpensslCertificate serverCertificate(Path directory) throws IOException {
        assumeTrue(OpensslCertificate.unavailableReason().isEmpty(),
                () -> "skipped: " + OpensslCertificate.unavailableReason().orElse(""));
        return OpensslCertificate.make(directory, SERVER);
    }

    /** The kernel's Fast Open counters on both hosts, for the difference a test's connections make. */
    private record Counters(FastOpenCounters client, FastOpenCounters server) {
    }

    private Counters counters() throws Exception {
        return new Counters(client.call(FastOpenCounters::read), server.call(FastOpenCounters::read));
    }

    /**
     * Of the {@code connections} HTTPS connections made since {@code before}, all but the first carried their
     * ClientHello in the SYN, by the kernel on both sides: the client's TCPFastOpenActive (its SYN's data was
     * acknowledged) and the server's TCPFastOpenPassive (a connection made by such a SYN) grew by one for each.
     */
    private void assertClientHelloInTheSynFromTheSecond(Counters before, int connections) throws Exception {
        Counters after = counters();
        assertEquals(connections - 1, after.client().minus(before.client()).active(), "the client's TCPFastOpenActive");
        assertEquals(connections - 1, after.server().minus(before.server()).passive(), "the server's TCPFastOpenPassive");
    }

    /**
     * HTTPS (TLS 1.3) on a new connection: the first needs the TCP handshake, the TLS handshake and the request,
     * about 3 round trips to its first response byte; with the ClientHello in the SYN the TCP handshake rides
     * along, about 2. The bounds separate 2 from 3 with room for the handshake's CPU time on a loaded machine.
     */
    private static void assertTlsRoundTrips(List<JsonNode> lines) {
        double first = lines.getFirst().get("ttfbMs").asDouble() / RTT_MS;
        assertTrue(first >= 2.9 && first < 8.0, "connection 1 took " + first + " RTT, expected about 3");
        for (int i = 1; i < lines.size(); i++) {
            double later = lines.get(i).get("ttfbMs").asDouble() / RTT_MS;
            assertTrue(later >= 1.9 && later < 2.9, "connection " + (i + 1) + " took " + later + " RTT, expected about 2");
        }
    }

    @Test
    void ncAgainstNginxFastOpenSavesOneRoundTripFromTheSecondConnection() throws Exception {
        try (Nginx nginx = startNginx()) {
            FastOpenCounters before = server.call(FastOpenCounters::read);
            byte[] request = "GET / HTTP/1.0\r\nHost: tfo4j\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
            List<JsonNode> lines = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                try (LabProcess nc = CliProcess.run(client, request, "nc", "--json", SERVER, "8080")) {
                    assertTrue(nc.stdout().contains("hello from nginx"), "nginx answered: " + nc.stdout() + nc.stderr());
                    lines.add(nc.jsonLines().getFirst());
                }
            }
            hosts.report("tfo4j nc -> nginx fastopen", lines);
            assertEquals(List.of(false, true, true), lines.stream().map(l -> l.get("synData").asBoolean()).toList());
            assertEquals("COOKIE_REQUESTED", lines.get(0).get("outcome").asText());
            assertEquals(2, server.call(FastOpenCounters::read).minus(before).passive(), "nginx's TCPFastOpenPassive");
            hosts.assertRoundTrips(lines);
        }
    }

    @Test
    void getAgainstNginxSendsSafeRequestsInTheSynAndUnsafeOnesAfterTheHandshake() throws Exception {
        try (Nginx nginx = startNginx()) {
            String url = "http://" + SERVER + ":8080/";
            List<JsonNode> gets;
            try (LabProcess get = CliProcess.run(client, new byte[0], "get", "--json", "--count", "3", url)) {
                assertEquals(0, get.awaitExit(5), get.stderr());
                gets = get.stdoutJson();
            }
            hosts.report("tfo4j get -> nginx fastopen", gets);
            assertEquals(List.of(200, 200, 200), gets.stream().map(l -> l.get("status").asInt()).toList());
            assertEquals(List.of(false, true, true), gets.stream().map(l -> l.get("synData").asBoolean()).toList());
            hosts.assertRoundTrips(gets);

            List<JsonNode> posts;
            FastOpenCounters before = server.call(FastOpenCounters::read);
            try (LabProcess post = CliProcess.run(client, new byte[0], "get", "--json", "--count", "2",
                    "--method", "POST", "--data", "x=1", url + Nginx.OK_PATH.substring(1))) {
                assertEquals(0, post.awaitExit(5), post.stderr());
                posts = post.stdoutJson();
            }
            hosts.report("tfo4j get --method POST -> nginx fastopen", posts);
            assertEquals(List.of(false, false), posts.stream().map(l -> l.get("synData").asBoolean()).toList());
            assertTrue(posts.getFirst().get("reason").asText().contains("not a safe method"), posts.toString());
            assertEquals(0, server.call(FastOpenCounters::read).minus(before).passive(), "no Fast Open child for POST");
        }
    }

    @Test
    void getHttpsAgainstNginxSendsTheClientHelloInTheSynFromTheSecondConnection(@TempDir Path certificates) throws Exception {
        OpensslCertificate certificate = serverCertificate(certificates);
        try (Nginx nginx = startNginx(certificate)) {
            Counters before = counters();
            List<JsonNode> gets;
            try (LabProcess get = CliProcess.run(client, new byte[0], "get", "--insecure", "--json", "--count", "3",
                    "https://" + SERVER + ":8080/")) {
                assertEquals(0, get.awaitExit(5), get.stderr());
                gets = get.stdoutJson();
            }
            hosts.report("tfo4j get --insecure https -> nginx ssl fastopen", gets);
            assertEquals(List.of(200, 200, 200), gets.stream().map(l -> l.get("status").asInt()).toList());
            assertEquals(List.of(17, 17, 17), gets.stream().map(l -> l.get("bytes").asInt()).toList(), "hello from nginx");
            assertEquals(List.of("TLSv1.3", "TLSv1.3", "TLSv1.3"), gets.stream().map(l -> l.get("tls").asText()).toList());
            assertEquals(List.of(false, true, true), gets.stream().map(l -> l.get("synData").asBoolean()).toList());
            assertEquals(List.of("COOKIE_REQUESTED", "SYN_DATA_ACKED", "SYN_DATA_ACKED"),
                    gets.stream().map(l -> l.get("fastOpen").get("outcome").asText()).toList());
            assertClientHelloInTheSynFromTheSecond(before, 3);
            assertTlsRoundTrips(gets);
        }
    }

    /** {@code tfo4j serve} in the server namespace on port 8081 with {@code args}; its stdout is the access log. */
    private LabProcess startServe(Path site, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("serve", site.toString(), "--bind", SERVER, "--port", "8081",
                "--access-log"));
        command.addAll(List.of(args));
        LabProcess serve = CliProcess.start(server, new byte[0], command.toArray(String[]::new));
        try {
            DelayedHosts.awaitListening(server, 8081);
        } catch (AssertionError e) {
            serve.close();
            throw new AssertionError(e.getMessage() + "; tfo4j serve said: " + serve.stderr(), e);
        }
        return serve;
    }

    /** The access log lines of requests from {@code client} (waits up to 5 s for {@code count}). */
    private static List<String> accessLog(LabProcess serve, String client, int count) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        List<String> lines;
        do {
            lines = serve.stdout().lines().filter(l -> l.contains(" " + client + ":")).toList();
        } while (lines.size() < count && System.nanoTime() < deadline && sleep());
        assertEquals(count, lines.size(), "access log lines: " + serve.stdout() + serve.stderr());
        lines.forEach(l -> System.out.println("  access log: " + l));
        return lines;
    }

    /** Waits up to 5 s for a line of {@code process}'s stdout (serve prints its banner just after it listens). */
    private static void awaitStdout(LabProcess process, String line) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!process.stdout().lines().toList().contains(line) && System.nanoTime() < deadline) {
            sleep();
        }
        assertTrue(process.stdout().lines().toList().contains(line), "expected '" + line + "' in: " + process.stdout());
    }

    private static boolean sleep() throws InterruptedException {
        Thread.sleep(20);
        return true;
    }

    @Test
    void curlAgainstServeFastOpenIsAnsweredInOneRoundTripFromTheSecondRequest(@TempDir Path site) throws Exception {
        Path curl = Path.of("/usr/bin/curl");
        assumeTrue(Files.isExecutable(curl), "skipped: curl is not installed (apt-get install curl)");
        Files.writeString(site.resolve("index.html"), "<p>hello from tfo4j serve</p>\n");
        try (LabProcess serve = startServe(site, "--fastopen")) {
            // Warm the server's JVM up from its own host first, so the timed requests see a warm server.
            for (String path : List.of("index.html", "echo")) {
                Process warmUp = server.command(curl.toString(), "-s", "-o", "/dev/null", "-d", "w=1",
                        "http://" + SERVER + ":8081/" + path).start();
                assertTrue(warmUp.waitFor(15, TimeUnit.SECONDS), "warm-up request finished");
            }
            FastOpenCounters before = server.call(FastOpenCounters::read);
            List<JsonNode> lines = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                lines.add(curl(curl, "http://" + SERVER + ":8081/index.html"));
            }
            // A POST in the SYN (curl sends any request there): the server holds it until the handshake.
            JsonNode post = curl(curl, "-d", "x=1", "http://" + SERVER + ":8081/echo");
            List<String> log = accessLog(serve, CLIENT, 4);
            for (int i = 0; i < 3; i++) {
                ((com.fasterxml.jackson.databind.node.ObjectNode) lines.get(i)).put("synData", log.get(i).contains("syn-data"));
            }
            ((com.fasterxml.jackson.databind.node.ObjectNode) post).put("synData", log.get(3).contains("syn-data"));
            hosts.report("curl --tcp-fastopen -> tfo4j serve --fastopen (synData from the access log)", lines);
            hosts.report("curl --tcp-fastopen -d x=1 -> tfo4j serve --fastopen (early data: wait)", List.of(post));
            assertEquals(List.of(200, 200, 200, 200), java.util.stream.Stream.concat(lines.stream(), java.util.stream.Stream.of(post))
                    .map(l -> l.get("status").asInt()).toList());
            assertTrue(log.get(0).contains("\"GET /index.html HTTP/1.1\" 200 30 fastopen=plain"), log.get(0));
            assertTrue(log.get(1).endsWith(" fastopen=syn-data"), log.get(1));
            assertTrue(log.get(2).endsWith(" fastopen=syn-data"), log.get(2));
            assertTrue(log.get(3).contains("\"POST /echo HTTP/1.1\" 200 3 fastopen=syn-data early-data=held-"), log.get(3));
            assertEquals(3, server.call(FastOpenCounters::read).minus(before).passive(), "TCPFastOpenPassive");
            hosts.assertRoundTrips(lines);
            // Held for the handshake: the POST is answered after about two round trips, like plain TCP.
            double postRtt = post.get("ttfbMs").asDouble() / RTT_MS;
            assertTrue(postRtt >= 1.9 && postRtt < 6.0, "the held POST took " + postRtt + " RTT, expected about 2");
        }
    }

    @Test
    void curlHttpsAgainstServeTlsSendsTheClientHelloInTheSynFromTheSecondConnection(@TempDir Path site) throws Exception {
        Path curl = Path.of("/usr/bin/curl");
        assumeTrue(Files.isExecutable(curl), "skipped: curl is not installed (apt-get install curl)");
        Files.writeString(site.resolve("index.html"), "<p>hello from tfo4j serve</p>\n");
        String url = "https://" + SERVER + ":8081/index.html";
        try (LabProcess serve = startServe(site, "--tls", "--fastopen")) {
            // Warm the server's JVM and its TLS up from its own host first (without Fast Open), so the timed
            // requests see a warm server: full handshakes over HTTP/1.1 (a new connection for each of curl's
            // URLs, no session resumption), then HTTP/2 as the timed requests speak it.
            List<List<String>> warmUps = new ArrayList<>(List.of(List.of(curl.toString(), "-s", "-k", "--http1.1",
                    "--no-sessionid", "-H", "Connection: close", url + "?[1-" + TLS_WARM_UP_HANDSHAKES + "]")));
            for (int i = 0; i < 5; i++) {
                warmUps.add(List.of(curl.toString(), "-s", "-k", url));
            }
            for (List<String> command : warmUps) {
                Process warmUp = server.command(command.toArray(String[]::new))
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                try {
                    assertTrue(warmUp.waitFor(60, TimeUnit.SECONDS), "warm-up requests finished");
                } finally {
                    warmUp.destroyForcibly();
                }
            }
            Counters before = counters();
            List<JsonNode> lines = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                lines.add(curl(curl, "-k", url));
            }
            List<String> log = accessLog(serve, CLIENT, 3);
            for (int i = 0; i < 3; i++) {
                ((com.fasterxml.jackson.databind.node.ObjectNode) lines.get(i))
                        .put("synData", log.get(i).endsWith(" fastopen=syn-clienthello"));
            }
            hosts.report("curl --tcp-fastopen -k -> tfo4j serve --tls --fastopen (synData from the access log)", lines);
            assertEquals(List.of(200, 200, 200), lines.stream().map(l -> l.get("status").asInt()).toList());
            // curl speaks HTTP/2 or HTTP/1.1, as ALPN settles it.
            assertTrue(log.get(0).contains("\"GET /index.html HTTP/") && log.get(0).endsWith(" 200 30 fastopen=plain"), log.get(0));
            assertTrue(log.get(1).endsWith(" 200 30 fastopen=syn-clienthello"), log.get(1));
            assertTrue(log.get(2).endsWith(" 200 30 fastopen=syn-clienthello"), log.get(2));
            assertClientHelloInTheSynFromTheSecond(before, 3);
            assertTlsRoundTrips(lines);
        }
    }

    @Test
    void getTrustsServesCertificateWithCacertAndRefusesItWithout(@TempDir Path site, @TempDir Path certificates)
            throws Exception {
        OpensslCertificate certificate = serverCertificate(certificates);
        Files.writeString(site.resolve("index.html"), "<p>hello from tfo4j serve</p>\n");
        String url = "https://" + SERVER + ":8081/index.html";
        try (LabProcess serve = startServe(site, "--fastopen", "--cert", certificate.certificate().toString(),
                "--key", certificate.key().toString())) {
            String fingerprint = OpensslCertificate.run(certificates, "x509", "-noout", "-fingerprint", "-sha256",
                    "-in", certificate.certificate().toString()).strip().replaceFirst("^[^=]*=", "");
            awaitStdout(serve, "tfo4j serve: TLS certificate for " + SERVER + ", SHA-256 " + fingerprint);
            Counters before = counters();
            List<JsonNode> gets;
            try (LabProcess get = CliProcess.run(client, new byte[0], "get", "--cacert",
                    certificate.certificate().toString(), "--json", "--count", "3", url)) {
                assertEquals(0, get.awaitExit(5), get.stderr());
                gets = get.stdoutJson();
            }
            hosts.report("tfo4j get --cacert cert.pem -> tfo4j serve --fastopen --cert cert.pem --key key.pem", gets);
            assertEquals(List.of(200, 200, 200), gets.stream().map(l -> l.get("status").asInt()).toList());
            assertEquals(List.of(false, true, true), gets.stream().map(l -> l.get("synData").asBoolean()).toList());
            List<String> log = accessLog(serve, CLIENT, 3);
            assertTrue(log.get(0).contains("\"GET /index.html HTTP/1.1\" 200 30 fastopen=plain"), log.get(0));
            assertTrue(log.get(1).endsWith(" fastopen=syn-clienthello"), log.get(1));
            assertTrue(log.get(2).endsWith(" fastopen=syn-clienthello"), log.get(2));
            assertClientHelloInTheSynFromTheSecond(before, 3);
            // No time bounds here: this serve's JVM is cold (the curl test times a warmed one).

            // Without --cacert only the JDK's CAs are trusted, and none of them signed this certificate.
            try (LabProcess untrusted = CliProcess.run(client, new byte[0], "get", "--json", url)) {
                assertEquals(1, untrusted.awaitExit(5), untrusted.stdout() + untrusted.stderr());
                String error = untrusted.stdoutJson().getFirst().get("error").asText();
                assertTrue(error.contains("SSLHandshakeException") && error.contains("unable to find valid certification path"),
                        error);
            }
        }
    }

    /** One {@code curl --tcp-fastopen} request from the client namespace; status and time to first byte. */
    private JsonNode curl(Path curl, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(curl.toString(), "--tcp-fastopen", "-s", "-o", "/dev/null",
                "--max-time", "10", "-w", "{\"status\":%{http_code},\"ttfbMs\":%{time_starttransfer}}"));
        command.addAll(List.of(args));
        Process process = client.command(command.toArray(String[]::new)).redirectErrorStream(true).start();
        assertTrue(process.waitFor(15, TimeUnit.SECONDS), "curl finished");
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, process.exitValue(), "curl: " + out);
        JsonNode line = new com.fasterxml.jackson.databind.ObjectMapper().readTree(out);
        // curl gives seconds; whether the request rode in the SYN is for the server's access log to say.
        var object = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
        object.put("status", line.get("status").asInt());
        object.put("ttfbMs", line.get("ttfbMs").asDouble() * 1000);
        return object;
    }

    @Test
    void getRetriesA425TooEarlyOnceAfterTheHandshake(@TempDir Path site) throws Exception {
        try (LabProcess serve = startServe(site, "--fastopen", "--early-data=reject")) {
            String url = "http://" + SERVER + ":8081/echo";
            List<JsonNode> posts;
            try (LabProcess post = CliProcess.run(client, new byte[0], "get", "--json", "--count", "2",
                    "--method", "POST", "--data", "x=1", "--unsafe-in-syn", url)) {
                assertEquals(0, post.awaitExit(5), post.stderr());
                posts = post.stdoutJson();
            }
            hosts.report("tfo4j get --method POST --unsafe-in-syn -> tfo4j serve --early-data=reject", posts);
            assertEquals(List.of(200, 200), posts.stream().map(l -> l.get("status").asInt()).toList());
            assertTrue(posts.get(0).path("retriedAfterTooEarly").isMissingNode(), "the first POST waits for a cookie: " + posts);
            assertTrue(posts.get(1).get("retriedAfterTooEarly").asBoolean(), posts.toString());
            List<String> log = accessLog(serve, CLIENT, 3);
            assertTrue(log.get(0).contains("\"POST /echo HTTP/1.1\" 200 3 fastopen=plain"), log.get(0));
            assertTrue(log.get(1).contains("\"POST /echo HTTP/1.1\" 425 ") && log.get(1).endsWith("fastopen=syn-data early-data=rejected"), log.get(1));
            assertTrue(log.get(2).contains("\"POST /echo HTTP/1.1\" 200 3 fastopen=plain"), log.get(2));
        }
    }

    @Test
    void ncListenerSeesSynDataFromPythonMsgFastOpen() throws Exception {
        Path reply = Files.createTempFile("tfo4j-reply", ".txt");
        Files.writeString(reply, "reply from tfo4j\n");
        String python = String.join("\n",
                "import socket, sys",
                "for i in range(4):",
                "    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)",
                // Blocking sendto: with a timeout the socket is non-blocking, and without a cookie the
                // kernel then answers EINPROGRESS and drops the data (see docs/kernel-notes.md).
                "    s.sendto(b'hello %d' % i, socket.MSG_FASTOPEN, ('" + SERVER + "', 7000))",
                "    s.settimeout(10)",
                "    sys.stdout.write(s.recv(100).decode())",
                // The client's own view, for the report: tcpi_options and tcpi_fastopen_client_fail.
                "    info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)",
                "    sys.stderr.write('connection %d: tcpi_options=0x%x fastopen_client_fail=%d\\n'"
                        + " % (i, info[5], (info[7] >> 1) & 3))",
                "    s.close()", "");
        try (LabProcess listener = CliProcess.start(server, new byte[0], "nc", "-l", "-b", SERVER, "7000",
                "--fastopen", "--reply", reply.toString(), "--json", "--count", "4")) {
            try {
                DelayedHosts.awaitListening(server, 7000);
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "; tfo4j nc -l said: " + listener.stderr(), e);
            }
            Path pyErr = Files.createTempFile("tfo4j-python", ".err");
            Process py = client.command("python3", "-c", python).redirectError(pyErr.toFile()).start();
            assertTrue(py.waitFor(30, TimeUnit.SECONDS), "python client finished");
            String pyOut = new String(py.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            String pyView = Files.readString(pyErr);
            Files.deleteIfExists(pyErr);
            assumeTrue(py.exitValue() == 0 || !pyView.contains("No module"), "python3 is not usable: " + pyView);
            assertEquals(0, py.exitValue(), "python client: " + pyOut + pyView);
            assertEquals("reply from tfo4j\n".repeat(4), pyOut);
            assertEquals(0, listener.awaitExit(30), listener.stderr());
            assertEquals("hello 0hello 1hello 2hello 3", listener.stdout());
            List<JsonNode> lines = listener.jsonLines();
            hosts.report("python MSG_FASTOPEN -> tfo4j nc -l --fastopen", lines);
            System.out.print(pyView);
            assertEquals(List.of(false, true, true, true),
                    lines.stream().map(l -> l.get("synData").asBoolean()).toList(), "client: " + pyView);
            assertEquals(List.of(false, true, true, true),
                    lines.stream().map(l -> l.get("fastOpen").get("active").asBoolean()).toList());
        } finally {
            Files.deleteIfExists(reply);
        }
    }
}
