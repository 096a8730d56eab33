package io.tfo4j.lab;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * nginx, a Fast Open server nobody here wrote, run inside a {@link NetNamespace} as a peer for tests and
 * benchmarks: one worker, {@code listen ADDRESS:PORT fastopen=256}, serving one directory (which its
 * unprivileged worker must be able to read), no access log. Its configuration and logs live in a temporary
 * prefix that {@link #close()} removes. Needs {@code /usr/sbin/nginx} (Debian: nginx-light).
 */
public final class Nginx implements AutoCloseable {
    /** A path nginx answers with 200 and "ok" whatever the method: static files refuse POST with 405. */
    public static final String OK_PATH = "/ok";
    /** Where Debian's nginx packages put it. */
    public static final Path BINARY = Path.of("/usr/sbin/nginx");

    private final Process process;
    private final Path prefix;

    private Nginx(Process process, Path prefix) {
        this.process = process;
        this.prefix = prefix;
    }

    /** Why nginx cannot run here, or empty. */
    public static Optional<String> unavailableReason() {
        return Files.isExecutable(BINARY) ? Optional.empty()
                : Optional.of("nginx is not installed (apt-get install nginx-light)");
    }

    /**
     * Starts nginx in {@code namespace} and waits until it accepts connections on {@code address:port}.
     *
     * @throws IOException when it does not start; the message quotes its error log
     */
    public static Nginx start(NetNamespace namespace, String address, int port, Path root) throws IOException {
        return start(namespace, address, port, root, null);
    }

    /**
     * Starts nginx speaking HTTPS ({@code listen ... ssl fastopen=256}, TLS 1.3 and 1.2, HTTP/1.1) with
     * {@code tls}'s certificate, or plain HTTP when {@code tls} is null, and waits until it accepts
     * connections.
     *
     * @throws IOException when it does not start; the message quotes its error log
     */
    public static Nginx start(NetNamespace namespace, String address, int port, Path root, OpensslCertificate tls)
            throws IOException {
        Path prefix = Files.createTempDirectory("tfo4j-nginx");
        Process process = namespace.command(command(prefix, address, port, root, tls).toArray(String[]::new))
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

    /**
     * Writes the configuration into {@code prefix} and returns the command that runs nginx in the foreground
     * with it, for callers that start it themselves (for example under {@code taskset}). The directory must
     * exist; nginx writes its pid file and logs there.
     */
    public static List<String> command(Path prefix, String address, int port, Path root) throws IOException {
        return command(prefix, address, port, root, null);
    }

    /** {@link #command(Path, String, int, Path)}, over TLS with {@code tls}'s certificate unless it is null. */
    public static List<String> command(Path prefix, String address, int port, Path root, OpensslCertificate tls)
            throws IOException {
        Path config = prefix.resolve("nginx.conf");
        Files.writeString(config, String.join("\n",
                "daemon off;",
                "worker_processes 1;",
                "pid " + prefix.resolve("nginx.pid") + ";",
                "error_log " + prefix.resolve("error.log") + " warn;",
                "events { worker_connections 4096; }",
                "http {",
                "  access_log off;",
                "  client_body_temp_path " + prefix.resolve("body") + ";",
                "  proxy_temp_path " + prefix.resolve("proxy") + ";",
                "  fastcgi_temp_path " + prefix.resolve("fastcgi") + ";",
                "  uwsgi_temp_path " + prefix.resolve("uwsgi") + ";",
                "  scgi_temp_path " + prefix.resolve("scgi") + ";",
                "  server {",
                "    listen " + address + ":" + port + (tls == null ? "" : " ssl") + " fastopen=256;",
                tls == null ? "" : "    ssl_certificate " + tls.certificate().toAbsolutePath() + ";",
                tls == null ? "" : "    ssl_certificate_key " + tls.key().toAbsolutePath() + ";",
                tls == null ? "" : "    ssl_protocols TLSv1.2 TLSv1.3;",
                "    root " + root.toAbsolutePath() + ";",
                "    location = " + OK_PATH + " { return 200 \"ok\\n\"; }",
                "  }",
                "}", ""));
        return List.of(BINARY.toString(), "-p", prefix.toString(), "-e", prefix.resolve("error.log").toString(),
                "-c", config.toString());
    }

    /** Stops nginx (SIGTERM, then SIGKILL after 5 s) and removes its prefix. */
    @Override
    public void close() throws IOException {
        Processes.stop(process);
        try (var paths = Files.walk(prefix)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }
}
