package io.tfo4j;

import java.io.FileDescriptor;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Watches a {@link FastOpenKeyFile} and hands its keys on whenever the file changes, so that live listeners
 * take a rotated key without a restart:
 *
 * <pre>{@code
 * FastOpenKeyFileWatcher watcher = FastOpenKeyFileWatcher.watch(Path.of("/etc/tfo4j/keys"),
 *         keys -> FastOpen.setServerKeys(listener, keys.primary(), keys.backup()), System.err::println);
 * }</pre>
 *
 * <p>It watches the directory that holds the file as named (not the file a symbolic link leads to), so it
 * sees both ways in which files are replaced atomically: a new file renamed over the old one (what Vault
 * agents and configuration management do), and the swap of the {@code ..data} link that Kubernetes makes in
 * a Secret volume (mount the volume, never with {@code subPath}, which is never updated). After any change in
 * that directory it reads the file again and, when the keys differ from the ones in use, calls
 * {@code onChange}. A file that cannot be read or is malformed keeps the keys in use, and {@code onProblem}
 * gets one line saying why (only once per bad version of the file).
 *
 * <p><b>Listeners turned on with {@link FastOpen#enableServer}.</b> A watcher also keeps the keys of every
 * listener given to {@link #addListener(ServerSocketChannel)} (or its {@link ServerSocket} and
 * {@link FileDescriptor} overloads) in step with the file, until that listener is closed:
 *
 * <pre>{@code
 * FastOpenKeyFileWatcher keys = FastOpenKeyFileWatcher.watch(Path.of("/etc/tfo4j/keys"), System.err::println);
 * FastOpen.enableServer(listener, 256);
 * keys.addListener(listener);   // the file's keys now, and after every change
 * }</pre>
 *
 * Why on the watcher and not as a key-file overload of {@code enableServer}: one file usually serves several
 * listeners (ports, IPv4 and IPv6), and one watcher (one thread, one inotify watch) serves them all, with a
 * handle the program closes when it stops; an overload would start a watcher per listener with nothing to
 * close it. Closed listeners are forgotten at the next change or {@code addListener}: the watcher keeps a
 * listener's descriptor number and the socket it named ({@code /proc/self/fd}), and drops the entry once the
 * number names another socket or nothing.
 *
 * <p>One daemon thread per watcher; {@link #close()} stops it. Linux's inotify through the JDK's
 * {@link WatchService}; the JDK adds no delay on Linux. Keys on listeners need Linux 4.15+ (a backup key
 * 5.2+), see {@link FastOpen#setServerKeys(ServerSocketChannel, FastOpenKey, FastOpenKey)}.
 */
public final class FastOpenKeyFileWatcher implements AutoCloseable {
    /** Changes come in bursts (a rename, then a link swap); reading once they settle reads the final file. */
    private static final long SETTLE_MILLIS = 50;

    private final Path file;
    private final KeysChange onChange;
    private final Consumer<String> onProblem;
    private final WatchService watchService;
    private final Thread thread;
    private volatile FastOpenKeys current;
    private String lastProblem;
    /** Guarded by this: listeners whose keys follow the file. */
    private final List<Listener> listeners = new ArrayList<>();

    private FastOpenKeyFileWatcher(Path file, FastOpenKeys initial, KeysChange onChange,
                                   Consumer<String> onProblem, WatchService watchService) {
        this.file = file;
        this.current = initial;
        this.onChange = onChange;
        this.onProblem = onProblem;
        this.watchService = watchService;
        this.thread = Thread.ofPlatform().daemon().name("tfo4j-key-file-watcher").unstarted(this::run);
    }

    /**
     * Reads {@code file}, gives its keys to {@code onChange} at once, and from then on whenever they change.
     * {@code onChange} runs on the watcher's thread; when it throws, the keys count as not applied and the
     * problem goes to {@code onProblem}.
     *
     * @throws IOException when the file cannot be read or is malformed now (see {@link FastOpenKeyFile#read}),
     *                     or when {@code onChange} fails for the first keys
     */
    public static FastOpenKeyFileWatcher watch(Path file, KeysChange onChange, Consumer<String> onProblem)
            throws IOException {
        Objects.requireNonNull(onChange, "onChange");
        Objects.requireNonNull(onProblem, "onProblem");
        Path absolute = file.toAbsolutePath();
        FastOpenKeys initial = FastOpenKeyFile.read(absolute);
        onChange.apply(initial);
        WatchService watchService = FileSystems.getDefault().newWatchService();
        try {
            absolute.getParent().register(watchService, StandardWatchEventKinds.ENTRY_CREATE,
                    StandardWatchEventKinds.ENTRY_MODIFY, StandardWatchEventKinds.ENTRY_DELETE);
        } catch (IOException | RuntimeException e) {
            watchService.close();
            throw new IOException("cannot watch " + absolute.getParent() + " for changes of " + absolute + ": " + e, e);
        }
        FastOpenKeyFileWatcher watcher = new FastOpenKeyFileWatcher(absolute, initial, onChange, onProblem, watchService);
        watcher.thread.start();
        return watcher;
    }

    /**
     * Reads {@code file} and follows it, for listeners given to {@link #addListener(ServerSocketChannel)};
     * see {@link #watch(Path, KeysChange, Consumer)}.
     *
     * @throws IOException when the file cannot be read or is malformed now (see {@link FastOpenKeyFile#read})
     */
    public static FastOpenKeyFileWatcher watch(Path file, Consumer<String> onProblem) throws IOException {
        return watch(file, keys -> { }, onProblem);
    }

    /**
     * Gives {@code listener} the file's keys now and after every change, until it is closed (then it is
     * forgotten). Before or after {@code bind}.
     *
     * @throws IOException when the kernel refuses the keys (see
     *                     {@link FastOpen#setServerKeys(ServerSocketChannel, FastOpenKey, FastOpenKey)}); the
     *                     listener is then not followed
     */
    public void addListener(ServerSocketChannel listener) throws IOException {
        addListener(FileDescriptors.of(listener));
    }

    /** Like {@link #addListener(ServerSocketChannel)}, for a {@link ServerSocket}. */
    public void addListener(ServerSocket listener) throws IOException {
        addListener(FileDescriptors.of(listener));
    }

    /**
     * Like {@link #addListener(ServerSocketChannel)}, for the listener behind a raw descriptor (see
     * {@link FastOpen} on raw descriptors); it must be open now.
     */
    public void addListener(FileDescriptor listener) throws IOException {
        addListener(FileDescriptors.of(listener));
    }

    private synchronized void addListener(int fd) throws IOException {
        forgetClosedListeners();
        String socket = socketOf(fd);
        if (socket == null) {
            throw new IOException("descriptor " + fd + " is not open");
        }
        FastOpen.setServerKeys(fd, current);
        listeners.add(new Listener(fd, socket));
    }

    /** How many listeners are followed now (closed ones not yet forgotten included). */
    synchronized int listenerCount() {
        return listeners.size();
    }

    /** A listener's descriptor number, and the socket it named when added ({@code socket:[INODE]}). */
    private record Listener(int fd, String socket) {
        boolean open() {
            return socket.equals(socketOf(fd));
        }
    }

    /** What {@code /proc/self/fd/FD} leads to (a socket's is {@code socket:[INODE]}), or null when not open. */
    private static String socketOf(int fd) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/fd", Integer.toString(fd))).toString();
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }

    private void forgetClosedListeners() {
        listeners.removeIf(listener -> !listener.open());
    }

    /** Applies keys to the listeners still open; a failure on one is reported and the others still get them. */
    private synchronized void applyToListeners(FastOpenKeys keys) {
        forgetClosedListeners();
        for (Iterator<Listener> it = listeners.iterator(); it.hasNext(); ) {
            Listener listener = it.next();
            try {
                // The number was checked just above; a listener closed in between makes this fail (EBADF,
                // ENOTSOCK) or, were the number reused by then, sets keys on a socket nobody asked for.
                FastOpen.setServerKeys(listener.fd(), keys);
            } catch (IOException | RuntimeException e) {
                if (!listener.open()) {
                    it.remove();
                } else {
                    problem("tfo4j: applying the keys of " + file + " to listener " + listener.socket()
                            + " failed, it keeps its keys: " + e.getMessage());
                }
            }
        }
    }

    /** What to do with the keys of the file: typically {@link FastOpen#setServerKeys} on each listener. */
    @FunctionalInterface
    public interface KeysChange {
        void apply(FastOpenKeys keys) throws IOException;
    }

    /** The keys last handed to {@code onChange}. */
    public FastOpenKeys current() {
        return current;
    }

    private void run() {
        try {
            while (true) {
                WatchKey key = watchService.take();
                // Let the rest of a burst arrive, then take it all with this one read.
                TimeUnit.MILLISECONDS.sleep(SETTLE_MILLIS);
                key.pollEvents();
                for (WatchKey more = watchService.poll(); more != null; more = watchService.poll()) {
                    more.pollEvents();
                    more.reset();
                }
                reload();
                if (!key.reset()) {
                    onProblem.accept("tfo4j: " + file.getParent() + " is gone; no longer watching " + file
                            + " (keeping " + current + ")");
                    return;
                }
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // closed
        }
    }

    private void reload() {
        FastOpenKeys keys;
        try {
            keys = FastOpenKeyFile.read(file);
        } catch (IOException | RuntimeException e) {
            problem("tfo4j: the changed key file cannot be used, keeping " + current + ": " + e.getMessage());
            return;
        }
        if (keys.equals(current)) {
            lastProblem = null;
            return;
        }
        try {
            onChange.apply(keys);
            lastProblem = null;
            synchronized (this) {
                current = keys;
                applyToListeners(keys);
            }
        } catch (IOException | RuntimeException e) {
            problem("tfo4j: applying the keys of " + file + " failed, keeping " + current + ": " + e.getMessage());
        }
    }

    private void problem(String line) {
        if (!line.equals(lastProblem)) {
            lastProblem = line;
            onProblem.accept(line);
        }
    }

    /** Stops watching; the keys in use stay where they were applied. */
    @Override
    public void close() throws IOException {
        watchService.close();
        thread.interrupt();
        try {
            thread.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
