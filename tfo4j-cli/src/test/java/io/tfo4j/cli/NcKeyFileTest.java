package io.tfo4j.cli;

import io.tfo4j.ClientOutcome;
import io.tfo4j.FastOpenCounters;
import io.tfo4j.FastOpenDialer;
import io.tfo4j.FastOpenKey;
import io.tfo4j.FastOpenKeyFile;
import io.tfo4j.lab.DelayedHosts;
import io.tfo4j.lab.LabProcess;
import io.tfo4j.lab.NetNamespace;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code tfo4j nc -l --fastopen --key-file FILE} (a real child JVM) follows its key file while it listens, as
 * {@code serve} does: the file is replaced by rename with (new primary, old backup), the rotation's second
 * step, and the client's cookie, made with the old key, is still accepted, through the backup: the kernel
 * counts TCPFastOpenPassiveAltKey, which only a listener holding the new keys can make, and no
 * PassiveFail. Then a bad file keeps those keys and is reported once. Client and {@code nc} on the loopback
 * of one namespace with {@code tcp_fastopen=3}.
 */
class NcKeyFileTest {
    private static final int PORT = 7000;
    private static final InetSocketAddress ADDRESS = new InetSocketAddress("127.0.0.1", PORT);

    @TempDir
    Path dir;

    @Test
    void aKeyFileReplacedWhileNcListensIsAppliedToTheLiveListener() throws Exception {
        assumeTrue(NetNamespace.unavailableReason().isEmpty(),
                () -> "skipped: " + NetNamespace.unavailableReason().orElse(""));
        FastOpenKey old = FastOpenKey.random();
        FastOpenKey fresh = FastOpenKey.random();
        Path file = dir.resolve("live.keys");
        replace(file, FastOpenKeyFile.format(old, null));
        try (NetNamespace host = NetNamespace.create(3);
             LabProcess nc = CliProcess.start(host, new byte[0], "nc", "-l", "-b", "127.0.0.1", "--fastopen=16",
                     "--key-file", file.toString(), Integer.toString(PORT))) {
            try {
                DelayedHosts.awaitListening(host, PORT);
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "; tfo4j nc said: " + nc.stderr(), e);
            }
            assertEquals(ClientOutcome.Result.COOKIE_REQUESTED, send(host), "the first connection fetches the cookie");
            assertEquals(ClientOutcome.Result.SYN_DATA_ACKED, send(host), nc.stderr());

            replace(file, FastOpenKeyFile.format(fresh, old));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            FastOpenCounters delta;
            do {
                assertTrue(System.nanoTime() < deadline, "the new keys were not applied within 10 s: " + nc.stderr());
                TimeUnit.MILLISECONDS.sleep(100);
                FastOpenCounters before = host.call(FastOpenCounters::read);
                assertEquals(ClientOutcome.Result.SYN_DATA_ACKED, send(host), "no cookie is lost on the way");
                delta = host.call(FastOpenCounters::read).minus(before);
                assertEquals(0, delta.passiveFail(), delta.toString());
            } while (delta.passiveAltKey() == 0);
            assertTrue(nc.stderr().contains("Fast Open keys from " + file + " changed: primary sha256:"
                    + fresh.fingerprint() + ", backup sha256:" + old.fingerprint()), nc.stderr());

            // A bad new file: the keys in use stay (the client's fresh-key cookie is accepted as a primary
            // one), and it is said once, naming the file.
            replace(file, "not a key\n");
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!nc.stderr().contains("cannot be used")) {
                assertTrue(System.nanoTime() < deadline, "the bad file was not reported within 10 s: " + nc.stderr());
                TimeUnit.MILLISECONDS.sleep(50);
            }
            Files.setLastModifiedTime(file, Files.getLastModifiedTime(file)); // another event, the same bad file
            FastOpenCounters before = host.call(FastOpenCounters::read);
            assertEquals(ClientOutcome.Result.SYN_DATA_ACKED, send(host), nc.stderr());
            FastOpenCounters kept = host.call(FastOpenCounters::read).minus(before);
            assertEquals(0, kept.passiveFail(), kept.toString());
            assertEquals(0, kept.passiveAltKey(), "the fresh primary key is still in use: " + kept);
            TimeUnit.MILLISECONDS.sleep(300);
            String stderr = nc.stderr();
            assertEquals(1, stderr.lines().filter(line -> line.contains("cannot be used")).count(), stderr);
            assertTrue(stderr.lines().anyMatch(line -> line.contains("cannot be used") && line.contains(file.toString())),
                    stderr);
        }
    }

    /** Writes a mode-600 file next to {@code file} and renames it over it, as a fleet's tooling does. */
    private void replace(Path file, String text) throws IOException {
        Path staged = dir.resolve(".staged");
        Files.deleteIfExists(staged);
        Files.createFile(staged, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(staged, text);
        Files.move(staged, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** One connection whose data may ride in the SYN; nc copies it out and closes after the client does. */
    private static ClientOutcome.Result send(NetNamespace host) throws IOException {
        return host.call(() -> {
            try (SocketChannel channel = FastOpenDialer.create().dial(ADDRESS,
                    "hello over nc\n".getBytes(StandardCharsets.US_ASCII))) {
                channel.shutdownOutput();
                ByteBuffer buffer = ByteBuffer.allocate(1024);
                while (channel.read(buffer.clear()) >= 0) {
                    // to the end
                }
                return ClientOutcome.of(channel).result();
            }
        });
    }
}
