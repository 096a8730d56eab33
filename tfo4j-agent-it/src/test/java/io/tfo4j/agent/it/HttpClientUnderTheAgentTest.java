package io.tfo4j.agent.it;

import io.tfo4j.FastOpenCounters;
import io.tfo4j.agent.it.apps.HttpClientApp;
import io.tfo4j.lab.Nginx;
import io.tfo4j.lab.WanLab;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
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
 * counts only for a SYN whose data the server acknowledged.
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

    @TempDir
    Path site;

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

    /** Runs the program, and checks how many of its SYNs carried data the server acknowledged. */
    private JavaProgram.Finished client(String agentOptions, String method, int requests, long synDataAcked)
            throws Exception {
        List<String> arguments = new ArrayList<>(List.of(JavaProgram.agent(agentOptions)));
        arguments.addAll(JavaProgram.main(HttpClientApp.class));
        arguments.addAll(List.of(URL, method, Integer.toString(requests)));
        FastOpenCounters before = lab.client().call(FastOpenCounters::read);
        JavaProgram.Finished run = JavaProgram.run(lab.client(), JavaProgram.java25(), arguments, Duration.ofSeconds(60));
        FastOpenCounters seen = lab.client().call(FastOpenCounters::read).minus(before);
        assertEquals(0, run.exitCode(), run::text);
        assertEquals(synDataAcked, seen.active(), () -> method + " x" + requests + ": " + seen + "\n" + run.text());
        return run;
    }
}
