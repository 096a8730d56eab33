package io.tfo4j.agent.it;

import io.tfo4j.FastOpenCounters;
import io.tfo4j.agent.it.apps.HttpClientApp;
import io.tfo4j.lab.Nginx;
import io.tfo4j.lab.OpensslCertificate;
import io.tfo4j.lab.WanLab;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * An unmodified {@code java.net.http.HttpClient} program, which has no socket factory to hand tfo4j, under
 * the agent's {@code connect=PORT} against nginx {@code listen ... fastopen=256}: its GETs ride in the SYN from
 * the second connection on; under the default {@code early=safe} its POSTs do not, because SYN data can be
 * replayed; under {@code early=all} they do. Proof: the client host's TCPFastOpenActive, which the kernel
 * counts only for a SYN whose data the server acknowledged. Over HTTPS ({@code listen ... ssl fastopen=256})
 * the first write is the TLS ClientHello, which rides in the SYN for every method.
 *
 * <p>The agent runs with {@code window=1000}: a JVM's first HttpClient requests, before the JIT has compiled
 * its code, write later than the default 10 ms window after connect (docs/agent.md has the figures), and
 * their SYN would then leave without data, as the agent's design wants; but this test is about which
 * requests may ride in the SYN, not about the window (1000 ms is the most the agent takes). 200 ms was not
 * enough on a 2-core machine at load average 7 (a first write 275 ms after connect).
 */
class HttpClientUnderTheAgentTest {
    private static final String SERVER = WanLab.SERVER_ADDRESS;
    private static final int PORT = 8080;
    private static final String URL = "http://" + SERVER + ":" + PORT + Nginx.OK_PATH;
    private static final String AGENT = "connect=" + PORT + ",window=1000";
    private static final int TLS_PORT = 8443;
    private static final String TLS_URL = "https://" + SERVER + ":" + TLS_PORT + Nginx.OK_PATH;
    private static final String TLS_AGENT = "connect=" + TLS_PORT + ",window=1000,verbose=true";
    private static final String TRUST_STORE_PASSWORD = "tfo4j-test";

    @TempDir
    Path site;
    @TempDir
    Path keys;

    @RegisterExtension
    final LabHosts lab = new LabHosts();
    private Nginx nginx;

    @BeforeEach
    void hosts() throws Exception {
        assumeTrue(Nginx.unavailableReason().isEmpty(), () -> "skipped: " + Nginx.unavailableReason().orElse(""));
        Files.writeString(site.resolve("index.html"), "hello\n");
        site.toFile().setReadable(true, false);
        site.toFile().setExecutable(true, false);
        nginx = Nginx.start(lab.server(), SERVER, PORT, site);
    }

    @AfterEach
    void close() throws Exception {
        if (nginx != null) {
            nginx.close();
        }
    }

    @Test
    void getsRideInTheSynAndPostsWaitForTheHandshake() throws Exception {
        JavaProgram.Finished gets = client(AGENT + ",verbose=true", "GET", 3, 2);
        assertTrue(gets.agentLines().stream().anyMatch(line ->
                line.contains("connect " + SERVER + ":" + PORT + ": Fast Open on")), gets::text);

        JavaProgram.Finished posts = client(AGENT + ",verbose=true", "POST", 3, 0);
        assertEquals(3, posts.agentLines().stream().filter(line -> line.contains("an HTTP request that is not safe"
                + " waits for the handshake (early=safe); its SYN left without data")).count(), posts::text);
    }

    @Test
    void earlyAllSendsPostsInTheSynToo() throws Exception {
        client(AGENT, "GET", 1, 0);
        client(AGENT + ",early=all", "POST", 3, 3);
    }

