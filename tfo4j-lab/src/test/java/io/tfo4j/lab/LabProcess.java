package io.tfo4j.lab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A command run inside a network namespace with its output in files, for tests (this module's test-jar): the
 * CLI's tests run {@code tfo4j} with it, the bench's tests its peers.
 */
public final class LabProcess implements AutoCloseable {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final Process process;
    private final Path stdout;
    private final Path stderr;

    private LabProcess(Process process, Path stdout, Path stderr) {
        this.process = process;
        this.stdout = stdout;
        this.stderr = stderr;
    }

    /** Starts {@code command} in {@code namespace}, feeding it {@code stdin}. */
    public static LabProcess start(NetNamespace namespace, byte[] stdin, List<String> command) throws IOException {
        Path out = Files.createTempFile("tfo4j-lab", ".out");
        Path err = Files.createTempFile("tfo4j-lab", ".err");
        Process process = namespace.command(command.toArray(String[]::new))
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        try (OutputStream in = process.getOutputStream()) {
            in.write(stdin);
        }
        return new LabProcess(process, out, err);
    }

    /** Runs {@code command} in {@code namespace} to the end (at most 30 s). */
    public static LabProcess run(NetNamespace namespace, byte[] stdin, List<String> command) throws Exception {
        LabProcess run = start(namespace, stdin, command);
        run.awaitExit(30);
        return run;
    }

    public int awaitExit(int seconds) throws InterruptedException, IOException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the command did not finish within " + seconds + " s; stderr: " + stderr());
        }
        return process.exitValue();
    }

    public String stdout() throws IOException {
        return Files.readString(stdout, StandardCharsets.UTF_8);
    }

    public String stderr() throws IOException {
        return Files.readString(stderr, StandardCharsets.UTF_8);
    }

    /** The JSON lines the command wrote to stdout. */
    public List<JsonNode> stdoutJson() throws IOException {
        return json(stdout());
    }

    /** The JSON lines the command wrote to stderr. */
    public List<JsonNode> jsonLines() throws IOException {
        return json(stderr());
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
