package io.tfo4j.cli;

import io.tfo4j.lab.NetNamespace;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * nginx, a Fast Open server nobody here wrote, run for a benchmark inside a namespace: one worker,
 * {@code listen ADDRESS:PORT fastopen=256}, serving one directory, no access log. Its files live in a
 * temporary prefix that {@link #close()} removes.
 */
final class Nginx implements AutoCloseable {
    static final Path BINARY = Path.of("/usr/sbin/nginx");

    private final Process process;
    private final Path prefix;

    private Nginx(Process process, Path prefix) {
        this.process = process;
        this.prefix = prefix;
    }

    /** Why nginx cannot run here, or empty. */
    static Optional<String> unavailableReason() {
        return Files.isExecutable(BINARY) ? Optional.empty()
                : Optional.of("nginx is not installed (apt-get install nginx-light)");
    }

    /** Starts nginx in {@code namespace} and waits until it answers on {@code address:port}. */
    static Nginx start(NetNamespace namespace, String address, int port, Path root) throws IOException {
        Path prefix = Files.createTempDirectory("tfo4j-nginx");
        Path config = prefix.resolve("nginx.conf");
        Files.writeString(config, String.join("\n",
                "daemon off;",
                "worker_processes 1;",
                "pid " + prefix.resolve("nginx.pid") + ";",
                "error_log " + prefix.resolve("error.log") + ";",
                "events { worker_connections 1024; }",
                "http {",
                "  access_log off;",
                "  client_body_temp_path " + prefix.resolve("body") + ";",
                "  proxy_temp_path " + prefix.resolve("proxy") + ";",
                "  server {",
                "    listen " + address + ":" + port + " fastopen=256;",
                "    root " + root.toAbsolutePath() + ";",
                "  }",
                "}", ""));
        Process process = namespace.command(BINARY.toString(), "-p", prefix.toString(), "-c", config.toString())
                .redirectErrorStream(true).redirectOutput(prefix.resolve("stdout.log").toFile()).start();
        Nginx nginx = new Nginx(process, prefix);
        try {
            Listening.await(namespace, address, port, process);
        } catch (IOException e) {
            String log = Files.exists(prefix.resolve("error.log")) ? Files.readString(prefix.resolve("error.log")) : "";
            nginx.close();
            throw new IOException(e.getMessage() + "; nginx said: " + log.strip(), e);
        }
        return nginx;
    }

    @Override
    public void close() throws IOException {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        try (var paths = Files.walk(prefix)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }
}
