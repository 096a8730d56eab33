package io.tfo4j.agent.common;

import java.io.BufferedReader;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The ports of the {@code listen} option: which of them the JDK bound (so the agent could act), the line
 * about each listener, and the lines about the others: a listed port on which this process listens but
 * that never passed the JDK's bind (a native transport such as Netty's epoll, or a socket inherited from
 * systemd), found in {@code /proc}; and at exit, listed ports that were never bound at all.
 */
public final class ListenPorts {
    /** When to look for listeners the JDK did not bind, in seconds after start. */
    private static final List<Integer> FOREIGN_CHECKS = List.of(3, 10, 30, 60);
    private static final String LISTEN_STATE = "0A";

    private final AgentOptions options;
    private final AgentLog log;
    private final Set<Integer> bound = ConcurrentHashMap.newKeySet();

    public ListenPorts(AgentOptions options, AgentLog log) {
        this.options = options;
        this.log = log;
    }

    /** The Fast Open queue length for {@code port}, or 0 when it is not listed. */
    public int queueLength(int port) {
        Integer queue = options.listen().get(port);
        return queue == null ? 0 : queue;
    }

    /** Notes that the JDK is binding a listed port. */
    public void bound(int port) {
        bound.add(port);
    }

    /** The line for a listener given Fast Open; {@code protection} says what keeps replayed SYN data harmless. */
    public void reportOn(InetAddress address, int port, int queueLength, String protection) {
        log.once("listen " + address.getHostAddress() + ":" + port, "listener " + hostPort(address, port)
                + ": Fast Open on (queue " + queueLength + "). Data in a SYN can be replayed: " + protection);
    }

    /** The line for a listed listener without Fast Open: why, and what would change it. */
    public void reportOff(InetAddress address, int port, String reason, String remedy) {
        log.once("listen " + address.getHostAddress() + ":" + port, "listener " + hostPort(address, port)
                + ": Fast Open off: " + reason + (remedy.isEmpty() ? "" : "; " + remedy));
    }

    /** {@code 198.18.100.2:8080}, {@code [::1]:8080}: an address and port as the agent's lines write them. */
    public static String hostPort(InetAddress address, int port) {
        String host = address.getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    /** Looks a few times in the first minute for listed ports this process listens on without the JDK's bind. */
    public void watchForeignListeners() {
        if (options.listen().isEmpty()) {
            return;
        }
        Thread thread = new Thread(() -> {
            long start = System.nanoTime();
            for (int second : FOREIGN_CHECKS) {
                long wait = TimeUnit.SECONDS.toNanos(second) - (System.nanoTime() - start);
                if (wait > 0) {
                    try {
                        TimeUnit.NANOSECONDS.sleep(wait);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                reportForeignListeners();
            }
        }, "tfo4j-agent-listeners");
        thread.setDaemon(true);
        thread.start();
    }

    void reportForeignListeners() {
        Set<Integer> unbound = new HashSet<>(options.listen().keySet());
        unbound.removeAll(bound);
        if (unbound.isEmpty()) {
            return;
        }
        Set<Integer> listening;
        try {
            listening = listeningPortsOfThisProcess(unbound);
        } catch (IOException | RuntimeException e) {
            return;
        }
        for (int port : unbound) {
            if (listening.contains(port)) {
                log.once("foreign " + port, "port " + port + " is listening but was not bound through the JDK"
                        + " (a native transport such as Netty's epoll or io_uring, or a socket inherited from"
                        + " systemd): the agent cannot give it Fast Open. Use the transport's own option"
                        + " (Netty: EpollChannelOption.TCP_FASTOPEN), or as root set net.ipv4.tcp_fastopen=0x403,"
                        + " which gives every listener in the network namespace a Fast Open queue");
            }
        }
    }

    /** Says which listed ports the JDK never bound; called at exit. */
    public void reportNeverBound() {
        for (int port : options.listen().keySet()) {
            if (!bound.contains(port)) {
                log.once("never " + port, "port " + port + " is in listen= but was never bound through the JDK"
                        + " while the agent ran");
            }
        }
    }

    /**
     * Which of {@code ports} are in LISTEN state in this namespace with a socket that is one of this process's
     * descriptors. The kernel lists listening sockets first in {@code /proc/net/tcp}, so the reading stops at
     * the first line in another state: a busy host has tens of thousands of connections after them.
     */
    static Set<Integer> listeningPortsOfThisProcess(Set<Integer> ports) throws IOException {
        Map<Long, Integer> listenerInodes = new HashMap<>();
        for (String table : List.of("/proc/self/net/tcp", "/proc/self/net/tcp6")) {
            Path path = Path.of(table);
            if (Files.isReadable(path)) {
                try (BufferedReader reader = Files.newBufferedReader(path)) {
                    listenerInodes.putAll(listeners(reader, ports));
                }
            }
        }
        if (listenerInodes.isEmpty()) {
            return Set.of();
        }
        Set<Integer> ours = new HashSet<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path fd : fds) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        Integer port = listenerInodes.get(Long.parseLong(target.substring(8, target.length() - 1)));
                        if (port != null) {
                            ours.add(port);
                        }
                    }
                } catch (IOException | RuntimeException e) {
                    // closed meanwhile
                }
            }
        }
        return ours;
    }

    /**
     * Reads {@code /proc/net/tcp} (or tcp6) up to the first socket that is not listening, and returns the
     * inode of each listener on one of {@code ports}: fields are local address:port (hex), state, inode.
     */
    static Map<Long, Integer> listeners(BufferedReader table, Set<Integer> ports) throws IOException {
        Map<Long, Integer> inodes = new HashMap<>();
        table.readLine(); // the heading
        for (String line = table.readLine(); line != null; line = table.readLine()) {
            String[] fields = line.trim().split(" +");
            if (fields.length < 10 || !fields[3].equals(LISTEN_STATE)) {
                break;
            }
            try {
                String local = fields[1];
                int port = Integer.parseInt(local.substring(local.lastIndexOf(':') + 1), 16);
                if (ports.contains(port)) {
                    inodes.put(Long.parseLong(fields[9]), port);
                }
            } catch (RuntimeException e) {
                // a line this parser does not understand
            }
        }
        return inodes;
    }
}
