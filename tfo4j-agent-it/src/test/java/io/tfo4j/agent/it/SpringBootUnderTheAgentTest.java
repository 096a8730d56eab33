package io.tfo4j.agent.it;

import io.tfo4j.FastOpenCounters;
import io.tfo4j.agent.it.apps.HttpClientApp;
import io.tfo4j.lab.Fault;
import io.tfo4j.lab.LinkProfile;
import io.tfo4j.lab.WanLab;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * An unmodified Spring Boot 4 web application on Tomcat ({@code examples/spring-boot-app}, which knows nothing
 * of tfo4j) run with {@code -javaagent:tfo4j-agent.jar=listen=8080}:
 * <ul>
 *   <li>an unmodified JDK HttpClient program (with the agent's {@code connect=8080}) gets its answers from
 *       SYN data from its second connection on, and {@code curl --tcp-fastopen}, with the cookie now cached,
 *       from its first: the server host's TCPFastOpenPassive, and the agent's own line for each accepted
 *       connection;</li>
 *   <li>a replayed {@code POST /orders} (the lab link delivers the SYN with the request twice, the copy from
 *       another port, as an attacker on the path would) creates one order under the default
 *       {@code early-data=wait}: the filter the agent runs before Spring's DispatcherServlet holds both
 *       copies until their handshake, and the copy's connection is reset by the real client's host. The
 *       control: under {@code early-data=allow} the same replay creates two orders.</li>
 * </ul>
 */
class SpringBootUnderTheAgentTest {
    private static final String SERVER = WanLab.SERVER_ADDRESS;
    private static final int PORT = 8080;
    private static final String BASE = "http://" + SERVER + ":" + PORT;
    private WanLab lab;

    @AfterEach
    void close() {
        if (lab != null) {
            lab.close();
        }
    }

    private void lab(LinkProfile profile) throws IOException {
        assumeTrue(WanLab.unavailableReason().isEmpty(), () -> "skipped: " + WanLab.unavailableReason().orElse(""));
        lab = WanLab.create(profile, 1, 3);
    }

    private JavaProgram springBoot(String agentOptions) throws IOException {
        List<String> arguments = List.of(JavaProgram.agent(agentOptions), "-jar",
                JavaProgram.springBootJar().toString(), "--server.address=" + SERVER, "--server.port=" + PORT);
        return JavaProgram.start(lab.server(), JavaProgram.java25(), arguments,
                line -> line.startsWith("spring-boot-app ready on port"));
    }

    @Test
    void theJdkHttpClientAndCurlGetAnswersFromSynDataFromTheSecondConnectionOn() throws Exception {
        lab(LinkProfile.rtt(Duration.ofMillis(20)));
        try (JavaProgram app = springBoot("listen=" + PORT + ",verbose=true")) {
            // The client host holds no cookie yet: the HttpClient's first connection asks for it.
            List<String> client = new ArrayList<>(List.of(JavaProgram.agent("connect=" + PORT + ",window=200")));
            client.addAll(JavaProgram.main(HttpClientApp.class));
            client.addAll(List.of(BASE + "/hello", "GET", "3"));
            FastOpenCounters before = lab.server().call(FastOpenCounters::read);
            JavaProgram.Finished run = JavaProgram.run(lab.client(), JavaProgram.java25(), client, Duration.ofSeconds(60));
            assertEquals(0, run.exitCode(), run::text);
            FastOpenCounters httpClient = lab.server().call(FastOpenCounters::read).minus(before);
            assertEquals(1, httpClient.cookieReqd(), () -> "the JDK HttpClient: " + httpClient + "\n" + run.text());
            assertEquals(2, httpClient.passive() - zeroDataChildren(run), () -> "the JDK HttpClient: " + httpClient
                    + "\n" + run.text());

            // The cookie is cached now, for curl too: all three of its connections carry the request.
            before = lab.server().call(FastOpenCounters::read);
            for (int i = 0; i < 3; i++) {
                Curl.Answer answer = Curl.get(lab.client(), BASE + "/hello");
                assertEquals(200, answer.status());
                assertEquals("hello\n", answer.body());
            }
            FastOpenCounters curl = lab.server().call(FastOpenCounters::read).minus(before);
            assertEquals(3, curl.passive(), "curl's three connections carry their request in the SYN: " + curl);

            app.stop();
            long withSynData = app.agentLines().stream()
                    .filter(line -> line.contains("on port " + PORT + ": its SYN carried data (Fast Open)")).count();
            assertEquals(5, withSynData, app::text);
            assertTrue(app.agentLines().stream().anyMatch(line -> line.contains("listener " + SERVER + ":" + PORT
                    + ": Fast Open on") && line.contains("servlet requests")), app::text);
        }
    }

    /**
     * Connections whose SYN carried the cookie but no data (the client's window closed first) also count as
     * TCPFastOpenPassive; the client's agent says how many there were.
     */
    private static long zeroDataChildren(JavaProgram.Finished run) {
        return run.agentLines().stream().filter(line -> line.contains("so its SYN left without data")).count();
    }

    @Test
    void aReplayedPostCreatesOneOrderUnderTheDefaultPolicy() throws Exception {
        lab(LinkProfile.rtt(Duration.ofMillis(50)).withFault(Fault.REPLAY_SYN_DATA));
        try (JavaProgram app = springBoot("listen=" + PORT)) {
            assertEquals("1\n", replayedPostThenCount("order 1\n"), app::text);
            app.stop();
            assertTrue(app.agentLines().stream().anyMatch(line -> line.contains("at exit:")
                    && line.contains("early requests held 1") && line.contains("dropped 1")), app::text);
        }
    }

    @Test
    void theSameReplayCreatesTwoOrdersUnderAllow() throws Exception {
        lab(LinkProfile.rtt(Duration.ofMillis(50)).withFault(Fault.REPLAY_SYN_DATA));
        try (JavaProgram app = springBoot("listen=" + PORT + ",early-data=allow")) {
            // Both copies run at once, so the client's own request may be the first order or the second.
            assertEquals("2\n", replayedPostThenCount("order 1\n", "order 2\n"), app::text);
        }
    }

    /**
     * A GET for the cookie, then one POST in a Fast Open SYN that the link replays, whose answer must be one of
     * {@code answers}; returns the order count.
     */
    private String replayedPostThenCount(String... answers) throws Exception {
        assertEquals(200, Curl.get(lab.client(), BASE + "/hello").status());
        FastOpenCounters before = lab.server().call(FastOpenCounters::read);
        Curl.Answer order = Curl.post(lab.client(), BASE + "/orders", "item=book");
        assertEquals(200, order.status());
        assertTrue(List.of(answers).contains(order.body()), "the client's POST was answered " + order.body());
        FastOpenCounters seen = lab.server().call(FastOpenCounters::read).minus(before);
        assertTrue(seen.passive() >= 2, "the server's kernel took the POST's SYN and its replayed copy: " + seen);
        // The replayed copy's connection is reset one round trip after it arrived; give it that time.
        Thread.sleep(200);
        Curl.Answer count = Curl.get(lab.client(), BASE + "/orders/count");
        assertEquals(200, count.status());
        return count.body();
    }
}
