package io.tfo4j;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link FastOpenKeyFileWatcher} on real files and a real listener: a key file replaced by rename, a
 * Kubernetes-style {@code ..data} link swap, and a bad new file that keeps the keys in use. The keys are
 * read back from the listener with getsockopt (a per-listener key needs no namespace and no privilege).
 */
class FastOpenKeyFileWatcherTest {
    private static final long WAIT_MILLIS = 10_000;

    @TempDir
    Path dir;
    private final List<String> problems = new CopyOnWriteArrayList<>();

    @Test
    void aFileReplacedByRenameIsAppliedToTheLiveListener() throws Exception {
        FastOpenKeys first = new FastOpenKeys(FastOpenKey.random(), null);
        FastOpenKeys second = new FastOpenKeys(FastOpenKey.random(), first.primary());
        Path file = write(dir.resolve("keys"), first);
        try (ServerSocketChannel listener = listener();
             FastOpenKeyFileWatcher watcher = FastOpenKeyFileWatcher.watch(file,
                     keys -> FastOpen.setServerKeys(listener, keys.primary(), keys.backup()), problems::add)) {
            assertEquals(first, FastOpen.serverKeys(listener).orElseThrow(), "applied at start");
            Path staged = write(dir.resolve(".keys.tmp"), second);
            Files.move(staged, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            await(() -> second.equals(keysOf(listener)), "the renamed file's keys on the listener");
            assertEquals(second, watcher.current());
            assertEquals(List.of(), problems);
        }
    }

    @Test
    void aKubernetesSecretVolumeSwapIsApplied() throws Exception {
        FastOpenKeys first = new FastOpenKeys(FastOpenKey.random(), null);
        FastOpenKeys second = new FastOpenKeys(FastOpenKey.random(), first.primary());
        // What the kubelet makes: ..<timestamp>/keys, ..data -> ..<timestamp>, keys -> ..data/keys.
        Path version1 = Files.createDirectory(dir.resolve("..2026_12_01_14_00_00.1"));
        write(version1.resolve("keys"), first);
        Files.createSymbolicLink(dir.resolve("..data"), version1.getFileName());
        Path file = Files.createSymbolicLink(dir.resolve("keys"), Path.of("..data", "keys"));
        try (ServerSocketChannel listener = listener();
             FastOpenKeyFileWatcher watcher = FastOpenKeyFileWatcher.watch(file,
                     keys -> FastOpen.setServerKeys(listener, keys.primary(), keys.backup()), problems::add)) {
            assertEquals(first, keysOf(listener));
            Path version2 = Files.createDirectory(dir.resolve("..2026_12_01_14_05_00.2"));
            write(version2.resolve("keys"), second);
            Files.createSymbolicLink(dir.resolve("..data_tmp"), version2.getFileName());
            Files.move(dir.resolve("..data_tmp"), dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
            await(() -> second.equals(keysOf(listener)), "the swapped volume's keys on the listener");
            assertEquals(second, watcher.current());
            assertEquals(List.of(), problems);
        }
    }

    @Test
    void aBadNewFileKeepsTheKeysInUseAndSaysWhyOnce() throws Exception {
        FastOpenKeys first = new FastOpenKeys(FastOpenKey.random(), null);
        Path file = write(dir.resolve("keys"), first);
        try (ServerSocketChannel listener = listener();
             FastOpenKeyFileWatcher watcher = FastOpenKeyFileWatcher.watch(file,
                     keys -> FastOpen.setServerKeys(listener, keys.primary(), keys.backup()), problems::add)) {
            Path bad = dir.resolve(".keys.tmp");
            Files.writeString(bad, "not a key\n");
            Files.setPosixFilePermissions(bad, PosixFilePermissions.fromString("rw-------"));
            Files.move(bad, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            await(() -> !problems.isEmpty(), "a problem reported");
            Files.setLastModifiedTime(file, Files.getLastModifiedTime(file)); // another event, same bad file
            TimeUnit.MILLISECONDS.sleep(500);
            assertEquals(1, problems.size(), problems.toString());
            assertTrue(problems.getFirst().contains("keeping " + first) && problems.getFirst().contains(file.toString()),
                    problems.getFirst());
            assertEquals(first, keysOf(listener), "the keys in use stay");
            assertEquals(first, watcher.current());
        }
    }

    @Test
    void aBadFileAtStartIsRefused() throws IOException {
        Path file = dir.resolve("keys");
        Files.writeString(file, FastOpenKey.random().toHex() + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        IOException refused = assertThrows(IOException.class,
                () -> FastOpenKeyFileWatcher.watch(file, keys -> { }, problems::add));
        assertTrue(refused.getMessage().contains("chmod 600"), refused.getMessage());
    }

    private static Path write(Path file, FastOpenKeys keys) throws IOException {
        Files.writeString(file, FastOpenKeyFile.format(keys.primary(), keys.backup()));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    private static ServerSocketChannel listener() throws IOException {
        ServerSocketChannel listener = ServerSocketChannel.open();
        listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        return listener;
    }

    /** The listener's own keys, or null (for {@link #await} conditions). */
    static FastOpenKeys keysOf(ServerSocketChannel listener) {
        try {
            return FastOpen.serverKeys(listener).orElse(null);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Waits up to {@value #WAIT_MILLIS} ms for {@code condition}, failing with {@code what}. */
    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MILLIS);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "not within " + WAIT_MILLIS + " ms: " + what);
            TimeUnit.MILLISECONDS.sleep(20);
        }
    }
}
