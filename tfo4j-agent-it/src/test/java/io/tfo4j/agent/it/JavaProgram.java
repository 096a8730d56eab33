package io.tfo4j.agent.it;

import io.tfo4j.lab.NetNamespace;
import io.tfo4j.lab.Processes;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A Java program run in a lab host as a user would run it: {@code java [-javaagent:tfo4j-agent.jar=OPTIONS]
 * ... MAIN|-jar JAR ARGS}, with its standard output and error in one file that the test reads. Programs are
 * the test class path's plain mains under {@code apps/}, or a jar; the agent jar is the one the build made.
 */
final class JavaProgram implements AutoCloseable {
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

    private final Process process;
    private final Path output;
    private final String description;

    private JavaProgram(Process process, Path output, String description) {
        this.process = process;
        this.output = output;
        this.description = description;
    }

    /** The agent jar the build made. */
    static Path agentJar() {
        Path jar = Path.of(System.getProperty("tfo4j.it.agentJar", "../tfo4j-agent/target/tfo4j-agent.jar"));
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("no agent jar at " + jar.toAbsolutePath() + ": build it first"
                    + " (mvn -pl tfo4j-agent -am package)");
        }
        return jar.toAbsolutePath();
    }

    /** The Spring Boot example's jar the build made. */
    static Path springBootJar() {
        Path jar = Path.of(System.getProperty("tfo4j.it.springBootJar",
                "../examples/spring-boot-app/target/spring-boot-app.jar"));
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("no Spring Boot example at " + jar.toAbsolutePath() + ": build it first"
                    + " (mvn -pl examples/spring-boot-app package)");
        }
        return jar.toAbsolutePath();
    }

    /** The java launcher of the JDK running the tests (25). */
    static String java25() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** {@code -javaagent:...=OPTIONS}. */
    static String agent(String options) {
        return "-javaagent:" + agentJar() + (options.isEmpty() ? "" : "=" + options);
    }

    /** {@code -cp TEST-CLASS-PATH MAIN}: a program under {@code apps/}. */
    static List<String> main(Class<?> main) {
        return List.of("-cp", System.getProperty("java.class.path"), main.getName());
    }

    /**
     * Starts {@code java} with {@code arguments} in {@code host} and waits for a line of its output that
     * {@code ready} accepts (60 s at most).
     *
     * @throws IOException when it exits or times out first; the message quotes its output
     */
    static JavaProgram start(NetNamespace host, String java, List<String> arguments, Predicate<String> ready)
            throws IOException {
        Path output = Files.createTempFile("tfo4j-it-", ".log");
        Process process = launch(host, java, arguments, output);
        JavaProgram program = new JavaProgram(process, output, java + " " + String.join(" ", arguments));
        try {
            program.awaitLine(ready, READY_TIMEOUT);
        } catch (IOException | RuntimeException e) {
            program.close();
            throw e;
        }
        return program;
    }

    /** Runs {@code java} with {@code arguments} in {@code host} to its end (at most {@code timeout}). */
    static Finished run(NetNamespace host, String java, List<String> arguments, Duration timeout) throws IOException {
        Path output = Files.createTempFile("tfo4j-it-", ".log");
        Process process = launch(host, java, arguments, output);
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                Processes.stop(process);
                throw new IOException("still running after " + timeout + ": " + java + " " + String.join(" ", arguments)
                        + "\n--- its output:\n" + Files.readString(output));
            }
            return new Finished(process.exitValue(), Files.readAllLines(output));
        } catch (InterruptedException e) {
            Processes.stop(process);
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } finally {
            Files.deleteIfExists(output);
        }
    }

    /** {@code java arguments...} in {@code host}, its standard output and error into {@code output}. */
    private static Process launch(NetNamespace host, String java, List<String> arguments, Path output)
            throws IOException {
        List<String> command = new ArrayList<>();
        command.add(java);
        command.addAll(arguments);
        return host.command(command.toArray(String[]::new)).redirectErrorStream(true)
                .redirectOutput(output.toFile()).start();
    }

    /** A program that ran to its end. */
    record Finished(int exitCode, List<String> lines) {
        List<String> agentLines() {
            return lines.stream().filter(line -> line.startsWith("[tfo4j-agent]")).toList();
        }

        String text() {
            return String.join("\n", lines);
        }
    }

    /** Waits until a line of the output matches, or throws quoting the output. */
    void awaitLine(Predicate<String> wanted, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (lines().stream().anyMatch(wanted)) {
                return;
            }
            if (!process.isAlive()) {
                throw new IOException("exited (code " + process.exitValue() + ") before the line it waited for: "
                        + description + "\n--- its output:\n" + text());
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("no such line after " + timeout + ": " + description + "\n--- its output:\n"
                        + text());
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }
    }

    /** Everything it printed so far. */
    List<String> lines() throws IOException {
        return Files.readAllLines(output, StandardCharsets.UTF_8);
    }

    /** Everything it printed so far, as one text (for assertion messages). */
    String text() {
        try {
            return String.join("\n", lines());
        } catch (IOException e) {
            return "(its output cannot be read: " + e + ")";
        }
    }

    /** The agent's lines so far. */
    List<String> agentLines() throws IOException {
        return lines().stream().filter(line -> line.startsWith("[tfo4j-agent]")).toList();
    }

    /** Stops it (SIGTERM, so shutdown hooks such as the agent's summary run) and waits for it. */
    void stop() {
        Processes.stop(process);
    }

    /** Stops it, then removes its output file. */
    @Override
    public void close() throws IOException {
        stop();
        Files.deleteIfExists(output);
    }
}
