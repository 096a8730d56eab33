package io.tfo4j.agent.it;

import io.tfo4j.FastOpenCounters;
import io.tfo4j.lab.Processes;
import io.tfo4j.lab.WanLab;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the README promises a person: {@code ./tfo4j run --listen 8080 -- JAVA -jar app.jar} with an
 * unmodified Spring Boot jar, a few {@code curl --tcp-fastopen} fetches, and the agent's own report, read
 * live with {@code ./tfo4j agent --json} (from the same network namespace) and in its summary at exit,
 * shows SYN data from the second connection on. The launcher script runs as it is, in the lab's server host.
 * No Maven dependency builds the CLI for it: the launcher builds what is missing or stale on first use, as
 * for a user ({@link #launcherBuilt}); in the full build the CLI is already there (it comes earlier).
 */
class RunCommandTest {
    private static final String SERVER = WanLab.SERVER_ADDRESS;
    private static final int PORT = 8080;

    @RegisterExtension
    final LabHosts lab = new LabHosts();

    private static Path launcher() {
        return Path.of(System.getProperty("tfo4j.it.root", "..")).resolve("tfo4j").toAbsolutePath().normalize();
    }

    /** Runs {@code ./tfo4j --version}, which builds the CLI and the agent first where they are missing or stale. */
    private static void launcherBuilt() throws Exception {
        Process version = new ProcessBuilder(launcher().toString(), "--version").redirectErrorStream(true).start();
        String output = new String(version.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(version.waitFor(10, TimeUnit.MINUTES), "./tfo4j --version finished");
        assertEquals(0, version.exitValue(), "./tfo4j --version: " + output);
    }

    @Test
    void anUnmodifiedSpringBootJarUnderTfo4jRunReportsSynDataFromTheSecondConnection() throws Exception {
        launcherBuilt();
        List<String> run = List.of(launcher().toString(), "run", "--listen", Integer.toString(PORT), "--",
                JavaProgram.java25(), "-jar", JavaProgram.springBootJar().toString(), "--server.address=" + SERVER);
        Path output = Files.createTempFile("tfo4j-run-", ".log");
        Process app = lab.server().command(run.toArray(String[]::new)).redirectErrorStream(true)
                .redirectOutput(output.toFile()).start();
        try {
            awaitLine(output, app, "spring-boot-app ready on port " + PORT);
            FastOpenCounters before = lab.server().call(FastOpenCounters::read);
            for (int i = 0; i < 3; i++) {
                assertEquals("hello\n", Curl.get(lab.client(), "http://" + SERVER + ":" + PORT + "/hello").body());
            }
            FastOpenCounters seen = lab.server().call(FastOpenCounters::read).minus(before);
            assertEquals(2, seen.passive(), "the kernel's count: " + seen);

            Process agent = lab.server().command(launcher().toString(), "agent", "--json", Long.toString(app.pid()))
                    .redirectErrorStream(true).start();
            String report = new String(agent.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(agent.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, agent.exitValue(), report);
            assertTrue(report.contains("\"Accepted\":3") && report.contains("\"AcceptedWithSynData\":2"), report);

            Processes.stop(app);
            String log = Files.readString(output);
            assertTrue(log.contains("[tfo4j-agent] at exit: listeners with Fast Open 1; accepted on them 3, with SYN"
                    + " data 2"), log);
        } finally {
            Processes.stop(app);
            Files.deleteIfExists(output);
        }
    }

    private static void awaitLine(Path output, Process process, String line) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (!Files.readString(output).contains(line)) {
            assertTrue(process.isAlive(), () -> "exited before \"" + line + "\":\n" + read(output));
            assertTrue(System.nanoTime() < deadline, () -> "no \"" + line + "\" after 90 s:\n" + read(output));
            Thread.sleep(100);
        }
    }

    private static String read(Path output) {
        try {
            return Files.readString(output);
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }
}
