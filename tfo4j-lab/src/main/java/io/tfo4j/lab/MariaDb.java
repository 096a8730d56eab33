package io.tfo4j.lab;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * MariaDB, a real server of a protocol where the server speaks first (it sends its handshake before the
 * client says anything), run inside a {@link NetNamespace} as a peer for tests where a JDBC client connects
 * to it. Each server gets a fresh data directory in a temporary directory, with a database {@value #DATABASE}
 * and an account {@value #USER} (password {@value #PASSWORD}) that may connect from any host and do anything
 * in that database; {@link #jdbcUrl()} says where. There is also {@code root}, without a password, from
 * {@code localhost} and {@code 127.0.0.1}. A start takes about a second, most of it mariadb-install-db
 * making the system tables (0.1 to 0.2 s of it is mariadbd's own start). The machine's own configuration ({@code /etc/mysql}) and
 * any MariaDB service it runs are left alone: the server reads no option files, and its socket, pid file
 * and logs are in the temporary directory, which {@link #close()} removes.
 *
 * <p>Needs Debian's {@code /usr/sbin/mariadbd} and {@code /usr/bin/mariadb-install-db} (package
 * mariadb-server-core), and {@code my_print_defaults}, which mariadb-install-db calls (mariadb-client-core);
 * {@code apt-get install mariadb-server} brings both. Without them {@link #unavailableReason()} says so and
 * {@link #start} throws. Runs as root, like the namespaces it lives in.
 */
public final class MariaDb implements AutoCloseable {
    /** The database made for tests. */
    public static final String DATABASE = "tfo4j";
    /** The account made for tests, allowed from any host ({@code 'tfo4j'@'%'}) with all privileges on {@value #DATABASE}. */
    public static final String USER = "tfo4j";
    /** The password of {@value #USER}. */
    public static final String PASSWORD = "tfo4j";
    /** Where Debian's mariadb-server-core puts the server. */
    public static final Path BINARY = Path.of("/usr/sbin/mariadbd");
    /** Where Debian's mariadb-server-core puts the script that makes a data directory. */
    public static final Path INSTALL_DB = Path.of("/usr/bin/mariadb-install-db");
    /** Called by mariadb-install-db even with --no-defaults (Debian: mariadb-client-core). */
    private static final Path PRINT_DEFAULTS = Path.of("/usr/bin/my_print_defaults");

    /**
     * Options of both the bootstrap run (mariadb-install-db passes options it does not know to mariadbd) and
     * the server, for a small and quick start: a 16 MiB buffer pool and redo log (the defaults are 128 and 96
     * MiB; a smaller log makes the bootstrap slower, it checkpoints all the time), no binary log, and
     * synchronous I/O instead of io_uring or libaio, which containers often refuse (seccomp, aio-max-nr).
     */
    private static final List<String> SMALL = List.of("--innodb-buffer-pool-size=16M", "--innodb-log-file-size=16M",
            "--skip-log-bin", "--innodb-use-native-aio=0");

    private final String address;
    private final int port;
    private final Process process;
    private final Path directory;
    private boolean closed;

    private MariaDb(String address, int port, Process process, Path directory) {
        this.address = address;
        this.port = port;
        this.process = process;
        this.directory = directory;
    }

    /** Why MariaDB cannot run here, or empty. */
    public static Optional<String> unavailableReason() {
        return Files.isExecutable(BINARY) && Files.isExecutable(INSTALL_DB) && Files.isExecutable(PRINT_DEFAULTS)
                ? Optional.empty()
                : Optional.of("MariaDB is not installed (apt-get install mariadb-server)");
    }

    /**
     * Makes a data directory, starts mariadbd in {@code namespace} listening on {@code address:port}, and
     * waits until it accepts connections and is ready for logins. mariadbd binds with IP_FREEBIND, so an
     * address the namespace does not have is no error: the server starts, and nothing reaches it.
     *
     * @throws IOException when the data directory cannot be made or the server does not start; the message
     *                     quotes the end of its error log
     */
    public static MariaDb start(NetNamespace namespace, String address, int port) throws IOException {
        Optional<String> problem = unavailableReason();
        if (problem.isPresent()) {
            throw new IOException(problem.get());
        }
        Path directory = Files.createTempDirectory("tfo4j-mariadb");
        Path errorLog = directory.resolve("error.log");
        try {
            install(directory, errorLog);
        } catch (IOException e) {
            String log = tail(errorLog);
            delete(directory);
            throw new IOException(e.getMessage() + "; its error log ends: " + log, e);
        }
        Process process;
        try {
            process = namespace.command(serverCommand(directory, address, port).toArray(String[]::new))
                    .redirectErrorStream(true).redirectOutput(directory.resolve("stdout.log").toFile()).start();
        } catch (IOException e) {
            delete(directory);
            throw e;
        }
        MariaDb server = new MariaDb(address, port, process, directory);
        try {
            Listening.await(namespace, address, port, process);
            awaitReady(process, errorLog);
        } catch (IOException e) {
            String log = tail(errorLog);
            server.close();
            throw new IOException(e.getMessage() + "; mariadbd said: " + log, e);
        }
        return server;
    }

    /**
     * Makes {@code directory/data} with mariadb-install-db, and in the same bootstrap run the test database
     * and account, so the server needs no client and no init file and is ready as soon as it listens.
     */
    private static void install(Path directory, Path errorLog) throws IOException {
        Path setup = directory.resolve("setup.sql");
        // The bootstrap runs with the grant tables off (as if --skip-grant-tables), where CREATE USER fails
        // with error 1290; FLUSH PRIVILEGES loads them.
        Files.writeString(setup, String.join("\n",
                "FLUSH PRIVILEGES;",
                "CREATE DATABASE " + DATABASE + ";",
                "CREATE USER '" + USER + "'@'%' IDENTIFIED BY '" + PASSWORD + "';",
                "GRANT ALL PRIVILEGES ON " + DATABASE + ".* TO '" + USER + "'@'%';", ""));
        List<String> command = new ArrayList<>(List.of(INSTALL_DB.toString(),
                "--no-defaults",
                // Makes a data directory that does not depend on this host: no root@HOSTNAME account (which
                // --skip-name-resolve would ignore with a warning) and no look-up of the host name, which fails
                // in containers whose name does not resolve. It also keeps the script quiet.
                "--cross-bootstrap",
                "--datadir=" + directory.resolve("data"),
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--extra-file=" + setup,
                "--log-error=" + errorLog));
        // No --user: as root the bootstrap may run without it, and with it the script also chowns Debian's
        // /usr/lib/mysql/plugin/auth_pam_tool_dir to that user, a change to the machine.
        command.addAll(SMALL);
        Path output = directory.resolve("install.log");
        Process install = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        try {
            if (!install.waitFor(120, TimeUnit.SECONDS)) {
                install.destroyForcibly();
                throw new IOException(INSTALL_DB + " did not finish within 120 s");
            }
        } catch (InterruptedException e) {
            install.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + INSTALL_DB, e);
        }
        if (install.exitValue() != 0) {
            throw new IOException(INSTALL_DB + " failed (exit " + install.exitValue() + "): "
                    + read(output).strip());
        }
    }

    private static List<String> serverCommand(Path directory, String address, int port) {
        List<String> command = new ArrayList<>(List.of(BINARY.toString(),
                "--no-defaults", // must come first: the machine's /etc/mysql is not read
                // mariadbd refuses to run as root unless told to. Running as the mysql user instead would mean
                // chowning the data directory and opening the 0700 temporary directory to that user; the lab
                // runs as root anyway.
                "--user=root",
                "--datadir=" + directory.resolve("data"),
                "--socket=" + directory.resolve("mariadbd.sock"),
                "--pid-file=" + directory.resolve("mariadbd.pid"),
                "--tmpdir=" + directory,
                "--log-error=" + directory.resolve("error.log"),
                "--bind-address=" + address,
                "--port=" + port,
                "--skip-name-resolve"));
        command.addAll(SMALL);
        return command;
    }

    /**
     * Waits for "ready for connections" in the error log: mariadbd listens before it has loaded the grant
     * tables, and may still fail after that (for example when another server already had the port).
     */
    private static void awaitReady(Process process, Path errorLog) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (read(errorLog).contains("ready for connections")) {
                return;
            }
            if (!process.isAlive()) {
                throw new IOException("mariadbd exited (code " + process.exitValue() + ") before it was ready");
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for mariadbd", e);
            }
        }
        throw new IOException("mariadbd listens but did not say \"ready for connections\" within 20 s");
    }

    /** The address the server listens on, in its namespace. */
    public String address() {
        return address;
    }

    /** The port the server listens on. */
    public int port() {
        return port;
    }

    /** {@code jdbc:mariadb://ADDRESS:PORT/tfo4j}, for MariaDB Connector/J with {@link #USER} and {@link #PASSWORD}. */
    public String jdbcUrl() {
        String host = address.contains(":") ? "[" + address + "]" : address;
        return "jdbc:mariadb://" + host + ":" + port + "/" + DATABASE;
    }

    /** Stops mariadbd (SIGTERM, then SIGKILL after 5 s) and removes its directory. Safe to call twice. */
    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        Processes.stop(process);
        delete(directory);
    }

    @Override
    public String toString() {
        return "MariaDb[" + address + ":" + port + ", " + directory + "]";
    }

    /** The last lines of a log, or a note that there is none. */
    private static String tail(Path log) {
        try {
            if (!Files.exists(log)) {
                return "(no " + log.getFileName() + ")";
            }
            List<String> lines = read(log).lines().toList();
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size())).strip();
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e.getMessage() + ")";
        }
    }

    /** A log as text, empty when it does not exist yet; bytes that are not UTF-8 do not make it fail. */
    private static String read(Path log) throws IOException {
        return Files.exists(log) ? new String(Files.readAllBytes(log), StandardCharsets.UTF_8) : "";
    }

    private static void delete(Path directory) throws IOException {
        if (!Files.exists(directory)) {
            return;
        }
        try (var paths = Files.walk(directory)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }
}