    @Test
    void overHttpsTheClientHelloRidesInTheSynForEveryMethod() throws Exception {
        assumeTrue(OpensslCertificate.unavailableReason().isEmpty(),
                () -> "skipped: " + OpensslCertificate.unavailableReason().orElse(""));
        OpensslCertificate certificate = OpensslCertificate.make(keys, SERVER);
        // The program is unchanged: it trusts nginx's certificate through the JDK's own trust store properties.
        List<String> trust = List.of("-Djavax.net.ssl.trustStore=" + trustStore(certificate),
                "-Djavax.net.ssl.trustStorePassword=" + TRUST_STORE_PASSWORD, "-Djavax.net.ssl.trustStoreType=PKCS12");
        try (Nginx https = Nginx.start(lab.server(), SERVER, TLS_PORT, site, certificate)) {
            FastOpenCounters serverBefore = lab.server().call(FastOpenCounters::read);
            JavaProgram.Finished gets = client(trust, TLS_AGENT, TLS_URL, "GET", 3, 2);
            assertEquals(2, lab.server().call(FastOpenCounters::read).minus(serverBefore).passive(),
                    "nginx's host took two SYNs with data (TCPFastOpenPassive)");
            assertEquals(2, agentLines(gets, ": first write", "rides in the SYN"), gets::text);

            // early=safe keeps a POST out of the SYN only when the POST is the first write; over TLS the first
            // write is the ClientHello. The cookie is cached now, so every connection may ride; but a new JVM's
            // first ClientHello can come more than the window (1000 ms, the most the agent takes) after
            // connect on a loaded machine (TLS starting up), and its SYN then leaves without data, as the
            // agent says. The other two always ride.
            FastOpenCounters clientBefore = lab.client().call(FastOpenCounters::read);
            serverBefore = lab.server().call(FastOpenCounters::read);
            JavaProgram.Finished posts = JavaProgram.run(lab.client(), JavaProgram.java25(),
                    arguments(trust, TLS_AGENT, TLS_URL, "POST", 3), Duration.ofSeconds(60));
            FastOpenCounters client = lab.client().call(FastOpenCounters::read).minus(clientBefore);
            FastOpenCounters server = lab.server().call(FastOpenCounters::read).minus(serverBefore);
            assertEquals(0, posts.exitCode(), posts::text);
            long riding = agentLines(posts, ": first write", "rides in the SYN");
            long late = agentLines(posts, ": nothing was written within", "after connect");
            assertEquals(0, agentLines(posts, "not safe", ""), posts::text);
            assertEquals(3, riding + late, posts::text);
            assertTrue(late <= 1, () -> "only the JVM's first connection may miss the window:\n" + posts.text());
            assertEquals(riding, client.active(), () -> "client TCPFastOpenActive " + client + "\n" + posts.text());
            // Every SYN carried the cookie, data or not, and the server's kernel counts a Fast Open connection
            // for each valid cookie.
            assertEquals(3, server.passive(), () -> "server TCPFastOpenPassive " + server + "\n" + posts.text());
        }
    }

    /** The agent's verbose lines about connections to the HTTPS port that contain {@code part} and end with {@code end}. */
    private static long agentLines(JavaProgram.Finished run, String part, String end) {
        return run.agentLines().stream().filter(line -> line.contains("connection to " + SERVER + ":" + TLS_PORT)
                && line.contains(part) && line.endsWith(end)).count();
    }

    /** A PKCS#12 trust store holding nginx's certificate, for the JDK's {@code javax.net.ssl.trustStore}. */
    private Path trustStore(OpensslCertificate certificate) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        try (InputStream in = Files.newInputStream(certificate.certificate())) {
            store.setCertificateEntry("nginx", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        Path file = keys.resolve("truststore.p12");
        try (OutputStream out = Files.newOutputStream(file)) {
            store.store(out, TRUST_STORE_PASSWORD.toCharArray());
        }
        return file;
    }

    /** {@code java JVM-OPTIONS -javaagent:... -cp ... HttpClientApp URL METHOD REQUESTS}. */
    private static List<String> arguments(List<String> jvmOptions, String agentOptions, String url, String method,
                                          int requests) {
        List<String> arguments = new ArrayList<>(jvmOptions);
        arguments.add(JavaProgram.agent(agentOptions));
        arguments.addAll(JavaProgram.main(HttpClientApp.class));
        arguments.addAll(List.of(url, method, Integer.toString(requests)));
        return arguments;
    }

    /** Runs the program, and checks how many of its SYNs carried data the server acknowledged. */
    private JavaProgram.Finished client(String agentOptions, String method, int requests, long synDataAcked)
            throws Exception {
        return client(List.of(), agentOptions, URL, method, requests, synDataAcked);
    }

    /** {@link #client(String, String, int, long)} with more JVM options and another URL. */
    private JavaProgram.Finished client(List<String> jvmOptions, String agentOptions, String url, String method,
                                        int requests, long synDataAcked) throws Exception {
        FastOpenCounters before = lab.client().call(FastOpenCounters::read);
        JavaProgram.Finished run = JavaProgram.run(lab.client(), JavaProgram.java25(),
                arguments(jvmOptions, agentOptions, url, method, requests), Duration.ofSeconds(60));
        FastOpenCounters seen = lab.client().call(FastOpenCounters::read).minus(before);
        assertEquals(0, run.exitCode(), run::text);
        assertEquals(synDataAcked, seen.active(), () -> method + " x" + requests + ": " + seen + "\n" + run.text());
        return run;
    }
}
