package io.tfo4j.lab;

import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A private Linux network namespace: its own loopback, routes, sockets, TCP metrics (so its own Fast Open
 * cookie cache), {@code /proc/net/netstat} counters and {@code net.ipv4.*} sysctls. Tests use it to give
 * the client and the server each a "host" with chosen {@code net.ipv4.tcp_fastopen} bits, without touching
 * the machine's own settings.
 *
 * <h2>Mechanism</h2>
 * <ul>
 *   <li>{@link #create} runs {@code ip netns add tfo4j-PID-N} (iproute2), which makes a namespace and
 *       bind-mounts it at {@code /run/netns/tfo4j-PID-N}, then brings its loopback up and sets the sysctls.</li>
 *   <li>Java code runs inside it on dedicated platform threads: each thread of {@link #executor()} opens
 *       {@code /run/netns/NAME} and calls {@code setns(fd, CLONE_NEWNET)} through the Foreign Function &amp;
 *       Memory API before running any task. Network namespaces are per thread in Linux, so every socket such
 *       a thread opens, and every {@code /proc/thread-self/net} or {@code /proc/sys/net} file it reads,
 *       belongs to the namespace, while the rest of the JVM stays where it was. Virtual threads must not be
 *       used there: they migrate between carrier threads.</li>
 *   <li>External programs (nginx, curl, python) run inside it with {@code ip netns exec NAME ...}
 *       ({@link #command}).</li>
 *   <li>{@link #close} stops the threads and the programs still running inside (SIGTERM, then SIGKILL)
 *       and runs {@code ip netns del}. A JVM shutdown hook deletes
 *       namespaces still open at exit, and {@link #create} first deletes {@code tfo4j-PID-*} namespaces
 *       left behind by processes that no longer exist (a killed test run).</li>
 * </ul>
 * Needs Linux, iproute2 and root (CAP_SYS_ADMIN and CAP_NET_ADMIN). {@link #unavailableReason()} says why
 * namespaces cannot be made here, so tests can skip with that reason.
 */
public final class NetNamespace implements AutoCloseable {
    private static final String PREFIX = "tfo4j-";
    private static final AtomicInteger SEQUENCE = new AtomicInteger();
    private static final Set<NetNamespace> OPEN = ConcurrentHashMap.newKeySet();
    private static volatile Optional<String> unavailable;

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (NetNamespace namespace : List.copyOf(OPEN)) {
                namespace.close();
            }
        }, "tfo4j-netns-cleanup"));
    }

    private final String name;
    private final ExecutorService executor;
    private volatile boolean closed;

    private NetNamespace(String name) {
        this.name = name;
        AtomicInteger threads = new AtomicInteger();
        ThreadFactory factory = task -> {
            Thread thread = new Thread(() -> {
                try {
                    Libc.enterNetworkNamespace(Path.of("/run/netns", name));
                } catch (IOException e) {
                    throw new IllegalStateException("cannot enter network namespace " + name + ": " + e.getMessage(), e);
                }
                task.run();
            }, name + "-" + threads.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
        this.executor = Executors.newCachedThreadPool(factory);
    }

    /**
     * Why namespaces cannot be made here, or empty when they can. Tried once per JVM by making and
     * deleting a namespace.
     */
    public static Optional<String> unavailableReason() {
        Optional<String> reason = unavailable;
        if (reason == null) {
            reason = probe();
            unavailable = reason;
        }
        return reason;
    }

    private static Optional<String> probe() {
        if (!"Linux".equals(System.getProperty("os.name"))) {
            return Optional.of("network namespaces exist only on Linux; this is " + System.getProperty("os.name"));
        }
        String problem = Libc.linkProblem();
        if (problem != null) {
            return Optional.of(problem);
        }
        String probeName = PREFIX + ProcessHandle.current().pid() + "-probe";
        try {
            run(List.of("ip", "netns", "add", probeName));
            run(List.of("ip", "netns", "del", probeName));
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of("cannot make a network namespace (needs root, i.e. CAP_SYS_ADMIN and"
                    + " CAP_NET_ADMIN, and iproute2's ip command): " + e.getMessage() + ". Run as root (sudo), or as"
                    + " a user where the kernel allows unprivileged user namespaces: unshare --user"
                    + " --map-root-user --net --mount sh -c 'ip link set lo up && mount -t tmpfs tmpfs /run/netns"
                    + " && exec COMMAND'");
        }
    }

    /**
     * Makes a namespace with loopback up and {@code net.ipv4.tcp_fastopen} set to {@code tcpFastopen}.
     *
     * @throws IOException when it cannot be made; {@link #unavailableReason()} tells why in advance
     */
    public static NetNamespace create(int tcpFastopen) throws IOException {
        removeStale();
        String name = PREFIX + ProcessHandle.current().pid() + "-" + SEQUENCE.incrementAndGet();
        run(List.of("ip", "netns", "add", name));
        NetNamespace namespace = new NetNamespace(name);
        OPEN.add(namespace);
        try {
            namespace.ip("link", "set", "lo", "up");
            namespace.setSysctl("net/ipv4/tcp_fastopen", Integer.toString(tcpFastopen));
            return namespace;
        } catch (IOException | RuntimeException e) {
            namespace.close();
            throw e;
        }
    }

    /**
     * Joins two namespaces with a veth pair (MTU 1500, like Ethernet). Each end is called {@code veth0}
     * and gets its address as a /24, for example {@code 198.18.0.1} and {@code 198.18.0.2} (198.18.0.0/15
     * is reserved for benchmarking, RFC 2544).
     */
    public static void link(NetNamespace a, String addressA, NetNamespace b, String addressB) throws IOException {
        a.ip("link", "add", "veth0", "type", "veth", "peer", "name", "veth0", "netns", b.name);
        a.ip("addr", "add", addressA + "/24", "dev", "veth0");
        b.ip("addr", "add", addressB + "/24", "dev", "veth0");
        a.ip("link", "set", "veth0", "up");
        b.ip("link", "set", "veth0", "up");
    }

    /** The namespace's name under {@code /run/netns}. */
    public String name() {
        return name;
    }

    /** Runs {@code ip -n NAME args...} and waits for it. */
    public void ip(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("ip", "-n", name));
        command.addAll(List.of(args));
        run(command);
    }

    /** Writes a sysctl of this namespace, for example {@code ("net/ipv4/tcp_fastopen", "3")}. */
    public void setSysctl(String path, String value) throws IOException {
        call(() -> {
            // One write(2) at offset 0: /proc/sys ignores a value split over several writes.
            try (FileOutputStream out = new FileOutputStream(Path.of("/proc/sys", path).toFile())) {
                out.write((value + "\n").getBytes(StandardCharsets.US_ASCII));
            }
            String readBack = readProcFile(Path.of("/proc/sys", path));
            if (!readBack.equals(value)) {
                throw new IOException("sysctl " + path + " reads " + readBack + " after writing " + value);
            }
            return null;
        });
    }

    /** Reads a sysctl of this namespace. */
    public String sysctl(String path) throws IOException {
        return call(() -> readProcFile(Path.of("/proc/sys", path)));
    }

    /**
     * Reads a /proc/sys file in one read: Files.readString first reads a single byte when the size is 0,
     * and /proc/sys answers the read at offset 1 with end of file.
     */
    private static String readProcFile(Path file) throws IOException {
        try (FileInputStream in = new FileInputStream(file.toFile())) {
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim();
        }
    }

    /**
     * Moves the calling platform thread into this namespace until {@link Visit#close()} moves it back. For
     * code that must run on a thread it does not own, such as a JMH benchmark thread; elsewhere prefer
     * {@link #call} and {@link #executor()}.
     *
     * @throws IllegalStateException on a virtual thread, which migrates between carrier threads
     */
    public Visit enterOnThisThread() throws IOException {
        if (Thread.currentThread().isVirtual()) {
            throw new IllegalStateException("a virtual thread cannot stay in a network namespace: it migrates"
                    + " between carrier threads");
        }
        int home = Libc.openNamespace(Path.of("/proc/thread-self/ns/net"));
        try {
            Libc.enterNetworkNamespace(Path.of("/run/netns", name));
        } catch (IOException | RuntimeException e) {
            Libc.close(home);
            throw e;
        }
        return new Visit(Thread.currentThread(), home);
    }

    /** The calling thread's stay in a namespace, from {@link #enterOnThisThread()}. */
    public static final class Visit implements AutoCloseable {
        private final Thread thread;
        private int homeFd;

        private Visit(Thread thread, int homeFd) {
            this.thread = thread;
            this.homeFd = homeFd;
        }

        /** Moves the thread back to the namespace it came from. Call it on the same thread; safe twice. */
        @Override
        public void close() throws IOException {
            if (homeFd < 0) {
                return;
            }
            if (Thread.currentThread() != thread) {
                throw new IllegalStateException("close the visit on the thread that entered: " + thread);
            }
            try {
                Libc.setns(homeFd, "/proc/thread-self/ns/net of " + thread.getName());
            } finally {
                Libc.close(homeFd);
                homeFd = -1;
            }
        }
    }

    /** A pool of platform threads that live inside this namespace; shut down by {@link #close()}. */
    public ExecutorService executor() {
        return executor;
    }

    /** Starts {@code task} on a thread inside this namespace. */
    public <T> Future<T> submit(Callable<T> task) {
        return executor.submit(task);
    }

    /** Runs {@code task} on a thread inside this namespace and waits at most 60 s for it. */
    public <T> T call(Callable<T> task) throws IOException {
        Future<T> future = executor.submit(task);
        try {
            return future.get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (cause instanceof Error error) {
                throw error;
            }
            throw new IOException(cause);
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new IOException("task in namespace " + name + " did not finish within 60 s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    /** A process builder for {@code command} run inside this namespace ({@code ip netns exec}). */
    public ProcessBuilder command(String... command) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", name));
        full.addAll(List.of(command));
        return new ProcessBuilder(full);
    }

    /**
     * Deletes the namespace; sockets still open in it are reset, programs still running in it are stopped.
     * Safe to call twice.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        OPEN.remove(this);
        executor.shutdownNow();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        stopProcessesInside();
        try {
            run(List.of("ip", "netns", "del", name));
        } catch (IOException e) {
            System.err.println("tfo4j-lab: could not delete network namespace " + name + ": " + e.getMessage());
        }
    }

    /**
     * Stops the programs still running in the namespace ({@code ip netns pids}): deleting it would only unmount
     * its name and leave them running, unreachable, after a failed test or a Ctrl-C. SIGTERM, then SIGKILL
     * after 3 s. Never this JVM.
     */
    private void stopProcessesInside() {
        List<ProcessHandle> inside = new ArrayList<>();
        try {
            for (String pid : run(List.of("ip", "netns", "pids", name)).split("\\s+")) {
                if (!pid.isEmpty() && Long.parseLong(pid) != ProcessHandle.current().pid()) {
                    ProcessHandle.of(Long.parseLong(pid)).ifPresent(inside::add);
                }
            }
        } catch (IOException | NumberFormatException e) {
            return;
        }
        inside.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        for (ProcessHandle process : inside) {
            try {
                long left = Math.max(1, deadline - System.nanoTime());
                process.onExit().get(left, TimeUnit.NANOSECONDS);
            } catch (ExecutionException | TimeoutException e) {
                process.destroyForcibly();
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String toString() {
        return "NetNamespace[" + name + "]";
    }

    private static void removeStale() {
        Path runNetns = Path.of("/run/netns");
        if (!Files.isDirectory(runNetns)) {
            return;
        }
        try (var entries = Files.list(runNetns)) {
            for (Path entry : entries.toList()) {
                String fileName = entry.getFileName().toString();
                if (!fileName.startsWith(PREFIX)) {
                    continue;
                }
                String[] parts = fileName.substring(PREFIX.length()).split("-");
                try {
                    long pid = Long.parseLong(parts[0]);
                    if (ProcessHandle.of(pid).isEmpty()) {
                        run(List.of("ip", "netns", "del", fileName));
                    }
                } catch (NumberFormatException | IOException ignored) {
                    // not ours, or already gone
                }
            }
        } catch (IOException ignored) {
            // nothing to clean
        }
    }

    /** Runs a command, waits at most 30 s, and throws with its output when it fails. */
    static String run(List<String> command) throws IOException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException(String.join(" ", command) + " did not finish within 30 s");
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + String.join(" ", command), e);
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (process.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed (exit " + process.exitValue() + "): " + output);
        }
        return output;
    }
}
