package io.tfo4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tfo4j.lab.JvmLauncher;
import io.tfo4j.lab.NetNamespace;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs {@code tfo4j} itself as a child process inside a network namespace: the same JDK, class path and
 * JVM flags as this process. The demo runs {@code tfo4j get} this way, as a user would, and tests run the
 * real command line the same way.
 */
final class ChildJvm {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private ChildJvm() {
    }

    /** The command line that runs {@code tfo4j args...} in a new JVM. */
    static List<String> command(String... args) {
        return JvmLauncher.command(List.of(), System.getProperty("java.class.path"), Main.class.getName(), List.of(args));
    }

    /**
     * Runs {@code tfo4j args...} in {@code namespace} to the end (at most {@code timeoutSeconds}) and returns
     * the JSON lines it wrote to stdout.
     *
     * @throws IOException when it fails, times out or writes no JSON; the message holds its stderr
     */
    static List<JsonNode> jsonLines(NetNamespace namespace, int timeoutSeconds, String... args) throws IOException {
        List<JsonNode> lines = new ArrayList<>();
        for (String line : JvmLauncher.jsonLines(namespace.command(command(args).toArray(String[]::new)),
                "tfo4j " + String.join(" ", args), timeoutSeconds)) {
            lines.add(MAPPER.readTree(line));
        }
        return lines;
    }
}
