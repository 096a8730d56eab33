package io.tfo4j;

import org.apache.commons.net.ftp.FTP;
import org.apache.commons.net.ftp.FTPClient;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A real protocol where the server speaks first: Apache Commons Net's FTPClient with tfo4j's socket
 * factory, against vsftpd (Debian's package) in the server namespace. vsftpd never sets TCP_FASTOPEN, so
 * the server host uses sysctl bit 0x400, which gives every listener a Fast Open queue. Once the client holds
 * a cookie, every connect to that server (control and passive data connections) is deferred, and every one
 * of them starts with a read: the greeting, then the file. None may hang.
 */
class FtpServerSpeaksFirstTest {

    /** Exposes the control connection's socket, to read its outcome. */
    private static final class ObservedFtpClient extends FTPClient {
        Socket controlSocket() {
            return _socket_;
        }
    }

    private record Session(String greeting, String file, ClientOutcome control) {
    }

    @Test
    void ftpSessionsThroughTheSocketFactoryNeverHang() throws Exception {
        TwoHosts.assumeNamespaces();
        Path vsftpd = Path.of("/usr/sbin/vsftpd");
        assumeTrue(Files.isExecutable(vsftpd), "skipped: vsftpd is not installed (apt-get install vsftpd)");
        Path work = Files.createTempDirectory("tfo4j-ftp");
        try (TwoHosts hosts = TwoHosts.create(1, 0x403)) {
            Path root = Files.createDirectories(work.resolve("root"));
            Path empty = Files.createDirectories(work.resolve("empty"));
            Files.writeString(root.resolve("hello.txt"), "hello over ftp\n");
            for (Path path : new Path[] {work, root, empty}) {
                Files.setPosixFilePermissions(path, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            }
            Path config = work.resolve("vsftpd.conf");
            Files.writeString(config, String.join("\n",
                    "listen=YES", "listen_ipv6=NO", "listen_address=" + TwoHosts.SERVER_ADDRESS, "listen_port=2121",
                    "background=NO", "anonymous_enable=YES", "no_anon_password=YES", "anon_root=" + root,
                    "local_enable=NO", "write_enable=NO", "pasv_enable=YES",
                    "pasv_address=" + TwoHosts.SERVER_ADDRESS, "pasv_min_port=30000", "pasv_max_port=30100",
                    "secure_chroot_dir=" + empty, "seccomp_sandbox=NO", "xferlog_enable=NO",
                    "ftpd_banner=tfo4j test ftp", ""));
            Process server = hosts.server.command(vsftpd.toString(), config.toString())
                    .redirectErrorStream(true).redirectOutput(work.resolve("vsftpd.log").toFile()).start();
            try {
                awaitFtp(hosts);
                FastOpenCounters before = hosts.server.call(FastOpenCounters::read);
                Session first = hosts.client.call(FtpServerSpeaksFirstTest::session);
                Session second = hosts.client.call(FtpServerSpeaksFirstTest::session);
                FastOpenCounters delta = hosts.server.call(FastOpenCounters::read).minus(before);

                for (Session session : new Session[] {first, second}) {
                    assertEquals("220 tfo4j test ftp", session.greeting().trim());
                    assertEquals("hello over ftp\n", session.file());
                }
                assertEquals(ClientOutcome.Result.COOKIE_REQUESTED, first.control().result(),
                        "first control connection: " + first.control().reason());
                assertEquals(ClientOutcome.Result.NOT_ATTEMPTED, second.control().result(),
                        "second control connection: " + second.control().reason());
                assertTrue(second.control().reason().contains("SYN carried no data"), second.control().reason());
                // Every connection after the first carried the cookie: the first session's data connection,
                // the second session's control and data connections.
                assertEquals(3, delta.passive(), "server TCPFastOpenPassive: " + delta);
                assertEquals(0, delta.passiveFail(), "server TCPFastOpenPassiveFail: " + delta);
            } finally {
                server.destroy();
                if (!server.waitFor(5, TimeUnit.SECONDS)) {
                    server.destroyForcibly();
                }
            }
        } finally {
            try (var paths = Files.walk(work)) {
                for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(path);
                }
            }
        }
    }

    /** Runs in the client namespace: connect, log in, fetch hello.txt in passive mode, quit. */
    private static Session session() throws IOException {
        ObservedFtpClient ftp = new ObservedFtpClient();
        ftp.setSocketFactory(new FastOpenSocketFactory());
        ftp.setConnectTimeout(10_000);
        ftp.setDefaultTimeout(10_000);
        ftp.setDataTimeout(java.time.Duration.ofSeconds(10));
        try {
            ftp.connect(TwoHosts.SERVER_ADDRESS, 2121);
            String greeting = ftp.getReplyString();
            ClientOutcome control = ClientOutcome.of(ftp.controlSocket());
            assertTrue(ftp.login("anonymous", "tfo4j@example.org"), ftp.getReplyString());
            ftp.enterLocalPassiveMode();
            ftp.setFileType(FTP.BINARY_FILE_TYPE);
            ByteArrayOutputStream file = new ByteArrayOutputStream();
            assertTrue(ftp.retrieveFile("hello.txt", file), ftp.getReplyString());
            ftp.logout();
            return new Session(greeting, file.toString(StandardCharsets.US_ASCII), control);
        } finally {
            if (ftp.isConnected()) {
                ftp.disconnect();
            }
        }
    }

    /** Waits until vsftpd listens, by reading the server namespace's /proc/net/tcp (no connection made). */
    private static void awaitFtp(TwoHosts hosts) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            boolean listening = hosts.server.call(() -> Files.readAllLines(Path.of("/proc/thread-self/net/tcp"))
                    .stream().map(String::trim).map(line -> line.split("\\s+"))
                    .anyMatch(f -> f.length > 3 && f[1].endsWith(":0849") && f[3].equals("0A")));
            if (listening) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("vsftpd does not listen on port 2121 after 10 s");
    }
}
