package io.tfo4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tfo4j.lab.NetNamespace;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code tfo4j} itself as a child process inside a network namespace: the same JDK, class path and
 * JVM flags as this process. The demo and the benchmarks measure clients this way, as a user would run
 * them, and tests run the real command line the same way.
 */
final class ChildJvm {
    /** The flags tfo4j-core and tfo4j-http need; the {@code ./tfo4j} launcher passes the same ones. */
    static final List<String> FLAGS = List.of("--enable-native-access=ALL-UNNAMED",
            "--add-exports", "java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-opens", "java.base/java.net=ALL-UNNAMED",
            "--add-opens", "jdk.httpserver/sun.net.httpserver=ALL-UNNAMED");
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private ChildJvm() {
    }

    /** The command line that runs {@code tfo4j args...} in a new JVM. */
    static List<String> command(String... args) {
        return command(List.of(), args);
    }

    /** The command line that runs {@code tfo4j args...} in a new JVM with more JVM options (e.g. -javaagent). */
    static List<String> command(List<String> jvmOptions, String... args) {
        List<String> command = new ArrayList<>();
        command.add(java());
        command.addAll(jvmOptions);
        command.addAll(FLAGS);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(args));
        return command;
    }

    /** This JVM's java launcher (a JDK 25). */
    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /**
     * Runs {@code tfo4j args...} in {@code namespace} to the end (at most {@code timeoutSeconds}) and returns
     * the JSON lines it wrote to stdout.
     *
     * @throws IOException when it fails, times out or writes no JSON; the message holds its stderr
     */
    static List<JsonNode> jsonLines(NetNamespace namespace, int timeoutSeconds, String... args) throws IOException {
        return jsonLines(namespace, timeoutSeconds, command(args));
    }

    /** Like {@link #jsonLines(NetNamespace, int, String...)}, for a whole command line (e.g. under taskset). */
    static List<JsonNode> jsonLines(NetNamespace namespace, int timeoutSeconds, List<String> command) throws IOException {
        return jsonLines(namespace.command(command.toArray(String[]::new)), command, timeoutSeconds);
    }

    /** Like {@link #jsonLines(NetNamespace, int, List)}, in this JVM's own network namespace. */
    static List<JsonNode> jsonLines(List<String> command, int timeoutSeconds) throws IOException {
        return jsonLines(new ProcessBuilder(command), command, timeoutSeconds);
    }

    private static List<JsonNode> jsonLines(ProcessBuilder builder, List<String> command, int timeoutSeconds)
            throws IOException {
        int main = command.indexOf(Main.class.getName());
        String what = "tfo4j " + String.join(" ", main < 0 ? command : command.subList(main + 1, command.size()));
        Process process = builder.start();
        try {
            process.getOutputStream().close();
            byte[] out = process.getInputStream().readAllBytes(); // ends when the process does
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                throw new IOException(what + " did not finish within " + timeoutSeconds + " s");
            }
            String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            List<JsonNode> lines = new ArrayList<>();
            for (String line : new String(out, StandardCharsets.UTF_8).split("\n")) {
                if (line.startsWith("{")) {
                    lines.add(MAPPER.readTree(line));
                }
            }
            if (process.exitValue() != 0 && lines.isEmpty()) {
                throw new IOException(what + " failed (exit " + process.exitValue() + "): " + err.strip());
            }
            return lines;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for " + what, e);
        } finally {
            process.destroyForcibly();
        }
    }
}
