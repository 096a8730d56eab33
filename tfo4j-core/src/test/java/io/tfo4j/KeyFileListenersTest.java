package io.tfo4j;

import io.tfo4j.lab.NetNamespace;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

import static io.tfo4j.FastOpenKeyFileWatcherTest.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link FastOpenKeyFileWatcher#addListener}: listeners turned on with {@link FastOpen#enableServer} in a
 * namespace with {@code tcp_fastopen=3} take the key file's keys at once and again when the file is replaced
 * (read back with {@link FastOpen#serverKeys}); a closed listener is forgotten, and a new socket that gets
 * its descriptor number is left alone.
 */
class KeyFileListenersTest {

    @TempDir
    Path dir;
    private final List<String> problems = new CopyOnWriteArrayList<>();

    @Test
    void listenersFollowTheFileUntilTheyAreClosed() throws Exception {
        TwoHosts.assumeNamespaces();
        FastOpenKeys first = new FastOpenKeys(FastOpenKey.random(), null);
        FastOpenKeys second = new FastOpenKeys(FastOpenKey.random(), first.primary());
        FastOpenKeys third = new FastOpenKeys(FastOpenKey.random(), second.primary());
        Path file = write(first);
        try (NetNamespace host = NetNamespace.create(3);
             FastOpenKeyFileWatcher watcher = FastOpenKeyFileWatcher.watch(file, problems::add);
             ServerSocketChannel channel = host.call(ServerSocketChannel::open)) {
            // java.net.ServerSocket makes its socket lazily: bind it in the namespace.
            ServerSocket socket = host.call(() -> {
                ServerSocket made = new ServerSocket();
                made.bind(new InetSocketAddress("127.0.0.1", 0));
                return made;
            });
            assertTrue(FastOpen.enableServer(channel, 16).active(), "Fast Open on in the namespace");
            watcher.addListener(channel);
            channel.bind(new InetSocketAddress("127.0.0.1", 0));
            FastOpen.enableServer(socket, 16);
            watcher.addListener(socket);
            assertEquals(Optional.of(first), FastOpen.serverKeys(channel), "given before bind, kept by bind");
            assertEquals(Optional.of(first), FastOpen.serverKeys(socket), "given to a live listener");
            assertEquals(2, watcher.listenerCount());

            replace(file, second);
            await(() -> second.equals(FastOpenKeyFileWatcherTest.keysOf(channel)) && second.equals(keysOf(socket)),
                    "the new file's keys on both");

            socket.close();
            // Most likely the closed socket's descriptor number: it must not be taken for the closed listener.
            try (ServerSocketChannel newcomer = host.call(ServerSocketChannel::open)) {
                replace(file, third);
                await(() -> third.equals(FastOpenKeyFileWatcherTest.keysOf(channel)),
                        "the third file's keys on the open listener");
                assertEquals(1, watcher.listenerCount(), "the closed listener is forgotten");
                assertEquals(Optional.empty(), FastOpen.serverKeys(newcomer), "a socket never added gets no keys");
            }
            assertEquals(List.of(), problems);
        }
    }

    private Path write(FastOpenKeys keys) throws IOException {
        Path file = dir.resolve(".keys.tmp");
        Files.writeString(file, FastOpenKeyFile.format(keys.primary(), keys.backup()));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return Files.move(file, dir.resolve("keys"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private void replace(Path file, FastOpenKeys keys) throws IOException {
        assertEquals(file, write(keys));
    }


    private static FastOpenKeys keysOf(ServerSocket listener) {
        try {
            return FastOpen.serverKeys(listener).orElse(null);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

}
