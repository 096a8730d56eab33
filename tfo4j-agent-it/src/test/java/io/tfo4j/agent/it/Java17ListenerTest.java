package io.tfo4j.agent.it;

import io.tfo4j.FastOpenCounters;
import io.tfo4j.lab.WanLab;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * On Java 17 the agent is the listener-only one: no FFM, no class-file API, just the JDK's SDP provider slot
 * that every TCP bind passes. A JDK HttpServer run on the machine's Java 17 with {@code listen=8080} gets
 * Fast Open on its listener: the agent's start line says "(listeners)", its listener line says "Fast Open
 * on", and three {@code curl --tcp-fastopen} requests make the server host's kernel count one cookie request
 * and two connections made by data in the SYN; so does the unmodified Spring Boot example on Java 17. And
 * {@code connect=all} and {@code keys=FILE} there say they need Java 25.
 *
 * <p>The program is {@code src/test/resources/java17/Hello17.java}, run in source-file mode
 * ({@code java Hello17.java ADDRESS PORT}), because this module's classes are compiled for Java 25. Skipped
 * when the machine has no Java 17 under {@code /usr/lib/jvm}.
 */
class Java17ListenerTest {
    private static final String SERVER = WanLab.SERVER_ADDRESS;
    private static final int PORT = 8080;

    @RegisterExtension
    final LabHosts lab = new LabHosts();
    private String java17;

    @BeforeEach
    void hosts() throws Exception {
        Optional<Path> found = java17();
        assumeTrue(found.isPresent(), "skipped: no Java 17 found (looked for"
                + " /usr/lib/jvm/java-17-openjdk-amd64/bin/java and /usr/lib/jvm/*17*/bin/java)");
        java17 = found.get().toString();
    }

    @Test
    void listenerGetsFastOpen() throws Exception {
        try (JavaProgram server = start("listen=" + PORT)) {
            List<String> agent = server.agentLines();
            assertTrue(agent.stream().anyMatch(line -> line.contains(" on Java 17") && line.contains("(listeners)")),
                    server::text);
            assertTrue(agent.stream().anyMatch(line ->
                    line.contains("listener " + SERVER + ":" + PORT + ": Fast Open on")), server::text);

            FastOpenCounters before = lab.server().call(FastOpenCounters::read);
            for (int i = 0; i < 3; i++) {
                assertEquals(200, Curl.get(lab.client(), "http://" + SERVER + ":" + PORT + "/").status());
            }
            FastOpenCounters seen = lab.server().call(FastOpenCounters::read).minus(before);
            assertEquals(1, seen.cookieReqd(), "the first connection asks for a cookie: " + seen);
            assertEquals(2, seen.passive(), "the next two carry their request in the SYN: " + seen);
        }
    }

    /** The unmodified Spring Boot example (built for Java 17) on Java 17: the same for a real application. */
    @Test
    void springBootOnJava17GetsFastOpenOnItsListener() throws Exception {
        try (JavaProgram app = JavaProgram.start(lab.server(), java17, List.of(JavaProgram.agent("listen=" + PORT),
                "-jar", JavaProgram.springBootJar().toString(), "--server.address=" + SERVER,
                "--server.port=" + PORT), line -> line.startsWith("spring-boot-app ready on port"))) {
            assertTrue(app.agentLines().stream().anyMatch(line ->
                    line.contains("listener " + SERVER + ":" + PORT + ": Fast Open on")), app::text);
            FastOpenCounters before = lab.server().call(FastOpenCounters::read);
            for (int i = 0; i < 3; i++) {
                assertEquals("hello\n", Curl.get(lab.client(), "http://" + SERVER + ":" + PORT + "/hello").body());
            }
            FastOpenCounters seen = lab.server().call(FastOpenCounters::read).minus(before);
            assertEquals(2, seen.passive(), "the second and third requests ride in the SYN: " + seen);
        }
    }

    @Test
    void connectNeedsJava25() throws Exception {
        try (JavaProgram server = start("connect=all")) {
            assertTrue(server.agentLines().stream().anyMatch(line ->
                    line.startsWith("[tfo4j-agent] connect=all needs Java 25 (this is Java 17")
                            && line.endsWith("client connections stay plain TCP")), server::text);
        }
    }

    /** A key file needs a byte-array socket option that the listener-only agent cannot set: one line, Fast Open still on. */
    @Test
    void keysNeedJava25AndTheListenerStillGetsFastOpen() throws Exception {
        try (JavaProgram server = start("listen=" + PORT + ",keys=/etc/tfo4j/keys")) {
            List<String> agent = server.agentLines();
            assertEquals(1, agent.stream().filter(line -> line.startsWith("[tfo4j-agent] keys=/etc/tfo4j/keys needs Java 25"
                    + " (this is Java 17") && line.endsWith("the listeners get Fast Open with this host's key")).count(),
                    server::text);
            assertTrue(agent.stream().anyMatch(line ->
                    line.contains("listener " + SERVER + ":" + PORT + ": Fast Open on")), server::text);
        }
    }

    /** {@code java17 -javaagent:tfo4j-agent.jar=OPTIONS .../Hello17.java SERVER 8080} in the server host. */
    private JavaProgram start(String options) throws IOException, URISyntaxException {
        URL source = Java17ListenerTest.class.getResource("/java17/Hello17.java");
        assertNotNull(source, "src/test/resources/java17/Hello17.java is not on the test class path");
        return JavaProgram.start(lab.server(), java17, List.of(JavaProgram.agent(options),
                Path.of(source.toURI()).toString(), SERVER, Integer.toString(PORT)), line -> line.equals("ready"));
    }

    /** The machine's Java 17 launcher: Debian's usual place first, then any {@code /usr/lib/jvm/*17*}. */
    private static Optional<Path> java17() throws IOException {
        Path usual = Path.of("/usr/lib/jvm/java-17-openjdk-amd64/bin/java");
        if (Files.isExecutable(usual)) {
            return Optional.of(usual);
        }
        Path jvms = Path.of("/usr/lib/jvm");
        if (!Files.isDirectory(jvms)) {
            return Optional.empty();
        }
        try (DirectoryStream<Path> candidates = Files.newDirectoryStream(jvms, "*17*")) {
            for (Path candidate : candidates) {
                Path java = candidate.resolve("bin/java");
                if (Files.isExecutable(java)) {
                    return Optional.of(java);
                }
            }
        }
        return Optional.empty();
    }
}
