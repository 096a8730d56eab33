package io.tfo4j.cli;

import io.tfo4j.lab.NetNamespace;
import io.tfo4j.lab.OpensslCertificate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Bad input gets a clear error and a non-zero exit; the selftest passes where namespaces can be made. */
class CommandLineTest {

    private record Result(int exitCode, String err) {
    }

    private static Result execute(String... args) {
        StringWriter err = new StringWriter();
        CommandLine commandLine = Main.commandLine();
        commandLine.setErr(new PrintWriter(err));
        int exitCode = commandLine.execute(args);
        return new Result(exitCode, err.toString());
    }

    @Test
    void badPortIsNamed() {
        Result result = execute("nc", "127.0.0.1", "99999");
        assertEquals(2, result.exitCode());
        assertTrue(result.err().contains("not a port number (0-65535): 99999"), result.err());
    }

    @Test
    void listenTakesOnlyAPort() {
        Result result = execute("nc", "-l", "127.0.0.1", "7000");
        assertEquals(2, result.exitCode());
        assertTrue(result.err().contains("with -l give only the PORT"), result.err());
    }

    @Test
    void serverOptionsNeedListen() {
        Result result = execute("nc", "--fastopen=16", "127.0.0.1", "7000");
        assertEquals(2, result.exitCode());
        assertTrue(result.err().contains("--fastopen, --reply and --count need -l"), result.err());
    }

    @Test
    void serveNamesEachBadOption() {
        Result policy = execute("serve", "--early-data=maybe");
        assertEquals(2, policy.exitCode());
        assertTrue(policy.err().contains("--early-data must be wait, reject or allow, got 'maybe'"), policy.err());
        Result dir = execute("serve", "/nonexistent/tfo4j");
        assertEquals(2, dir.exitCode());
        assertTrue(dir.err().contains("DIR is not a directory: /nonexistent/tfo4j"), dir.err());
        Result port = execute("serve", "--port", "70000");
        assertEquals(2, port.exitCode());
        assertTrue(port.err().contains("port must be 0 to 65535, got 70000"), port.err());
        Result queue = execute("serve", "--fastopen=-1");
        assertEquals(2, queue.exitCode());
        assertTrue(queue.err().contains("queue length must not be negative, got -1"), queue.err());
        Result header = execute("serve", "--header-timeout", "0");
        assertEquals(2, header.exitCode());
        assertTrue(header.err().contains("--header-timeout must be at least 1 second, got 0"), header.err());
        Result connections = execute("serve", "--max-connections", "0");
        assertEquals(2, connections.exitCode());
        assertTrue(connections.err().contains("--max-connections must be at least 1, got 0"), connections.err());
    }

