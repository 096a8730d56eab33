package io.tfo4j.lab;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Starts another JVM the way the {@code ./tfo4j} launcher would: this JVM's own JDK (a JDK 25) with the flags
 * tfo4j-core and tfo4j-http need. The demo and the benchmarks run their clients and servers this way, inside a
 * lab's network namespaces ({@link NetNamespace#command}), and read the JSON lines those print.
 */
public final class JvmLauncher {
    /** The flags tfo4j-core and tfo4j-http need on the class path; the {@code ./tfo4j} launcher passes the same. */
    public static final List<String> FLAGS = List.of("--enable-native-access=ALL-UNNAMED",
            "--add-exports", "java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-opens", "java.base/java.net=ALL-UNNAMED",
            "--add-opens", "jdk.httpserver/sun.net.httpserver=ALL-UNNAMED");

    private JvmLauncher() {
    }

    /** This JVM's java launcher. */
    public static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** {@code java jvmOptions... FLAGS... -cp classPath mainClass args...}. */
    public static List<String> command(List<String> jvmOptions, String classPath, String mainClass, List<String> args) {
        List<String> command = new ArrayList<>();
        command.add(java());
        command.addAll(jvmOptions);
        command.addAll(FLAGS);
        command.addAll(List.of("-cp", classPath, mainClass));
        command.addAll(args);
        return command;
    }

    /**
     * Runs {@code builder}'s process to the end (at most {@code timeoutSeconds}) and returns the lines of its
     * stdout that hold a JSON object (those starting with <code>{</code>).
     *
     * @param what the process for error messages, e.g. {@code tfo4j get --json URL}
     * @throws IOException when it times out, or fails and wrote no JSON line; the message holds its stderr
     */
    public static List<String> jsonLines(ProcessBuilder builder, String what, int timeoutSeconds) throws IOException {
        Process process = builder.start();
        try {
            process.getOutputStream().close();
            byte[] out = process.getInputStream().readAllBytes(); // ends when the process does
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                throw new IOException(what + " did not finish within " + timeoutSeconds + " s");
            }
            String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            List<String> lines = new String(out, StandardCharsets.UTF_8).lines().filter(l -> l.startsWith("{")).toList();
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
