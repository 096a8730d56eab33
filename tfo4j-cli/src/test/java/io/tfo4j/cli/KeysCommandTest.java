package io.tfo4j.cli;

import io.tfo4j.FastOpenKey;
import io.tfo4j.FastOpenKeyFile;
import io.tfo4j.FastOpenKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code tfo4j keys new} and {@code keys rotate} in process (their output, the file each step leaves, its
 * mode), and {@code serve} / {@code nc -l} refusing a bad {@code --key-file} with one line and exit code 2.
 */
class KeysCommandTest {
    private static final Pattern HEX_KEY = Pattern.compile("(?m)^[0-9a-f]{32}$");

    private record Result(int exitCode, String out, String err) {
    }

    private static Result execute(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine commandLine = Main.commandLine();
        commandLine.setOut(new PrintWriter(out));
        commandLine.setErr(new PrintWriter(err));
        int exitCode = commandLine.execute(args);
        return new Result(exitCode, out.toString(), err.toString());
    }

    private static Path writeSecret(Path file, String text) throws Exception {
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        return Files.writeString(file, text);
    }

    private static String mode(Path file) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
    }

    @Test
    void keysNewPrintsAFreshKeyFileThatReadsBack(@TempDir Path dir) throws Exception {
        Result first = execute("keys", "new");
        Result second = execute("keys", "new");
        assertEquals(0, first.exitCode(), first.err());
        assertEquals("", first.err());
        Path file = writeSecret(dir.resolve("fastopen.keys"), first.out());
        FastOpenKeys keys = FastOpenKeyFile.read(file);
        assertNull(keys.backup(), "a new file holds one key");
        assertTrue(first.out().contains(keys.primary().toHex()));
        assertTrue(first.out().contains(keys.primary().fingerprint()), "the header names the fingerprint");
        assertNotEquals(keys.primary(), FastOpenKeyFile.read(writeSecret(dir.resolve("other.keys"), second.out())).primary(),
                "each call makes a new key");
        Result help = execute("keys", "new", "--help");
        assertTrue(help.out().contains("umask 077") && help.out().contains("chmod 600"), help.out());
    }

    @Test
    void rotateGoesThroughStageThenPromoteThenDropOneStepPerCall(@TempDir Path dir) throws Exception {
        FastOpenKey old = FastOpenKey.random();
        Path file = writeSecret(dir.resolve("fastopen.keys"), FastOpenKeyFile.format(old, null));

        Result stage = execute("keys", "rotate", file.toString());
        assertEquals(0, stage.exitCode(), stage.err());
        FastOpenKeys staged = FastOpenKeyFile.read(file);
        assertEquals(old, staged.primary(), "stage keeps the old key primary");
        FastOpenKey fresh = staged.backup();
        assertTrue(fresh != null && !fresh.equals(old), "and adds a new backup: " + staged);
        assertTrue(Files.readString(file).contains("\n# step: staged\n"), Files.readString(file));
        assertEquals("tfo4j keys rotate: " + file + ": staged a new key " + fresh.fingerprint() + " as backup behind"
                + " primary " + old.fingerprint() + " (step 1 of 3): apply this file to every server, then run rotate"
                + " again\n", stage.out());
        assertEquals("rw-------", mode(file));

        Result promote = execute("keys", "rotate", file.toString());
        assertEquals(0, promote.exitCode(), promote.err());
        assertEquals(new FastOpenKeys(fresh, old), FastOpenKeyFile.read(file), "promote swaps: new primary, old backup");
        assertTrue(Files.readString(file).contains("\n# step: promoted\n"), Files.readString(file));
        assertTrue(promote.out().contains(": promoted the new key " + fresh.fingerprint() + " to primary, the old key "
                + old.fingerprint() + " stays as backup (step 2 of 3)"), promote.out());
        assertEquals("rw-------", mode(file));

        Result drop = execute("keys", "rotate", file.toString());
        assertEquals(0, drop.exitCode(), drop.err());
        assertEquals(new FastOpenKeys(fresh, null), FastOpenKeyFile.read(file), "drop leaves the new key alone");
        assertFalse(Files.readString(file).contains("# step:"), Files.readString(file));
        assertTrue(drop.out().contains(": dropped the old key " + old.fingerprint() + ", " + fresh.fingerprint()
                + " is the only key (step 3 of 3)"), drop.out());
        assertEquals("rw-------", mode(file));

        Matcher keys = HEX_KEY.matcher(Files.readString(file));
        assertEquals(1, keys.results().count(), "one key line left");
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(List.of(file), left.toList(), "no temporary file left behind");
        }

        Result next = execute("keys", "rotate", file.toString());
        assertTrue(next.out().contains("(step 1 of 3)"), "the next rotate starts a new rotation: " + next.out());
    }

    @Test
    void rotateRefusesATwoKeyFileWithoutAStepAndAFileOthersCanRead(@TempDir Path dir) throws Exception {
        Path file = writeSecret(dir.resolve("two.keys"), FastOpenKeyFile.format(FastOpenKey.random(), FastOpenKey.random()));
        String before = Files.readString(file);
        Result unknown = execute("keys", "rotate", file.toString());
        assertEquals(1, unknown.exitCode());
        assertTrue(unknown.err().startsWith("tfo4j keys rotate: " + file + " holds two keys but no '# step: staged' or"
                + " '# step: promoted' line"), unknown.err());
        assertEquals(before, Files.readString(file), "left as it was");

        Path open = writeSecret(dir.resolve("open.keys"), FastOpenKeyFile.format(FastOpenKey.random(), null));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rw-r--r--"));
        Result refused = execute("keys", "rotate", open.toString());
        assertEquals(1, refused.exitCode());
        assertTrue(refused.err().contains("readable by") && refused.err().contains("chmod 600"), refused.err());
    }

    /** A bad key file is a usage error: exit code 2, its one line first, no stack trace. */
    private static void assertUsageError(String expectedFirstLine, Result result) {
        assertEquals(2, result.exitCode(), result.err());
        assertEquals(expectedFirstLine, result.err().lines().findFirst().orElse(""), result.err());
        assertFalse(result.err().contains("\tat ") || result.err().contains("Exception"), "a stack trace: " + result.err());
    }

    @Test
    void serveAndNcListenRefuseABadKeyFileWithOneLine(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("missing.keys");
        Path open = writeSecret(dir.resolve("open.keys"), FastOpenKeyFile.format(FastOpenKey.random(), null));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rw-r-----"));
        Path badHex = writeSecret(dir.resolve("bad.keys"), "# a comment\n00112233445566778899aabbccddeexx\n");
        Path three = writeSecret(dir.resolve("three.keys"), FastOpenKey.random().toHex() + "\n"
                + FastOpenKey.random().toHex() + "\n" + FastOpenKey.random().toHex() + "\n");
        Path empty = writeSecret(dir.resolve("empty.keys"), "# nothing\n");
        // On a taken port: should a case wrongly be accepted, serve fails to listen (exit 1) instead of serving forever.
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            String port = Integer.toString(taken.getLocalPort());
            for (String[] prefix : List.of(
                    new String[] {"serve", dir.toString(), "--port", port, "--fastopen"},
                    new String[] {"nc", "-l", "-b", "127.0.0.1", "--fastopen=16", port})) {
                assertUsageError("cannot use the Fast Open key file: " + missing + ": no such file",
                        execute(with(prefix, "--key-file", missing.toString())));
                assertUsageError("cannot use the Fast Open key file: " + open + ": the Fast Open key file is readable by"
                                + " its group (mode 0640), and anyone holding the key can forge cookies; refused. Fix: chmod 600 "
                                + open + " (in Kubernetes: defaultMode: 0400 on the Secret volume)",
                        execute(with(prefix, "--key-file", open.toString())));
                Result hex = execute(with(prefix, "--key-file", badHex.toString()));
                assertEquals(2, hex.exitCode(), hex.err());
                assertTrue(hex.err().lines().findFirst().orElse("").startsWith("cannot use the Fast Open key file: "
                        + badHex + ":2: not a key: "), hex.err());
                Result third = execute(with(prefix, "--key-file", three.toString()));
                assertTrue(third.err().startsWith("cannot use the Fast Open key file: " + three + ":3: a third key"), third.err());
                assertEquals(2, third.exitCode());
                Result none = execute(with(prefix, "--key-file", empty.toString()));
                assertTrue(none.err().startsWith("cannot use the Fast Open key file: " + empty + ": no key in the file"), none.err());
                assertEquals(2, none.exitCode());
            }
        }
    }

    @Test
    void noCookieNeedsFastOpenAndKeyFileNeedsListen() {
        Result serve = execute("serve", "--no-cookie");
        assertEquals(2, serve.exitCode());
        assertTrue(serve.err().startsWith("--no-cookie needs --fastopen"), serve.err());
        Result nc = execute("nc", "-l", "--no-cookie", "7000");
        assertEquals(2, nc.exitCode());
        assertTrue(nc.err().startsWith("-l --no-cookie needs --fastopen"), nc.err());
        Result client = execute("nc", "--key-file", "x", "127.0.0.1", "7000");
        assertEquals(2, client.exitCode());
        assertTrue(client.err().startsWith("--key-file needs -l"), client.err());
        Result get = execute("get", "--no-cookie", "--no-fastopen", "http://127.0.0.1:1/");
        assertEquals(2, get.exitCode());
        assertTrue(get.err().startsWith("--no-cookie and --no-fastopen contradict each other"), get.err());
    }

    private static String[] with(String[] prefix, String... more) {
        return Stream.concat(Stream.of(prefix), Stream.of(more)).toArray(String[]::new);
    }
}