    @Test
    void serveSaysWhenItsPortIsTaken() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Result result = execute("serve", "--port", Integer.toString(taken.getLocalPort()));
            assertEquals(1, result.exitCode());
            assertTrue(result.err().contains("tfo4j serve: cannot listen on /127.0.0.1:" + taken.getLocalPort()
                    + ": Address already in use"), result.err());
        }
    }

    @Test
    void getNoFastOpenTurnsItOff() {
        GetCommand get = new GetCommand();
        new CommandLine(get).parseArgs("--no-fastopen", "http://127.0.0.1/");
        assertFalse(get.fastOpen.on(), "--no-fastopen");
        GetCommand byDefault = new GetCommand();
        new CommandLine(byDefault).parseArgs("http://127.0.0.1/");
        assertTrue(byDefault.fastOpen.on(), "default");
        GetCommand explicit = new GetCommand();
        new CommandLine(explicit).parseArgs("--fastopen", "http://127.0.0.1/");
        assertTrue(explicit.fastOpen.on(), "--fastopen");
    }

    @Test
    void demoNamesBadOptions() {
        Result rtt = execute("demo", "--rtt", "fast");
        assertEquals(2, rtt.exitCode());
        assertTrue(rtt.err().contains("'fast' is not a time: write it like 50ms, 0.15s or 50"), rtt.err());
        Result requests = execute("demo", "--requests", "1");
        assertEquals(2, requests.exitCode());
        assertTrue(requests.err().contains("--requests must be 2 to 100, got 1"), requests.err());
    }

    @Test
    void unknownOptionIsRefused() {
        Result result = execute("probe", "--yaml");
        assertEquals(2, result.exitCode());
        assertTrue(result.err().contains("Unknown option: '--yaml'"), result.err());
    }

    @Test
    void missingReplyFileIsNamed() {
        Result result = execute("nc", "-l", "-b", "127.0.0.1", "0", "--reply", "/nonexistent/reply.txt");
        assertEquals(2, result.exitCode());
        assertTrue(result.err().contains("cannot read --reply file /nonexistent/reply.txt"), result.err());
    }

    @Test
    void getRefusesWhatItCannotReport() {
        Result ftp = execute("get", "ftp://example.invalid/");
        assertEquals(2, ftp.exitCode());
        assertTrue(ftp.err().contains("not an http:// or https:// URL: ftp://example.invalid/"), ftp.err());
        Result count = execute("get", "--count", "0", "http://127.0.0.1:1/");
        assertEquals(2, count.exitCode());
        assertTrue(count.err().contains("--count must be at least 1, got 0"), count.err());
    }

    /**
     * A mistake with key material is a usage error: exit code 2, its one line first (the usage help follows),
     * no stack trace.
     */
    private static void assertUsageError(String expectedFirstLine, Result result) {
        assertEquals(2, result.exitCode(), result.err());
        assertEquals(expectedFirstLine, result.err().lines().findFirst().orElse(""), result.err());
        assertFalse(result.err().contains("\tat ") || result.err().contains("Exception"), "a stack trace: " + result.err());
    }

    @Test
    void serveNamesTheKeyFileAndTheFix(@TempDir Path dir) throws Exception {
        assumeTrue(OpensslCertificate.unavailableReason().isEmpty(),
                () -> "skipped: " + OpensslCertificate.unavailableReason().orElse(""));
        OpensslCertificate mine = OpensslCertificate.make(Files.createDirectory(dir.resolve("mine")), "127.0.0.1");
        OpensslCertificate other = OpensslCertificate.make(Files.createDirectory(dir.resolve("other")), "127.0.0.1");
        OpensslCertificate.run(dir, "genpkey", "-algorithm", "RSA", "-aes256", "-pass", "pass:x", "-out", "encrypted.pem");
        Path cert = mine.certificate();
        Path key = mine.key();
        Path missing = dir.resolve("missing.pem");
        Path encrypted = dir.resolve("encrypted.pem");
        // On a taken port: should a case wrongly be accepted, serve fails to listen (exit 1) instead of serving forever.
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String port = Integer.toString(taken.getLocalPort());
            assertUsageError("cannot use the TLS key material: " + missing + ": no such certificate file",
                    execute("serve", "--port", port, "--cert", missing.toString(), "--key", key.toString()));
            assertUsageError("cannot use the TLS key material: " + missing + ": no such key file",
                    execute("serve", "--port", port, "--cert", cert.toString(), "--key", missing.toString()));
            assertUsageError("cannot use the TLS key material: " + key + " holds no certificate (no BEGIN CERTIFICATE"
                    + " block; found PRIVATE KEY: are --cert and --key swapped?)",
                    execute("serve", "--port", port, "--cert", key.toString(), "--key", cert.toString()));
            assertUsageError("cannot use the TLS key material: the key in " + other.key() + " does not belong to the"
                    + " certificate in " + cert + " (pass the key the certificate was made for)",
                    execute("serve", "--port", port, "--cert", cert.toString(), "--key", other.key().toString()));
            assertUsageError("cannot use the TLS key material: " + encrypted + " holds an encrypted key; tfo4j reads"
                    + " unencrypted keys only (decrypt it: openssl pkey -in " + encrypted + " -out key.pem, and keep"
                    + " that file private)",
                    execute("serve", "--port", port, "--cert", cert.toString(), "--key", encrypted.toString()));
            assertUsageError("--key needs --cert (the certificate the key belongs to)",
                    execute("serve", "--port", port, "--key", key.toString()));
        }
    }

    @Test
    void serveNamesAWrongKeystorePassword(@TempDir Path dir) throws Exception {
        assumeTrue(OpensslCertificate.unavailableReason().isEmpty(),
                () -> "skipped: " + OpensslCertificate.unavailableReason().orElse(""));
        OpensslCertificate.make(dir, "127.0.0.1");
        OpensslCertificate.run(dir, "pkcs12", "-export", "-in", "cert.pem", "-inkey", "key.pem", "-passout", "pass:right",
                "-out", "server.p12");
        Path keystore = dir.resolve("server.p12");
        // The password comes from the environment, so this runs the real command in a JVM of its own.
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            ProcessBuilder builder = new ProcessBuilder(ChildJvm.command("serve", "--port",
                    Integer.toString(taken.getLocalPort()), "--pkcs12", keystore.toString())).redirectErrorStream(true);
            builder.environment().put("TFO4J_KEYSTORE_PASSWORD", "wrong");
            Process process = builder.start();
            try {
                assertTrue(process.waitFor(60, TimeUnit.SECONDS), "tfo4j serve finished");
                String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertUsageError("cannot use the TLS key material: " + keystore + ": keystore password was incorrect"
                        + " (a wrong password, or not a PKCS#12 file; the password comes from TFO4J_KEYSTORE_PASSWORD)",
                        new Result(process.exitValue(), output));
            } finally {
                process.destroyForcibly();
            }
        }
    }

    @Test
    void getNamesItsTlsMistakes(@TempDir Path dir) {
        Path missing = dir.resolve("missing.pem");
        assertUsageError("--cacert: no such file: " + missing,
                execute("get", "--cacert", missing.toString(), "https://127.0.0.1:1/"));
        assertUsageError("give either --insecure or --cacert, not both",
                execute("get", "--insecure", "--cacert", missing.toString(), "https://127.0.0.1:1/"));
    }

    @Test
    void selftestPasses() throws Exception {
        assumeTrue(NetNamespace.unavailableReason().isEmpty(),
                () -> "skipped: the selftest would be INCONCLUSIVE here: " + NetNamespace.unavailableReason().orElse(""));
        Process process = new ProcessBuilder(ChildJvm.command("selftest")).redirectErrorStream(true).start();
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "selftest finished");
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        List<String> lines = output.lines().toList();
        assertEquals("PASSED", lines.getLast(), output);
        assertEquals(0, process.exitValue(), output);
        assertTrue(output.contains("connection 2: client SYN_DATA_ACKED"), output);
    }
}
