package io.tfo4j.agent.it;

import io.tfo4j.FastOpenCounters;
import io.tfo4j.agent.it.apps.JdkHttpServerApp;
import io.tfo4j.agent.it.apps.JettyApp;
import io.tfo4j.agent.it.apps.UndertowApp;
import io.tfo4j.agent.it.apps.VertxApp;
import io.tfo4j.lab.WanLab;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Servers nobody changed, started with the agent on their port: their listener takes data in the SYN from
 * the second connection of {@code curl --tcp-fastopen} on, as the server host's kernel counts it
 * (TCPFastOpenPassive), and the agent's line for the listener says so. One test per server library that
 * binds through the JDK: the JDK HttpServer, Jetty 12, Undertow (XNIO) and Vert.x (Netty's NIO transport).
 */
class ServersUnderTheAgentTest {
    private static final String SERVER = WanLab.SERVER_ADDRESS;
    private static final int PORT = 8080;

    @RegisterExtension
    final LabHosts lab = new LabHosts();

    @Test
    void jdkHttpServer() throws Exception {
        try (JavaProgram server = startWithTheAgent(JdkHttpServerApp.class)) {
            assertSynDataFromTheSecondConnection(server);
        }
    }

    @Test
    void jetty() throws Exception {
        try (JavaProgram server = startWithTheAgent(JettyApp.class)) {
            assertSynDataFromTheSecondConnection(server);
        }
    }

    @Test
    void undertow() throws Exception {
        try (JavaProgram server = startWithTheAgent(UndertowApp.class)) {
            assertSynDataFromTheSecondConnection(server);
        }
    }

    @Test
    void vertx() throws Exception {
        try (JavaProgram server = startWithTheAgent(VertxApp.class)) {
            // Netty's epoll jar is on the class path; the app asks for NIO, which binds through the JDK.
            assertTrue(server.lines().contains("transport nio"), server::text);
            assertSynDataFromTheSecondConnection(server);
        }
    }

    /** {@code java -javaagent:tfo4j-agent.jar=listen=8080 -cp ... MAIN SERVER 8080} in the server host. */
    private JavaProgram startWithTheAgent(Class<?> main) throws Exception {
        List<String> arguments = new ArrayList<>(List.of(JavaProgram.agent("listen=" + PORT)));
        arguments.addAll(JavaProgram.main(main));
        arguments.addAll(List.of(SERVER, Integer.toString(PORT)));
        return JavaProgram.start(lab.server(), JavaProgram.java25(), arguments, line -> line.equals("ready"));
    }

    private void assertSynDataFromTheSecondConnection(JavaProgram server) throws Exception {
        FastOpenCounters before = lab.server().call(FastOpenCounters::read);
        for (int i = 0; i < 3; i++) {
            assertEquals(200, Curl.get(lab.client(), "http://" + SERVER + ":" + PORT + "/").status());
        }
        FastOpenCounters seen = lab.server().call(FastOpenCounters::read).minus(before);
        assertEquals(1, seen.cookieReqd(), "the first connection asks for a cookie: " + seen);
        assertEquals(2, seen.passive(), "the next two carry their request in the SYN: " + seen);
        assertTrue(server.agentLines().stream().anyMatch(line ->
                line.contains("listener " + SERVER + ":" + PORT + ": Fast Open on")), server::text);
    }
}
