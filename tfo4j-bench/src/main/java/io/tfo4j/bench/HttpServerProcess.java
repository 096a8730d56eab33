package io.tfo4j.bench;

import io.tfo4j.lab.NetNamespace;
import io.tfo4j.lab.Nginx;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * An HTTP server run as a separate process inside a network namespace, for
 * {@link HttpRequestRateBenchmark}: either the real {@code tfo4j serve} command (a second JVM running
 * {@code io.tfo4j.cli.Main serve}) or nginx with one worker. Both serve the same directory, made here, on
 * {@code 127.0.0.1:}{@link #PORT} of the namespace, optionally pinned to one CPU with {@code taskset}.
 *
 * <p>{@link #start} returns once the server has answered a {@code GET} with 200; {@link #close()} stops the
 * process (SIGTERM, then SIGKILL after 5 s, its children too) and deletes the directory. The process's
 * stdout and stderr go to {@code server.log} in that directory; a failure to start quotes it.
 */
public final class HttpServerProcess implements AutoCloseable {
    /** The namespace is private to one trial, so a fixed port is always free. */
    public static final int PORT = 8080;
    /** The file every request asks for. */
    public static final String FILE_NAME = "index.html";
    /** Its size: a small page, one segment with the headers. */
    public static final int FILE_BYTES = 600;
    /** The Fast Open queue length of both servers ({@code --fastopen=256}, {@code fastopen=256}). */
    public static final int FAST_OPEN_QUEUE = 256;

    /** Linux reports /proc times in USER_HZ, which is 100 on every architecture Java runs on. */
    public static final int TICKS_PER_SECOND = 100;

    private static final long START_TIMEOUT_MILLIS = 30_000;
    private static final long STOP_TIMEOUT_MILLIS = 5_000;

    /** Which server. */
    public enum Kind {
        /** {@code tfo4j serve DIR --bind 127.0.0.1 --port 8080 --fastopen=256}. */
        SERVE_FAST_OPEN,
        /** {@code tfo4j serve DIR --bind 127.0.0.1 --port 8080}. */
        SERVE_PLAIN,
        /** nginx, {@code worker_processes 1; listen 127.0.0.1:8080 fastopen=256;}. */
        NGINX_FAST_OPEN;

        /** Whether its listener is asked to take data in the SYN. */
        public boolean fastOpen() {
            return this != SERVE_PLAIN;
        }
    }

    private final Kind kind;
    private final Path directory;
    private final Process process;
    private final List<String> command;

    private HttpServerProcess(Kind kind, Path directory, Process process, List<String> command) {
        this.kind = kind;
        this.directory = directory;
        this.process = process;
        this.command = command;
    }

    /**
     * Writes the site (and nginx's configuration) to a new temporary directory, starts the server in
     * {@code namespace}, and waits until it answers.
     *
     * @param cpu the CPU to pin the server to with {@code taskset -c}, or empty for no pinning
     */
    public static HttpServerProcess start(Kind kind, NetNamespace namespace, String cpu) throws IOException {
        Path directory = Files.createTempDirectory("tfo4j-bench-http-");
        Process process = null;
        try {
            // nginx's worker runs as nobody: the site must be readable by others (createTempDirectory gives 0700).
            Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path site = Files.createDirectory(directory.resolve("site"));
            Files.writeString(site.resolve(FILE_NAME), page(), StandardCharsets.US_ASCII);
            List<String> command = new ArrayList<>();
            if (!cpu.isEmpty()) {
                command.addAll(List.of("taskset", "-c", cpu));
            }
            command.addAll(switch (kind) {
                case SERVE_FAST_OPEN, SERVE_PLAIN -> serveCommand(site, kind.fastOpen());
                case NGINX_FAST_OPEN -> Nginx.command(directory, "127.0.0.1", PORT, site);
            });
            ProcessBuilder builder = namespace.command(command.toArray(String[]::new))
                    .redirectErrorStream(true)
                    .redirectOutput(directory.resolve("server.log").toFile());
            process = builder.start();
            HttpServerProcess server = new HttpServerProcess(kind, directory, process, builder.command());
            server.awaitAnswer(namespace);
            return server;
        } catch (IOException | RuntimeException e) {
            String log = readLog(directory);
            stop(process);
            deleteTree(directory);
            if (!log.isEmpty()) {
                e.addSuppressed(new IOException("server log:\n" + log));
            }
            throw e;
        }
    }

    /** A page of exactly {@link #FILE_BYTES} ASCII bytes. */
    static String page() {
        String head = "<!doctype html>\n<html><head><title>tfo4j bench</title></head><body>\n<p>";
        String tail = "</p>\n</body></html>\n";
        StringBuilder text = new StringBuilder(head);
        while (text.length() < FILE_BYTES - tail.length()) {
            text.append((char) ('a' + text.length() % 26));
        }
        return text.append(tail).toString();
    }

    /**
     * The real {@code tfo4j serve}: this JVM's {@code java} and classpath (the benchmarks jar holds tfo4j-cli),
     * with the flags the root pom passes to every tfo4j JVM ({@code tfo4j.jvm.flags}), and nothing else: no
     * heap or GC options beyond what {@code ./tfo4j serve} gets.
     */
    static List<String> serveCommand(Path site, boolean fastOpen) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(serverJvmFlags());
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.tfo4j.cli.Main",
                "serve", site.toString(), "--bind", "127.0.0.1", "--port", Integer.toString(PORT)));
        if (fastOpen) {
            command.add("--fastopen=" + FAST_OPEN_QUEUE);
        }
        return command;
    }

    /** {@code tfo4j.jvm.flags} from the root pom, put into tfo4j-bench.properties by Maven's resource filter. */
    static List<String> serverJvmFlags() throws IOException {
        Properties properties = new Properties();
        try (InputStream in = HttpServerProcess.class.getResourceAsStream("/tfo4j-bench.properties")) {
            if (in == null) {
                throw new IOException("tfo4j-bench.properties is missing from the classpath; rebuild tfo4j-bench");
            }
            properties.load(in);
        }
        String flags = properties.getProperty("server.jvm.flags", "").trim();
        if (flags.isEmpty() || flags.contains("${")) {
            throw new IOException("tfo4j-bench.properties has no filtered server.jvm.flags: " + flags);
        }
        return Arrays.asList(flags.split("\\s+"));
    }

    /** Polls with plain GETs from inside the namespace until one gets 200, the process dies, or 30 s pass. */
    private void awaitAnswer(NetNamespace namespace) throws IOException {
        InetSocketAddress address = new InetSocketAddress("127.0.0.1", PORT);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MILLIS);
        String lastProblem = "no answer yet";
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException(kind + " exited with status " + process.exitValue() + " before answering: "
                        + String.join(" ", command));
            }
            String problem = namespace.call(() -> {
                try (SocketChannel channel = SocketChannel.open(address)) {
                    channel.write(ByteBuffer.wrap(HttpRequestRateBenchmark.REQUEST));
                    ByteBuffer response = ByteBuffer.allocate(HttpRequestRateBenchmark.RESPONSE_CAPACITY);
                    HttpRequestRateBenchmark.readResponse(channel, response);
                    return null;
                } catch (ConnectException notYet) {
                    return "connection refused";
                } catch (IOException e) {
                    return e.toString();
                }
            });
            if (problem == null) {
                return;
            }
            lastProblem = problem;
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for " + kind, e);
            }
        }
        throw new IOException(kind + " did not answer on " + address + " within " + START_TIMEOUT_MILLIS
                + " ms (" + lastProblem + "): " + String.join(" ", command));
    }

    /** The server's stdout and stderr so far. */
    public String log() {
        return readLog(directory);
    }

    /** The process, as started (after {@code ip netns exec NAME}, which execs it, so this is its pid). */
    public long pid() {
        return process.pid();
    }

    /**
     * CPU time the server has used so far, user and system, in clock ticks of {@link #TICKS_PER_SECOND}:
     * {@code utime + stime} of {@code /proc/PID/stat} for the process (all its threads, also ended ones)
     * and each live descendant (nginx's worker).
     */
    public long cpuTicks() throws IOException {
        long ticks = cpuTicks(process.pid());
        for (ProcessHandle child : process.descendants().toList()) {
            ticks += cpuTicks(child.pid());
        }
        return ticks;
    }

    private static long cpuTicks(long pid) throws IOException {
        String stat;
        try {
            stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.US_ASCII);
        } catch (NoSuchFileException gone) {
            return 0;
        }
        // After "pid (comm) ", fields from 3 (state) on; utime and stime are fields 14 and 15.
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[14 - 3]) + Long.parseLong(fields[15 - 3]);
    }

    /** The command line it was started with. */
    public List<String> command() {
        return command;
    }

    /** Stops the process and its children and deletes the directory. */
    @Override
    public void close() throws IOException {
        try {
            stop(process);
        } finally {
            deleteTree(directory);
        }
    }

    private static void stop(Process process) {
        if (process == null) {
            return;
        }
        List<ProcessHandle> children = process.descendants().toList();
        process.destroy();
        try {
            if (!process.waitFor(STOP_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                process.waitFor(STOP_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        for (ProcessHandle child : children) {
            child.destroyForcibly();
        }
    }

    private static String readLog(Path directory) {
        Path log = directory.resolve("server.log");
        try {
            String text = Files.isRegularFile(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
            Path nginxErrors = directory.resolve("error.log");
            if (Files.isRegularFile(nginxErrors)) {
                text += Files.readString(nginxErrors, StandardCharsets.UTF_8);
            }
            return text.length() > 4000 ? text.substring(text.length() - 4000) : text;
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }

    private static void deleteTree(Path directory) throws IOException {
        if (!Files.exists(directory)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(directory)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }
}
