package io.tfo4j.agent.it;

import io.tfo4j.agent.it.apps.HttpClientApp;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The agent jar as the build made it: each part compiled for the Java it must load on and placed where only
 * its class loader looks; {@code java -jar tfo4j-agent.jar --check} as {@code ./tfo4j run} uses it; and a
 * bad option, which is one line and never stops the program from starting.
 */
class AgentJarTest {
    private static final int JAVA_8 = 52;
    private static final int JAVA_17 = 61;
    private static final int JAVA_25 = 69;

    @Test
    void eachPartIsBuiltForTheJavaThatLoadsItAndSitsWhereOnlyItsLoaderLooks() throws IOException {
        try (JarFile jar = new JarFile(JavaProgram.agentJar().toFile())) {
            assertEquals("io.tfo4j.agent.AgentMain", jar.getManifest().getMainAttributes().getValue("Premain-Class"));
            assertEquals("true", jar.getManifest().getMainAttributes().getValue("Can-Retransform-Classes"));
            // The entry point loads on any JVM, so that an old one can step aside.
            assertEquals(JAVA_8, majorVersion(jar, "io/tfo4j/agent/AgentMain.class"));
            // What the boot loader and the JDK's rewritten code see: Java 17, java.base types only.
            assertEquals(JAVA_17, majorVersion(jar, "io/tfo4j/agent/bootstrap/Hooks.class"));
            assertEquals(JAVA_17, majorVersion(jar, "java-base/sun/net/sdp/SdpProvider.class"));
            assertEquals(JAVA_17, majorVersion(jar, "inst/io/tfo4j/agent/jdk17/ListenerOnlyAgent.class"));
            assertEquals(JAVA_17, majorVersion(jar, "servlet/io/tfo4j/servlet/EarlyDataFilter.class"));
            assertEquals(JAVA_25, majorVersion(jar, "inst/io/tfo4j/agent/jdk25/FullAgent.class"));
            assertEquals(JAVA_25, majorVersion(jar, "inst/io/tfo4j/FastOpen.class"));
            // Nothing else at the root, where the application's class loader would find it.
            List<String> root = new ArrayList<>();
            for (JarEntry entry : Collections.list(jar.entries())) {
                String name = entry.getName();
                if (name.endsWith(".class") && !name.startsWith("inst/") && !name.startsWith("servlet/")
                        && !name.startsWith("java-base/")) {
                    root.add(name);
                }
            }
            assertTrue(root.stream().allMatch(name -> name.equals("io/tfo4j/agent/AgentMain.class")
                    || name.startsWith("io/tfo4j/agent/bootstrap/")), root::toString);
        }
    }

    private static int majorVersion(JarFile jar, String entry) throws IOException {
        JarEntry found = jar.getJarEntry(entry);
        assertNotNull(found, entry);
        try (DataInputStream in = new DataInputStream(jar.getInputStream(found))) {
            in.readInt();
            in.readUnsignedShort();
            return in.readUnsignedShort();
        }
    }

    @Test
    void checkSaysWhatIsWrongWithAnOptionAndExits2() throws Exception {
        Result bad = java("-jar", JavaProgram.agentJar().toString(), "--check", "listen=8080,early=sometimes");
        assertEquals(2, bad.exitCode(), bad.output());
        assertTrue(bad.output().contains("tfo4j-agent: bad option: early=sometimes is not one of safe|all"), bad.output());
        Result good = java("-jar", JavaProgram.agentJar().toString(), "--check", "listen=8080+8443:512,connect=all");
        assertEquals(0, good.exitCode(), good.output());
        assertEquals("listen=8080:256+8443:512,connect=all,early=safe,early-data=wait,window=10", good.output().strip());
    }

    @Test
    void aBadOptionIsOneLineAndTheProgramRunsAsWithoutTheAgent() throws Exception {
        List<String> arguments = new ArrayList<>(List.of(JavaProgram.agent("listen=80a")));
        arguments.addAll(JavaProgram.main(HttpClientApp.class));
        // No server listens on port 9: the program runs, fails its request, and exits 1 by itself.
        arguments.addAll(List.of("http://127.0.0.1:9/", "GET", "1"));
        Result run = java(arguments.toArray(String[]::new));
        List<String> agentLines = run.output().lines().filter(line -> line.startsWith("[tfo4j-agent]")).toList();
        assertEquals(List.of("[tfo4j-agent] bad option: listen: '80a' is not a port (1-65535) or a range of ports"
                + " like 8000-8010; write listen=8080, listen=8080:512 or listen=8080+8443. The agent changes nothing,"
                + " and the program runs on plain TCP"), agentLines, run.output());
        assertTrue(run.output().contains("ConnectException"), run.output());
    }

    @Test
    void noOptionsIsNothingToDo() throws Exception {
        Result run = java(JavaProgram.agent(""), "-version");
        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("[tfo4j-agent] nothing to do: no listen= or connect= option was given"),
                run.output());
    }

    private record Result(int exitCode, String output) {
    }

    private static Result java(String... arguments) throws Exception {
        List<String> command = new ArrayList<>(List.of(JavaProgram.java25()));
        command.addAll(List.of(arguments));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output;
        try (InputStream in = process.getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), String.join(" ", command));
        return new Result(process.exitValue(), output);
    }
}
