package io.tfo4j.agent.it;

import io.tfo4j.FastOpenCounters;
import io.tfo4j.agent.it.apps.JdkHttpServerApp;
import io.tfo4j.agent.it.apps.NettyEpollApp;
import io.tfo4j.agent.it.apps.UdpEchoClientApp;
import io.tfo4j.agent.it.apps.UdpEchoServerApp;
import io.tfo4j.lab.WanLab;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the agent must leave alone: a port that is not listed, a JVM where it is switched off (by the system
 * property, or because native access is denied), UDP sockets on a listed port, and a listener it cannot
 * reach (Netty's native epoll transport binds without the JDK).
 * The TCP cases are judged by the server host's kernel, not by answers: {@code curl --tcp-fastopen} asks
 * three times on a fresh client host, and TCPFastOpenPassive (connections made by data in the SYN) must
 * not move, while TCPFastOpenCookieReqd must count all three SYNs: the kernel counts a cookie request
 * before it looks at the listener, and a listener without TCP_FASTOPEN (the host's sysctl is 3, not 0x403)
 * never hands one out, so the client asks again every time (with Fast Open on it would ask once, then send
 * data in the SYN). The UDP case is judged by the echo coming back, the exit code, and the client agent's
 * lines.
 */
class LeftAloneTest {
    private static final String SERVER = WanLab.SERVER_ADDRESS;
    private static final int LISTED = 8080;

    @RegisterExtension
    final LabHosts lab = new LabHosts();

    @Test
    void aPortThatIsNotListed() throws Exception {
        int other = 8081;
        try (JavaProgram server = start(List.of(JavaProgram.agent("listen=" + LISTED)), JdkHttpServerApp.class,
                other)) {
            assertTrue(server.agentLines().stream().anyMatch(line ->
                    line.contains("(full): listen=" + LISTED + ":")), "the agent runs: " + server.text());
            assertNoFastOpen(other);
            assertTrue(server.agentLines().stream().noneMatch(line -> line.contains(":" + other)), server::text);
            assertNoListenerLine(server);
        }
    }

    @Test
    void switchedOffByTheSystemProperty() throws Exception {
        try (JavaProgram server = start(List.of("-Dtfo4j.disable=true", JavaProgram.agent("listen=" + LISTED)),
                JdkHttpServerApp.class, LISTED)) {
            assertNoFastOpen(LISTED);
            assertEquals(List.of("[tfo4j-agent] switched off by -Dtfo4j.disable=true: the agent changes nothing"),
                    server.agentLines(), server::text);
        }
    }

    /**
     * Native access denied ({@code --illegal-native-access=deny}): the agent cannot make tfo4j-core's system
     * calls, so it says so in one line and rewrites nothing; the program starts and serves as without it.
     */
    @Test
    void deniedNativeAccessSwitchesTheAgentOff() throws Exception {
        try (JavaProgram server = start(List.of("--illegal-native-access=deny", JavaProgram.agent("listen=" + LISTED)),
                JdkHttpServerApp.class, LISTED)) {
            assertNoFastOpen(LISTED);
            assertTrue(server.agentLines().stream().anyMatch(line -> line.contains("native access is denied in this"
                    + " JVM") && line.contains("the agent switches itself off")), server::text);
            assertNoListenerLine(server);
        }
    }

    @Test
    void udpOnAListedPort() throws Exception {
        String options = "connect=all,listen=" + LISTED;
        try (JavaProgram server = start(List.of(JavaProgram.agent(options)), UdpEchoServerApp.class, LISTED)) {
            List<String> arguments = new ArrayList<>(List.of(JavaProgram.agent(options)));
            arguments.addAll(JavaProgram.main(UdpEchoClientApp.class));
            arguments.addAll(List.of(SERVER, Integer.toString(LISTED)));
            JavaProgram.Finished client = JavaProgram.run(lab.client(), JavaProgram.java25(), arguments,
                    Duration.ofSeconds(30));
            assertTrue(client.agentLines().stream().anyMatch(line -> line.contains("(full): listen=" + LISTED)
                    && line.contains(",connect=all,")), "the agent runs in the client: " + client.text());
            assertEquals(0, client.exitCode(), client::text);
            assertTrue(client.lines().contains("echo ping"), client::text);
            assertTrue(client.lines().contains("echo pong"), client::text);
            assertTrue(client.agentLines().stream().noneMatch(line ->
                    line.contains("connect " + SERVER + ":" + LISTED)), client::text);
            // The summary at exit, when there is one, counts no connection with or without Fast Open.
            assertTrue(client.agentLines().stream().noneMatch(line ->
                    line.startsWith("[tfo4j-agent] at exit:") && line.contains("connections")), client::text);
            assertNoListenerLine(server);
        }
    }

    /**
     * Netty's native epoll transport binds in its own native code, so the agent's bind hook never sees the
     * listener. Its epoll jar sits on this module's test class path next to Vert.x, which is why VertxApp asks
     * for NIO outright (setPreferNativeTransport(false)) and prints the transport it got.
     */
    @Test
    void nettyEpollListener() throws Exception {
        try (JavaProgram server = start(List.of(JavaProgram.agent("listen=" + LISTED)), NettyEpollApp.class,
                LISTED)) {
            // The agent looks for such listeners 3 s, 10 s, ... after it starts.
            server.awaitLine(line -> line.startsWith("[tfo4j-agent] port " + LISTED
                    + " is listening but was not bound through the JDK"), Duration.ofSeconds(20));
            assertNoFastOpen(LISTED);
            assertNoListenerLine(server);
        }
    }

    /** {@code java AGENT-ARGUMENTS -cp ... MAIN SERVER PORT} in the server host, once it prints "ready". */
    private JavaProgram start(List<String> agentArguments, Class<?> main, int port) throws Exception {
        List<String> arguments = new ArrayList<>(agentArguments);
        arguments.addAll(JavaProgram.main(main));
        arguments.addAll(List.of(SERVER, Integer.toString(port)));
        return JavaProgram.start(lab.server(), JavaProgram.java25(), arguments, line -> line.equals("ready"));
    }

    /** The agent said nothing about any listener of its own ("listener ADDRESS:PORT: Fast Open on|off"). */
    private static void assertNoListenerLine(JavaProgram program) throws Exception {
        assertTrue(program.agentLines().stream().noneMatch(line -> line.startsWith("[tfo4j-agent] listener ")),
                program::text);
    }

    /** Three {@code curl --tcp-fastopen} requests are answered, and the server host's kernel saw no Fast Open. */
    private void assertNoFastOpen(int port) throws Exception {
        FastOpenCounters before = lab.server().call(FastOpenCounters::read);
        for (int i = 0; i < 3; i++) {
            Curl.Answer answer = Curl.get(lab.client(), "http://" + SERVER + ":" + port + "/");
            assertEquals(200, answer.status(), answer::toString);
            assertEquals("hello", answer.body().trim(), answer::toString);
        }
        FastOpenCounters seen = lab.server().call(FastOpenCounters::read).minus(before);
        assertEquals(0, seen.passive(), "no connection may be made by data in the SYN: " + seen);
        assertEquals(0, seen.passiveFail(), "nor be refused Fast Open: " + seen);
        assertEquals(3, seen.cookieReqd(), "every SYN asks for a cookie, as a listener without TCP_FASTOPEN"
                + " never gives one: " + seen);
    }
}
