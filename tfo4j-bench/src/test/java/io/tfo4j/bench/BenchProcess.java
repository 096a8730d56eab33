package io.tfo4j.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tfo4j.lab.NetNamespace;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the real {@code tfo4j bench} / {@code tfo4j peer} command (this module's BenchMain, in a new JVM) inside a network namespace. */
final class BenchProcess implements AutoCloseable {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final Process process;
    private final Path stdout;
    private final Path stderr;

    private BenchProcess(Process process, Path stdout, Path stderr) {
        this.process = process;
        this.stdout = stdout;
        this.stderr = stderr;
    }

    static List<String> javaCommand(String... args) {
        return ChildJvm.command(args);
    }

    /** Starts {@code tfo4j args...} in {@code namespace}, feeding it {@code stdin}. */
    static BenchProcess start(NetNamespace namespace, byte[] stdin, String... args) throws IOException {
        Path out = Files.createTempFile("tfo4j-bench", ".out");
        Path err = Files.createTempFile("tfo4j-bench", ".err");
        Process process = namespace.command(javaCommand(args).toArray(String[]::new))
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        try (OutputStream in = process.getOutputStream()) {
            in.write(stdin);
        }
        return new BenchProcess(process, out, err);
    }

    /** Runs {@code tfo4j args...} in {@code namespace} to the end (at most 30 s). */
    static BenchProcess run(NetNamespace namespace, byte[] stdin, String... args) throws Exception {
        BenchProcess cli = start(namespace, stdin, args);
        cli.awaitExit(30);
        return cli;
    }

    int awaitExit(int seconds) throws InterruptedException, IOException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("tfo4j did not finish within " + seconds + " s; stderr: " + stderr());
        }
        return process.exitValue();
    }

    String stdout() throws IOException {
        return Files.readString(stdout, StandardCharsets.UTF_8);
    }

    String stderr() throws IOException {
        return Files.readString(stderr, StandardCharsets.UTF_8);
    }

    /** The JSON lines tfo4j wrote to stdout. */
    List<JsonNode> stdoutJson() throws IOException {
        return json(stdout());
    }

    private static List<JsonNode> json(String text) throws IOException {
        List<JsonNode> lines = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.startsWith("{")) {
                lines.add(MAPPER.readTree(line));
            }
        }
        return lines;
    }

    @Override
    public void close() throws IOException {
        process.destroyForcibly();
        Files.deleteIfExists(stdout);
        Files.deleteIfExists(stderr);
    }
}
