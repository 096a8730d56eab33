package io.tfo4j.agent.it;

import io.tfo4j.agent.it.apps.ConnectFailureApp;
import io.tfo4j.agent.it.apps.GreetingServerApp;
import io.tfo4j.lab.LinkProfile;
import io.tfo4j.lab.WanLab;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What changes under the agent's {@code connect=PORT} when the server is not there, for a plain
 * {@code java.net.Socket} program ({@link ConnectFailureApp}: {@code connect(address, 2000)},
 * {@code setSoTimeout(2000)}, then a read; or a write and a read) whose host holds the server's cookie (one
 * connection while the server was up). With a cookie the kernel's connect() returns at once and sends
 * nothing, so connect() cannot fail: the failure moves to the first read or write. Each case also runs the
 * program without the agent, as the control.
 * <ul>
 *   <li>A closed port (the server host answers the SYN with a reset): connect() returns, and
 *       <ul>
 *         <li>a first read throws {@code java.net.SocketException: Connection refused};</li>
 *         <li>a first write within the first-write window returns (its bytes wait in the SYN: after a timed
 *             connect the JDK's socket is non-blocking), and the read after it throws the same;</li>
 *         <li>a first write after the window (its SYN left without data when the window closed) throws
 *             the same;</li>
 *       </ul>
 *       where without the agent connect() throws {@code java.net.ConnectException: Connection refused}.</li>
 *   <li>A silent server (its host drops the SYNs, nftables in the server namespace): connect() returns, and
 *       <ul>
 *         <li>a first read throws {@code java.net.SocketTimeoutException: Read timed out} after its 2 s;</li>
 *         <li>a first write within the window returns, and the read after it times out the same way;</li>
 *         <li>a first write after the window waits for the handshake with no timeout of the program's (Java
 *             has none for writes; the connect's 2 s was spent before the SYN left), until the kernel gives
 *             up on the SYN: {@code java.net.SocketException: Connection timed out} after
 *             {@code net.ipv4.tcp_syn_retries} retransmissions (set to 2 in the client host here: 7 s; the
 *             default 6 makes it about 130 s);</li>
 *       </ul>
 *       where without the agent connect() throws {@code java.net.SocketTimeoutException: Connect timed out}
 *       after its 2 s.</li>
 * </ul>
 * Checked with the program's own report of which call returned and which threw what, and with the agent's
 * line for what sent each SYN. Each run is bounded (30 s), so a hang fails the test rather than stalling it.
 * A write "within the window" runs with {@code window=1000}, so that it comes first whatever the JVM's
 * start costs; the other cases use the default window (10 ms).
 */
class DeferredConnectUnderTheAgentTest {
    private static final String SERVER = WanLab.SERVER_ADDRESS;
    private static final int PORT = 7000;
    private static final Duration BOUND = Duration.ofSeconds(30);
    private static final String AGENT = "connect=" + PORT + ",verbose=true";
    /** A window no first write of this program misses: the write rides in the SYN. */
    private static final String AGENT_LONG_WINDOW = AGENT + ",window=1000";
    private static final String SYN_WITHOUT_DATA = ", so its SYN left without data";
    private static final String WRITE_IN_SYN = "after connect rides in the SYN";
    private static final Path NFT = Path.of("/usr/sbin/nft");
    private WanLab lab;

    @AfterEach
    void close() {
        if (lab != null) {
            lab.close();
        }
    }

    private void lab() throws IOException {
        assumeTrue(WanLab.unavailableReason().isEmpty(), () -> "skipped: " + WanLab.unavailableReason().orElse(""));
        lab = WanLab.create(LinkProfile.rtt(Duration.ofMillis(20)), 1, WanLab.CLIENT_AND_SERVER);
    }

    @Test
    void aRefusedPortFailsAtTheFirstReadOrWriteInsteadOfAtConnect() throws Exception {
        lab();
        try (JavaProgram server = greetingServer()) {
            cookieFromALiveServer();
            server.stop();
        }

        assertFirstOperationsFail("read threw java.net.SocketException: Connection refused after \\d+ ms",
                "write threw java.net.SocketException: Connection refused after \\d+ ms",
                "connect threw java.net.ConnectException: Connection refused after \\d+ ms");
    }

    @Test
    void aSilentServerTimesOutInTheFirstReadInsteadOfInConnect() throws Exception {
        assumeTrue(Files.isExecutable(NFT), "skipped: nft is not installed (apt-get install nftables)");
        lab();
        // 1 + 2 + 4 s of SYN retransmissions instead of about 130 s: a late write's wait, below.
        lab.client().setSysctl("net/ipv4/tcp_syn_retries", "2");
        try (JavaProgram server = greetingServer()) {
            cookieFromALiveServer();
            dropSegmentsToThePort();

            assertFirstOperationsFail("read threw java.net.SocketTimeoutException: Read timed out after \\d+ ms",
                    "write threw java.net.SocketException: Connection timed out after \\d+ ms",
                    "connect threw java.net.SocketTimeoutException: Connect timed out after \\d+ ms");
        }
    }

    /** One connection under the agent while the server is up: the client host caches the server's cookie. */
    private void cookieFromALiveServer() throws IOException {
        JavaProgram.Finished live = failure(AGENT, "read");
        assertLines(live, "connect returned after \\d+ ms", "read returned 6 bytes 'hello' after \\d+ ms");
        String metrics = output(lab.client().command("ip", "tcp_metrics", "show", SERVER));
        assertTrue(metrics.contains("fo_cookie"), () -> "the client host holds no cookie for " + SERVER + ": " + metrics);
    }

    /** Drops TCP segments to {@link #PORT} in the server host (before TCP sees them: no reset, no SYN-ACK). */
    private void dropSegmentsToThePort() throws Exception {
        String table = nft("add", "table", "inet", "tfo4j");
        assumeTrue(table.isEmpty(), () -> "skipped: nft cannot make a table in a lab namespace: " + table);
        assertEquals("", nft("add", "chain", "inet", "tfo4j", "in", "{ type filter hook input priority 0; }"));
        assertEquals("", nft("add", "rule", "inet", "tfo4j", "in", "tcp", "dport", Integer.toString(PORT), "drop"));
    }

    /** Runs nft in the server host; returns its output when it failed, else "". */
    private String nft(String... arguments) throws Exception {
        List<String> command = new ArrayList<>(List.of(NFT.toString()));
        command.addAll(List.of(arguments));
        Process nft = lab.server().command(command.toArray(String[]::new)).redirectErrorStream(true).start();
        if (!nft.waitFor(10, TimeUnit.SECONDS)) {
            nft.destroyForcibly();
            return "nft did not finish within 10 s";
        }
        String output = new String(nft.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        return nft.exitValue() == 0 ? "" : "exit " + nft.exitValue() + ": " + output;
    }

    /** {@link ConnectFailureApp}, with the agent's {@code agentOptions} (null: without the agent), in the client host. */
    /**
     * Runs the failing client four ways: a first read, a first write within the window, a write after it, and
     * without the agent; {@code readError} is what the first read (and the write's later read) ends with.
     */
    private void assertFirstOperationsFail(String readError, String lateWriteError, String plainError) throws Exception {
        JavaProgram.Finished read = failure(AGENT, "read");
        JavaProgram.Finished write = failure(AGENT_LONG_WINDOW, "write");
        JavaProgram.Finished lateWrite = failure(AGENT, "late-write");
        JavaProgram.Finished plain = failure(null, "read");
        assertAll(
                () -> assertLines(read, "connect returned after \\d+ ms", readError),
                // The read sent the SYN, or the window's timer when the JVM's first read came later than 10 ms:
                // one of them, once.
                () -> assertEquals(1, agentLinesWith(read, SYN_WITHOUT_DATA), read::text),
                () -> assertLines(write, "connect returned after \\d+ ms", "write returned after \\d+ ms", readError),
                () -> assertEquals(1, agentLinesWith(write, WRITE_IN_SYN), write::text),
                () -> assertLines(lateWrite, "connect returned after \\d+ ms", lateWriteError),
                () -> assertEquals(1, agentLinesWith(lateWrite, ServerSpeaksFirstTest.WINDOW_CLOSED), lateWrite::text),
                () -> assertEquals(0, agentLinesWith(lateWrite, WRITE_IN_SYN), lateWrite::text),
                () -> assertLines(plain, plainError));
    }

    private JavaProgram.Finished failure(String agentOptions, String first) throws IOException {
        List<String> command = new ArrayList<>();
        if (agentOptions != null) {
            command.add(JavaProgram.agent(agentOptions));
        }
        command.addAll(JavaProgram.main(ConnectFailureApp.class));
        command.addAll(List.of(SERVER, Integer.toString(PORT), first, "2000", "2000"));
        JavaProgram.Finished run = JavaProgram.run(lab.client(), JavaProgram.java25(), command, BOUND);
        System.out.println("ConnectFailureApp " + first + " (" + (agentOptions == null ? "no agent" : agentOptions)
                + "): " + String.join(" | ", run.lines().stream().filter(line -> line.matches("(connect|write|read) .*")
                        || line.contains(SYN_WITHOUT_DATA) || line.contains(WRITE_IN_SYN)).toList()));
        assertEquals(0, run.exitCode(), run::text);
        return run;
    }

    /**
     * The program's own report (its lines that start with connect, write or read; not the agent's nor the
     * JVM's), one regular expression each, in order.
     */
    private static void assertLines(JavaProgram.Finished run, String... expected) {
        List<String> own = run.lines().stream().filter(line -> line.matches("(connect|write|read) .*")).toList();
        assertEquals(expected.length, own.size(), run::text);
        for (int i = 0; i < expected.length; i++) {
            int index = i;
            assertTrue(own.get(i).matches(expected[i]), () -> "line " + index + " should match " + expected[index]
                    + "\n" + run.text());
        }
    }

    private static long agentLinesWith(JavaProgram.Finished run, String phrase) {
        return run.agentLines().stream().filter(line -> line.contains(phrase)).count();
    }

    /** {@link GreetingServerApp} under the agent's {@code listen=PORT} in the server host. */
    private JavaProgram greetingServer() throws IOException {
        List<String> arguments = new ArrayList<>(List.of(JavaProgram.agent("listen=" + PORT)));
        arguments.addAll(JavaProgram.main(GreetingServerApp.class));
        arguments.addAll(List.of(SERVER, Integer.toString(PORT)));
        return JavaProgram.start(lab.server(), JavaProgram.java25(), arguments,
                line -> line.startsWith("greeting server ready on"));
    }

    /** Runs a short command to its end (10 s at most) and returns its output. */
    private static String output(ProcessBuilder command) throws IOException {
        Process process = command.redirectErrorStream(true).start();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException("did not finish within 10 s: " + command.command());
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
}
