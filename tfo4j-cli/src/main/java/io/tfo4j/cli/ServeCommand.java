package io.tfo4j.cli;

import io.tfo4j.FastOpenKeys;
import io.tfo4j.FastOpenStatus;
import io.tfo4j.http.EarlyDataPolicy;
import io.tfo4j.http.FastOpenFileServer;
import io.tfo4j.http.TlsIdentity;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Consumer;

/**
 * {@code tfo4j serve}: an HTTP/1.1 file server (Jetty 12) whose listener takes requests in the SYN, with
 * replay-safe handling of early data and an access log that says which requests came in the SYN. See
 * {@link FastOpenFileServer}.
 */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Serve a directory over HTTP/1.1 or HTTPS (HTTP/2 too), optionally with TCP Fast Open.",
                "Also answers POST /echo with the request body. Stops on Ctrl-C."})
final class ServeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(arity = "0..1", paramLabel = "DIR", defaultValue = ".", description = "Directory to serve (default: the current one).")
    Path root;

    @Option(names = "--bind", paramLabel = "ADDR", defaultValue = "127.0.0.1",
            description = "Address to listen on (default 127.0.0.1; 0.0.0.0 or :: for all).")
    String bind;

    @Option(names = "--port", paramLabel = "P", defaultValue = "8080", description = "Port (default 8080; 0 for any free one).")
    int port;

    @Option(names = "--fastopen", arity = "0..1", paramLabel = "QLEN", fallbackValue = "256", defaultValue = "0",
            description = "Take data in the SYN, with this many pending Fast Open connections at most (default when given: 256).")
    int fastOpenQueue;

    @Option(names = "--key-file", paramLabel = "FILE",
            description = "Fast Open server keys for the listener from FILE (tfo4j keys new; mode 600), followed while serve runs"
                    + " (a file replaced by rename or a Kubernetes Secret update is applied without a restart):"
                    + " servers behind one address with the same file accept each other's cookies.")
    Path keyFile;

    @Option(names = "--no-cookie", description = "Accept data in the SYN without a cookie (needs --fastopen): even a"
            + " first connection takes one round trip, but anyone who can reach the port can make the server run SYN"
            + " data without proving their address. Trusted networks only.")
    boolean noCookie;

    @Option(names = "--early-data", paramLabel = "POLICY", defaultValue = "wait",
            description = "A POST or other non-idempotent request that came in the SYN before the handshake completed: "
                    + "wait (default: hold it until the handshake completes, drop it if it never does), "
                    + "reject (answer 425 Too Early) or allow (run it at once; a replayed SYN runs it again).")
    String earlyData;

    @Option(names = "--access-log", arity = "0..1", paramLabel = "FILE", fallbackValue = "-",
            description = "One line per request with its Fast Open outcome, to FILE or, without one, to stdout.")
    String accessLog;

    @Option(names = "--tls", description = "Serve HTTPS (TLS 1.3 or 1.2; HTTP/2 or HTTP/1.1 by ALPN). Without --cert/--key"
            + " or --pkcs12, with a self-signed certificate made at start for the bind address and localhost.")
    boolean tls;

    @Option(names = "--cert", paramLabel = "FILE", description = "HTTPS: the certificate chain, PEM (implies --tls; needs --key).")
    Path certificate;

    @Option(names = "--key", paramLabel = "FILE", description = "HTTPS: the certificate's private key, PEM, unencrypted.")
    Path key;

    @Option(names = "--pkcs12", paramLabel = "FILE", description = "HTTPS: key and certificate chain from a PKCS#12 keystore"
            + " (implies --tls); its password from the environment variable TFO4J_KEYSTORE_PASSWORD (empty if unset).")
    Path pkcs12;

    @Option(names = "--max-header-size", paramLabel = "BYTES", defaultValue = "8192",
            description = "Largest request line plus headers; larger gets 431 (default 8192).")
    int maxHeaderBytes;

    @Option(names = "--max-body-size", paramLabel = "BYTES", defaultValue = "1048576",
            description = "Largest request body; larger gets 413 (default 1048576).")
    long maxBodyBytes;

    @Option(names = "--idle-timeout", paramLabel = "SECONDS", defaultValue = "30",
            description = "Close a connection that sends nothing for this long (default 30).")
    int idleSeconds;

    @Option(names = "--header-timeout", paramLabel = "SECONDS", defaultValue = "10",
            description = "Answer 408 and close a connection whose request line and headers are not all in within this"
                    + " long, however steadily they trickle in (default 10).")
    int headerSeconds;

    @Option(names = "--max-connections", paramLabel = "N",
            description = "Connections open at once at most; more wait in the listen backlog until one closes"
                    + " (default: three quarters of the file descriptors free at start, see ulimit -n).")
    Integer maxConnections;

    @Override
    public Integer call() throws Exception {
        EarlyDataPolicy policy = policy();
        if (!Files.isDirectory(root)) {
            throw new ParameterException(spec.commandLine(), "DIR is not a directory: " + root.toAbsolutePath());
        }
        if (idleSeconds < 1) {
            throw new ParameterException(spec.commandLine(), "--idle-timeout must be at least 1 second, got " + idleSeconds);
        }
        if (headerSeconds < 1) {
            throw new ParameterException(spec.commandLine(), "--header-timeout must be at least 1 second, got " + headerSeconds);
        }
        if (maxConnections != null && maxConnections < 1) {
            throw new ParameterException(spec.commandLine(), "--max-connections must be at least 1, got " + maxConnections);
        }
        if (noCookie && fastOpenQueue == 0) {
            throw new ParameterException(spec.commandLine(), "--no-cookie needs --fastopen (it changes how Fast Open accepts SYN data)");
        }
        FastOpenKeys keys = keyFile == null ? null : KeysCommand.readForListener(spec.commandLine(), keyFile);
        TlsIdentity identity = tlsIdentity();
        FastOpenFileServer.Builder builder;
        try {
            builder = FastOpenFileServer.builder(root).bind(bind).port(port).fastOpen(fastOpenQueue).tls(identity)
                    .earlyData(policy).maxHeaderBytes(maxHeaderBytes).maxBodyBytes(maxBodyBytes)
                    .idleTimeout(Duration.ofSeconds(idleSeconds)).headerTimeout(Duration.ofSeconds(headerSeconds))
                    .accessLog(accessLogSink()).noCookie(noCookie)
                    .problemLog(line -> System.err.println("tfo4j serve: "
                            + line.replace("lower the connection limit", "lower --max-connections")));
            if (maxConnections != null) {
                builder.maxConnections(maxConnections);
            }
            if (keyFile != null) {
                builder.fastOpenKeyFile(keyFile, line -> System.err.println("tfo4j serve: " + line));
            }
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        FastOpenFileServer server = builder.start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.close();
            } catch (Exception e) {
                System.err.println("tfo4j serve: stopping: " + e);
            }
        }, "tfo4j-serve-stop"));
        System.out.println(banner(server, policy));
        if (keys != null) {
            System.out.println("tfo4j serve: Fast Open keys from " + keyFile + ": " + KeysCommand.describe(keys)
                    + " (applied again whenever the file is replaced)");
        }
        if (noCookie) {
            System.err.println("tfo4j serve: " + KeysCommand.NO_COOKIE_WARNING);
        }
        if (identity != null) {
            System.out.println("tfo4j serve: TLS certificate for " + String.join(", ", identity.names())
                    + (identity.isSelfSigned() ? " (self-signed, made now: clients must be told to trust it, e.g. curl -k)" : "")
                    + ", SHA-256 " + identity.fingerprint());
        }
        System.out.flush();
        if (fastOpenQueue > 0 && !server.fastOpenStatus().active()) {
            FastOpenStatus status = server.fastOpenStatus();
            System.err.println("tfo4j serve: Fast Open is not active, serving without it: " + status.reason()
                    + (status.remedy().isEmpty() ? "" : "; fix: " + status.remedy()));
        }
        server.join();
        return 0;
    }

    /** The server's key and certificate when HTTPS is asked for, else null; bad files end the command with their problem. */
    private TlsIdentity tlsIdentity() {
        if ((certificate == null) != (key == null)) {
            throw new ParameterException(spec.commandLine(), certificate == null
                    ? "--key needs --cert (the certificate the key belongs to)" : "--cert needs --key (the certificate's private key)");
        }
        if (pkcs12 != null && certificate != null) {
            throw new ParameterException(spec.commandLine(), "give either --cert/--key or --pkcs12, not both");
        }
        try {
            if (certificate != null) {
                return TlsIdentity.fromPem(certificate, key);
            }
            if (pkcs12 != null) {
                String password = System.getenv("TFO4J_KEYSTORE_PASSWORD");
                return TlsIdentity.fromPkcs12(pkcs12, (password == null ? "" : password).toCharArray());
            }
        } catch (IOException e) {
            throw new ParameterException(spec.commandLine(), "cannot use the TLS key material: " + e.getMessage());
        }
        if (!tls) {
            return null;
        }
        List<String> names = new ArrayList<>();
        if (!bind.equals("0.0.0.0") && !bind.equals("::")) {
            names.add(bind);
        }
        for (String name : List.of("localhost", "127.0.0.1")) {
            if (!names.contains(name)) {
                names.add(name);
            }
        }
        return TlsIdentity.selfSigned(names);
    }

    private EarlyDataPolicy policy() {
        try {
            return EarlyDataPolicy.valueOf(earlyData.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(),
                    "--early-data must be wait, reject or allow, got '" + earlyData + "'");
        }
    }

    private String banner(FastOpenFileServer server, EarlyDataPolicy policy) {
        String host = bind.contains(":") ? "[" + bind + "]" : bind;
        String fastOpen = fastOpenQueue == 0 ? "off" : server.fastOpenStatus().active()
                ? "on (queue " + fastOpenQueue + (noCookie ? ", NO COOKIE" : "") + "), early data: " + policy.name().toLowerCase(Locale.ROOT) : "inactive";
        return "tfo4j serve: serving " + root.toAbsolutePath().normalize() + " at " + (server.tls() ? "https" : "http")
                + "://" + host + ":"
                + server.port() + "/ (Fast Open " + fastOpen + ")";
    }

    private Consumer<String> accessLogSink() {
        if (accessLog == null) {
            return null;
        }
        if (accessLog.equals("-")) {
            PrintStream out = System.out;
            return line -> {
                synchronized (out) {
                    out.println(line);
                    out.flush();
                }
            };
        }
        BufferedWriter file;
        try {
            file = Files.newBufferedWriter(Path.of(accessLog), StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new ParameterException(spec.commandLine(), "cannot write the access log " + accessLog + ": " + e);
        }
        return line -> {
            synchronized (file) {
                try {
                    file.write(line);
                    file.newLine();
                    file.flush();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        };
    }
}
