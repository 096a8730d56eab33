package io.tfo4j.agent.it;

import io.tfo4j.FastOpenCounters;
import io.tfo4j.agent.it.apps.FtpClientApp;
import io.tfo4j.agent.it.apps.GreetingServerApp;
import io.tfo4j.agent.it.apps.JdbcApp;
import io.tfo4j.agent.it.apps.SelectorReadFirstClient;
import io.tfo4j.agent.it.apps.VirtualThreadReadFirstClient;
import io.tfo4j.lab.LinkProfile;
import io.tfo4j.lab.MariaDb;
import io.tfo4j.lab.Processes;
import io.tfo4j.lab.WanLab;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * No hang, ever: unmodified programs of protocols where the server speaks first, run with the agent's
 * {@code connect=...} in the client host of a 20 ms lab. From the second connection on the client host holds
 * the server's cookie, so the kernel's connect() returns at once and sends nothing until the first write;
 * these programs read first, and would wait forever for a greeting that cannot come. Each program connects
 * several times, and each test checks that it ran to its end (exit 0 within a bound a hang would hit), that
 * the later connections did carry the cookie (the server host's TCPFastOpenPassive), and what sent their SYN
 * (the agent's {@code verbose=true} lines):
 * <ul>
 *   <li>MariaDB Connector/J, through {@code DriverManager} (a blocking read of the server's handshake):
 *       "the first operation was a read, so its SYN left without data";</li>
 *   <li>vsftpd with Apache Commons Net's FTPClient and its default socket factory: the control connections
 *       read the greeting first (the same line), and each passive data connection waits, untouched, for the
 *       reply to RETR, which vsftpd sends only once it has accepted that data connection: the first-write
 *       window's timer sends its SYN ("nothing was written within 10 ms, so its SYN left without
 *       data");</li>
 *   <li>a java.nio selector that waits for {@code OP_READ} on a non-blocking channel: the window's timer;</li>
 *   <li>blocking {@code Socket} and {@code SocketChannel} reads on virtual threads: the read;</li>
 *   <li>the selector again, 200 connections with {@code window=0}: a timer that fires before the kernel's
 *       connect() has run must not leave the connection without its SYN.</li>
 * </ul>
 * MariaDB and vsftpd are C servers that never set TCP_FASTOPEN: their host has {@code tcp_fastopen=0x403},
 * whose 0x400 gives every listener in the namespace a Fast Open queue. The greeting server
 * ({@link GreetingServerApp}) is a Java program under the agent's {@code listen=PORT}, in a host with
 * {@code tcp_fastopen=3}. The client host has only the client bit, 1.
 */
class ServerSpeaksFirstTest {
    private static final String SERVER = WanLab.SERVER_ADDRESS;
    /** Far above a normal run (a few seconds); a connection waiting for a SYN that never leaves would hit it. */
    private static final Duration BOUND = Duration.ofSeconds(60);
    private static final int COUNT = 3;
    static final String READ_FIRST = "the first operation was a read, so its SYN left without data";
    static final String WINDOW_CLOSED = "nothing was written within 10 ms, so its SYN left without data";
    private static final int GREETING_PORT = 7000;
    private static final int FTP_PORT = 2121;

    @TempDir
    Path work;
    private WanLab lab;

    @AfterEach
    void close() {
        if (lab != null) {
            lab.close();
        }
    }

    private void lab(int serverSysctl) throws IOException {
        assumeTrue(WanLab.unavailableReason().isEmpty(), () -> "skipped: " + WanLab.unavailableReason().orElse(""));
        lab = WanLab.create(LinkProfile.rtt(Duration.ofMillis(20)), 1, serverSysctl);
    }

    /** A client program's run, with the server host's Fast Open counters over it. */
    private record Run(JavaProgram.Finished program, FastOpenCounters server) {
        long agentLinesWith(String phrase) {
            return program.agentLines().stream().filter(line -> line.contains(phrase)).count();
        }

        long linesMatching(String regex) {
            return program.lines().stream().filter(line -> line.matches(regex)).count();
        }

        String report() {
            return "server host: " + server + "\n--- the program's output:\n" + program.text();
        }
    }

    /** Runs {@code main} with the agent in the client host, to its end (at most {@link #BOUND}). */
    private Run client(String agentOptions, Class<?> main, String... arguments) throws IOException {
        List<String> command = new ArrayList<>(List.of(JavaProgram.agent(agentOptions)));
        command.addAll(JavaProgram.main(main));
        command.addAll(List.of(arguments));
        FastOpenCounters before = lab.server().call(FastOpenCounters::read);
        JavaProgram.Finished program = JavaProgram.run(lab.client(), JavaProgram.java25(), command, BOUND);
        FastOpenCounters seen = lab.server().call(FastOpenCounters::read).minus(before);
        Run run = new Run(program, seen);
        System.out.println(main.getSimpleName() + " (" + agentOptions + "): exit " + program.exitCode()
                + "; server host " + seen + "; agent: " + run.agentLinesWith(READ_FIRST) + " read first, "
                + run.agentLinesWith(WINDOW_CLOSED) + " window closed");
        return run;
    }

    @Test
    void jdbcConnectionsToMariaDbNeverHang() throws Exception {
        assumeTrue(MariaDb.unavailableReason().isEmpty(), () -> "skipped: " + MariaDb.unavailableReason().orElse(""));
        lab(0x403);
        try (MariaDb mariaDb = MariaDb.start(lab.server(), SERVER, 3306)) {
            String url = mariaDb.jdbcUrl() + "?user=" + MariaDb.USER + "&password=" + MariaDb.PASSWORD;
            Run run = client("connect=3306,verbose=true", JdbcApp.class, url, Integer.toString(COUNT));

            assertEquals(0, run.program().exitCode(), run::report);
            assertEquals(COUNT, run.linesMatching("connection \\d+: SELECT 1 = 1 in .* ms"), run::report);
            // The first connection asked for the cookie; every later one carried it in its SYN.
            assertEquals(1, run.server().cookieReqd(), run::report);
            assertTrue(run.server().passive() >= COUNT - 1, run::report);
            assertEquals(0, run.server().passiveFail(), run::report);
            // Connector/J reads the server's handshake first: the read sent the deferred SYN.
            assertEquals(COUNT - 1, run.agentLinesWith(READ_FIRST), run::report);
        }
    }

    @Test
    void ftpSessionsWithTheLibrarysOwnSocketsNeverHang() throws Exception {
        Path vsftpd = Path.of("/usr/sbin/vsftpd");
        assumeTrue(Files.isExecutable(vsftpd), "skipped: vsftpd is not installed (apt-get install vsftpd)");
        lab(0x403);
        Path config = vsftpdConfig();
        Process server = lab.server().command(vsftpd.toString(), config.toString()).redirectErrorStream(true)
                .redirectOutput(work.resolve("vsftpd.log").toFile()).start();
        try {
            awaitListener(FTP_PORT, server);
            Run run = client("connect=all,verbose=true", FtpClientApp.class, SERVER, Integer.toString(FTP_PORT),
                    "hello.txt", Integer.toString(COUNT));

            assertEquals(0, run.program().exitCode(), run::report);
            assertEquals(COUNT, run.linesMatching("session \\d+: greeting '220 tfo4j test ftp'"), run::report);
            assertEquals(COUNT, run.linesMatching("session \\d+: hello.txt = 'hello over ftp\\\\n' in .* ms"),
                    run::report);
            // One cookie request (the first control connection); every later connection, control or data,
            // carried the cookie: vsftpd's passive listeners get a Fast Open queue from 0x400 too.
            assertEquals(1, run.server().cookieReqd(), run::report);
            assertEquals(2L * COUNT - 1, run.server().passive(), run::report);
            assertEquals(0, run.server().passiveFail(), run::report);
            // The later control connections read the greeting first; every data connection (the first
            // session's too: the cookie is per server address) waits untouched until the timer.
            assertEquals(COUNT - 1, run.agentLinesWith(READ_FIRST), run::report);
            assertEquals(COUNT, run.agentLinesWith(WINDOW_CLOSED), run::report);
        } finally {
            Processes.stop(server);
        }
    }

    @Test
    void aSelectorWaitingToReadGetsItsSynFromTheWindowTimer() throws Exception {
        lab(WanLab.CLIENT_AND_SERVER);
        try (JavaProgram server = greetingServer()) {
            Run run = client("connect=" + GREETING_PORT + ",verbose=true", SelectorReadFirstClient.class, SERVER,
                    Integer.toString(GREETING_PORT), Integer.toString(COUNT));

            assertEquals(0, run.program().exitCode(), run::report);
            // Without a cookie a non-blocking connect is in progress; with one, the kernel says connected at
            // once, though no SYN has left.
            assertEquals(1, run.linesMatching("connection 1: connect\\(\\) returned false, greeting 'hello' after .*"),
                    run::report);
            assertEquals(COUNT - 1, run.linesMatching("connection \\d+: connect\\(\\) returned true, greeting 'hello'"
                    + " after .*"), run::report);
            assertEquals(1, run.server().cookieReqd(), run::report);
            assertTrue(run.server().passive() >= COUNT - 1, run::report);
            assertEquals(COUNT - 1, run.agentLinesWith(WINDOW_CLOSED), run::report);
            assertEquals(0, run.agentLinesWith(READ_FIRST), run::report);
            server.stop();
            assertEquals(COUNT, server.lines().stream().filter(line -> line.equals("served a connection: got 'bye'"))
                    .count(), server::text);
        }
    }

    @Test
    void virtualThreadsReadingFirstSendTheirSynBeforeTheRead() throws Exception {
        lab(WanLab.CLIENT_AND_SERVER);
        int count = 4; // Socket, SocketChannel, Socket, SocketChannel: both kinds deferred at least once
        try (JavaProgram server = greetingServer()) {
            Run run = client("connect=" + GREETING_PORT + ",verbose=true", VirtualThreadReadFirstClient.class, SERVER,
                    Integer.toString(GREETING_PORT), Integer.toString(count));

            assertEquals(0, run.program().exitCode(), run::report);
            assertEquals(count, run.linesMatching("connection \\d+ \\((Socket|SocketChannel)\\): greeting 'hello'"
                    + " after .*"), run::report);
            assertEquals(1, run.server().cookieReqd(), run::report);
            assertTrue(run.server().passive() >= count - 1, run::report);
            assertEquals(count - 1, run.agentLinesWith(READ_FIRST), run::report);
        }
    }

    /**
     * The first-write window's timer is scheduled as the JDK is about to connect. When it fires before the
     * kernel's connect() has run (here {@code window=0}; with any window, a thread that stalls longer than
     * the window between the two, for a GC pause or an exhausted CPU quota), the connection must still get
     * its SYN: a selector waiting to read would otherwise wait forever. 200 connections, each of which must
     * get its greeting within the program's own 20 s.
     */
    @Test
    void aZeroWindowNeverLeavesADeferredConnectionWithoutItsSyn() throws Exception {
        lab(WanLab.CLIENT_AND_SERVER);
        int count = 200;
        try (JavaProgram server = greetingServer()) {
            Run run = client("connect=" + GREETING_PORT + ",window=0,verbose=true", SelectorReadFirstClient.class,
                    SERVER, Integer.toString(GREETING_PORT), Integer.toString(count));

            assertEquals(0, run.program().exitCode(), run::report);
            assertEquals(count, run.linesMatching("connection \\d+: connect\\(\\) returned (true|false), greeting"
                    + " 'hello' after .*"), run::report);
            assertTrue(run.server().passive() >= count - 1, run::report);
        }
    }

    /** {@link GreetingServerApp} under the agent's {@code listen=PORT} in the server host. */
    private JavaProgram greetingServer() throws IOException {
        List<String> arguments = new ArrayList<>(List.of(JavaProgram.agent("listen=" + GREETING_PORT)));
        arguments.addAll(JavaProgram.main(GreetingServerApp.class));
        arguments.addAll(List.of(SERVER, Integer.toString(GREETING_PORT)));
        return JavaProgram.start(lab.server(), JavaProgram.java25(), arguments,
                line -> line.startsWith("greeting server ready on"));
    }

    /** vsftpd's configuration: anonymous read-only FTP of {@code hello.txt}, passive mode, on the server address. */
    private Path vsftpdConfig() throws IOException {
        Path root = Files.createDirectories(work.resolve("root"));
        Path empty = Files.createDirectories(work.resolve("empty"));
        Files.writeString(root.resolve("hello.txt"), "hello over ftp\n");
        for (Path path : new Path[] {work, root, empty}) {
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        Path config = work.resolve("vsftpd.conf");
        Files.writeString(config, String.join("\n",
                "listen=YES", "listen_ipv6=NO", "listen_address=" + SERVER, "listen_port=" + FTP_PORT,
                "background=NO", "anonymous_enable=YES", "no_anon_password=YES", "anon_root=" + root,
                "local_enable=NO", "write_enable=NO", "pasv_enable=YES", "pasv_address=" + SERVER,
                "pasv_min_port=30000", "pasv_max_port=30100", "secure_chroot_dir=" + empty, "seccomp_sandbox=NO",
                "xferlog_enable=NO", "ftpd_banner=tfo4j test ftp", ""));
        return config;
    }

    /**
     * Waits until a listener on {@code port} shows in the server host's {@code /proc/net/tcp} (10 s at
     * most); no connection is made, so nothing reaches the server before the client does.
     */
    private void awaitListener(int port, Process process) throws Exception {
        String hexPort = String.format(":%04X", port);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            boolean listening = lab.server().call(() -> Files.readAllLines(Path.of("/proc/thread-self/net/tcp"))
                    .stream().map(String::trim).map(line -> line.split("\\s+"))
                    .anyMatch(f -> f.length > 3 && f[1].endsWith(hexPort) && f[3].equals("0A")));
            if (listening) {
                return;
            }
            if (!process.isAlive()) {
                throw new AssertionError("the server exited (code " + process.exitValue() + ") before it listened: "
                        + Files.readString(work.resolve("vsftpd.log")));
            }
            Thread.sleep(50);
        }
        throw new AssertionError("nothing listens on port " + port + " after 10 s");
    }
}
