package io.tfo4j;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What this host can do with TCP Fast Open, and if not, why not and how to fix it.
 *
 * <p>The probe reads the operating system and kernel release, this network namespace's
 * {@code net.ipv4.tcp_fastopen} sysctl (decoded into {@link SysctlBit}s), the blackhole timeout, and asks a
 * throwaway socket which Fast Open socket options the kernel knows (ENOPROTOOPT means it does not). From
 * these it gives a {@link Verdict} for the client side and one for the server side.
 *
 * <p>Requirements: Linux; client: kernel 4.11+ ({@code TCP_FASTOPEN_CONNECT}) and sysctl bit 0x1 (on by
 * default); server: kernel 3.7+ ({@code TCP_FASTOPEN}) and sysctl bit 0x2 (off by default; {@code sysctl -w
 * net.ipv4.tcp_fastopen=3} as root). The sysctl belongs to the network namespace, so a container has its own.
 * The system property {@value #DISABLE_PROPERTY}{@code =true} switches Fast Open off entirely: every
 * socket then does a plain handshake and says so.
 *
 * <p>The result is probed once per network namespace and cached (threads in different namespaces see
 * their own); {@link #refresh()} probes again after the sysctl was changed.
 */
public final class FastOpenSupport {
    /** Set this system property to {@code true} to switch Fast Open off in this JVM. */
    public static final String DISABLE_PROPERTY = "tfo4j.disable";

    private static final Path SYSCTL = Path.of("/proc/sys/net/ipv4/tcp_fastopen");
    private static final Path BLACKHOLE = Path.of("/proc/sys/net/ipv4/tcp_fastopen_blackhole_timeout_sec");
    private static final Map<Long, FastOpenSupport> BY_NAMESPACE = new ConcurrentHashMap<>();

    /** The bits of {@code net.ipv4.tcp_fastopen} (Documentation/networking/ip-sysctl.rst). */
    public enum SysctlBit {
        /** 0x1: clients may send data in the SYN (the usual default). */
        CLIENT(0x1, "client: send data in the SYN"),
        /** 0x2: listeners that set TCP_FASTOPEN accept data in the SYN. */
        SERVER(0x2, "server: accept data in the SYN on listeners that enable it"),
        /** 0x4: clients send SYN data without a cookie. */
        CLIENT_NO_COOKIE(0x4, "client: send SYN data without a cookie"),
        /** 0x200: servers accept SYN data without a cookie. */
        SERVER_NO_COOKIE(0x200, "server: accept SYN data without a cookie"),
        /** 0x400: every listener gets a Fast Open queue as long as its backlog, without setting TCP_FASTOPEN. */
        SERVER_ALL_LISTENERS(0x400, "server: every listener has a Fast Open queue");

        private final int mask;
        private final String meaning;

        SysctlBit(int mask, String meaning) {
            this.mask = mask;
            this.meaning = meaning;
        }

        /** The bit's value in the sysctl. */
        public int mask() {
            return mask;
        }

        /** What the bit does, in a few words. */
        public String meaning() {
            return meaning;
        }

        /** The known bits set in {@code value}. */
        public static Set<SysctlBit> decode(int value) {
            EnumSet<SysctlBit> bits = EnumSet.noneOf(SysctlBit.class);
            for (SysctlBit bit : values()) {
                if ((value & bit.mask) != 0) {
                    bits.add(bit);
                }
            }
            return Collections.unmodifiableSet(bits);
        }
    }

    /**
     * Whether one side of Fast Open works here.
     *
     * @param available true when Fast Open will be attempted
     * @param reason    why it will not be, or empty when it will
     * @param remedy    what to do about it (a command, a flag), or empty
     */
    public record Verdict(boolean available, String reason, String remedy) {
        static Verdict yes() {
            return new Verdict(true, "", "");
        }

        static Verdict no(String reason, String remedy) {
            return new Verdict(false, reason, remedy);
        }
    }

    private final String osName;
    private final String kernelRelease;
    private final Integer sysctl;
    private final Integer blackholeTimeoutSeconds;
    private final Map<String, Boolean> socketOptions;
    private final boolean disabledByProperty;
    private final Verdict client;
    private final Verdict server;

    private FastOpenSupport(String osName, String kernelRelease, Integer sysctl, Integer blackholeTimeoutSeconds,
                            Map<String, Boolean> socketOptions, boolean disabledByProperty,
                            Verdict client, Verdict server) {
        this.osName = osName;
        this.kernelRelease = kernelRelease;
        this.sysctl = sysctl;
        this.blackholeTimeoutSeconds = blackholeTimeoutSeconds;
        this.socketOptions = Collections.unmodifiableMap(socketOptions);
        this.disabledByProperty = disabledByProperty;
        this.client = client;
        this.server = server;
    }

    /** The support of the calling thread's network namespace, probed on first use and cached. */
    public static FastOpenSupport current() {
        return BY_NAMESPACE.computeIfAbsent(namespaceKey(), key -> probe());
    }

    /** Probes the calling thread's network namespace again (after a sysctl change) and caches the result. */
    public static FastOpenSupport refresh() {
        FastOpenSupport fresh = probe();
        BY_NAMESPACE.put(namespaceKey(), fresh);
        return fresh;
    }

    /** The cached support for the namespace the socket {@code fd} lives in. */
    static FastOpenSupport forSocket(int fd) {
        long key = namespaceKey(fd);
        FastOpenSupport cached = BY_NAMESPACE.get(key);
        if (cached != null) {
            return cached;
        }
        FastOpenSupport probed = probeNamespaceOf(fd);
        if (probed == null) {
            // The socket's namespace could not be entered: the caller's is the best guess, not cached.
            return probe();
        }
        FastOpenSupport raced = BY_NAMESPACE.putIfAbsent(key, probed);
        return raced != null ? raced : probed;
    }

    /**
     * Probes the network namespace socket {@code fd} lives in. The probe reads /proc/sys and makes its
     * throwaway socket in the calling thread's namespace, so a socket from another namespace (made by
     * another thread) is probed on a short-lived thread that enters the socket's namespace. Returns null
     * when that is not possible (no CAP_SYS_ADMIN, kernel before 4.9).
     */
    private static FastOpenSupport probeNamespaceOf(int fd) {
        if (!Linux.available()) {
            return probe();
        }
        int nsFd;
        try {
            nsFd = Linux.socketNamespace(fd);
        } catch (SyscallException | RuntimeException e) {
            return null;
        }
        try {
            Object socketNs = Files.getAttribute(Path.of("/proc/self/fd/" + nsFd), "unix:ino");
            Object threadNs = Files.getAttribute(Path.of("/proc/thread-self/ns/net"), "unix:ino");
            if (socketNs.equals(threadNs)) {
                return probe();
            }
            FastOpenSupport[] result = new FastOpenSupport[1];
            Thread prober = Thread.ofPlatform().name("tfo4j-probe").start(() -> {
                try {
                    Linux.enterNamespace(nsFd);
                    result[0] = probe();
                } catch (SyscallException | RuntimeException e) {
                    result[0] = null;
                }
            });
            prober.join();
            return result[0];
        } catch (IOException | RuntimeException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } finally {
            Linux.close(nsFd);
        }
    }

    /** The kernel refused client Fast Open on {@code fd} although the cached verdict allowed it. */
    static void forgetNamespaceOf(int fd) {
        BY_NAMESPACE.remove(namespaceKey(fd));
    }

    private static long namespaceKey() {
        if (!Linux.available()) {
            return 0;
        }
        try {
            int fd = Linux.tcpSocket();
            try {
                return namespaceKey(fd);
            } finally {
                Linux.close(fd);
            }
        } catch (SyscallException e) {
            return procNamespaceInode();
        }
    }

    /**
     * SO_NETNS_COOKIE (kernel 5.14+) names a namespace uniquely for the life of the system; the inode of
     * /proc/thread-self/ns/net is the fallback, and can be reused once a namespace is gone.
     */
    private static long namespaceKey(int fd) {
        if (!Linux.available()) {
            return 0;
        }
        try {
            return Linux.getLongOption(fd, Linux.SOL_SOCKET, Linux.SO_NETNS_COOKIE, "SO_NETNS_COOKIE");
        } catch (SyscallException | UnsupportedOperationException e) {
            return procNamespaceInode();
        }
    }

    private static long procNamespaceInode() {
        try {
            String link = Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString();
            return -Long.parseLong(link.replaceAll("\\D", ""));
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    private static FastOpenSupport probe() {
        String os = System.getProperty("os.name", "unknown");
        String release = System.getProperty("os.version", "unknown");
        boolean disabled = Boolean.getBoolean(DISABLE_PROPERTY);
        if (!"Linux".equals(os)) {
            Verdict no = Verdict.no("this is " + os + "; tfo4j implements TCP Fast Open for Linux only",
                    "none: connections use a plain TCP handshake");
            return new FastOpenSupport(os, release, null, null, Map.of(), disabled, no, no);
        }
        Integer sysctl = readInt(SYSCTL);
        Integer blackhole = readInt(BLACKHOLE);
        Map<String, Boolean> options = new LinkedHashMap<>();
        String nativeProblem = Linux.unavailableReason();
        if (nativeProblem == null) {
            nativeProblem = probeOptions(options);
        }
        if (nativeProblem == null) {
            nativeProblem = FileDescriptors.channelAccessProblem();
        }
        Verdict client = verdict(Side.CLIENT, disabled, nativeProblem, sysctl, options);
        Verdict server = verdict(Side.SERVER, disabled, nativeProblem, sysctl, options);
        return new FastOpenSupport(os, release, sysctl, blackhole, options, disabled, client, server);
    }

    private static String probeOptions(Map<String, Boolean> options) {
        int fd;
        try {
            fd = Linux.tcpSocket();
        } catch (SyscallException e) {
            return "a probe socket could not be opened: " + e.getMessage();
        }
        try {
            options.put("TCP_INFO", optionExists(fd, Linux.TCP_INFO, "TCP_INFO"));
            options.put("TCP_FASTOPEN", optionExists(fd, Linux.TCP_FASTOPEN, "TCP_FASTOPEN"));
            options.put("TCP_FASTOPEN_CONNECT", optionExists(fd, Linux.TCP_FASTOPEN_CONNECT, "TCP_FASTOPEN_CONNECT"));
            options.put("TCP_FASTOPEN_KEY", optionExists(fd, Linux.TCP_FASTOPEN_KEY, "TCP_FASTOPEN_KEY"));
            options.put("TCP_FASTOPEN_NO_COOKIE", optionExists(fd, Linux.TCP_FASTOPEN_NO_COOKIE, "TCP_FASTOPEN_NO_COOKIE"));
            exerciseConnectPath(fd);
            return null;
        } finally {
            Linux.close(fd);
        }
    }

    /**
     * Makes each native call of the connect path once on the throwaway socket, so that the first real
     * connection does not pay for linking them (hundreds of milliseconds on a cold JVM). All are harmless
     * on an unconnected socket; their results do not matter.
     */
    private static void exerciseConnectPath(int fd) {
        try {
            Linux.setIntOption(fd, Linux.IPPROTO_TCP, Linux.TCP_FASTOPEN_CONNECT, "TCP_FASTOPEN_CONNECT", 1);
        } catch (SyscallException | UnsupportedOperationException ignored) {
            // the verdict comes from the sysctl and the option list
        }
        try {
            Linux.awaitWritable(fd, 0);
            Linux.sendNonBlocking(fd, null, 0, 0);
        } catch (SyscallException ignored) {
            // EPIPE on an unconnected socket, as expected
        }
    }

    private static boolean optionExists(int fd, int option, String name) {
        try {
            Linux.getBytesOption(fd, Linux.IPPROTO_TCP, option, name, 128);
            return true;
        } catch (UnsupportedOperationException e) {
            return false;
        } catch (SyscallException e) {
            // Any other refusal (EPERM, EINVAL) still proves the kernel knows the option.
            return true;
        }
    }

    /** What one side of Fast Open needs from the kernel; the server side also turns on the client bit. */
    private enum Side {
        CLIENT("TCP_FASTOPEN_CONNECT", "4.11", SysctlBit.CLIENT, "client bit 0x1", SysctlBit.CLIENT.mask),
        SERVER("TCP_FASTOPEN", "3.7", SysctlBit.SERVER, "server bit 0x2, so listeners do a plain handshake",
                SysctlBit.SERVER.mask | SysctlBit.CLIENT.mask);

        final String option;
        final String minimumKernel;
        final SysctlBit bit;
        final String missingBit;
        final int wanted;

        Side(String option, String minimumKernel, SysctlBit bit, String missingBit, int wanted) {
            this.option = option;
            this.minimumKernel = minimumKernel;
            this.bit = bit;
            this.missingBit = missingBit;
            this.wanted = wanted;
        }
    }

    private static Verdict verdict(Side side, boolean disabled, String nativeProblem, Integer sysctl,
                                   Map<String, Boolean> options) {
        if (disabled) {
            return Verdict.no("switched off by the system property " + DISABLE_PROPERTY + "=true",
                    "remove -D" + DISABLE_PROPERTY + "=true");
        }
        if (nativeProblem != null) {
            return Verdict.no(nativeProblem, remedyFor(nativeProblem));
        }
        if (!options.getOrDefault(side.option, false)) {
            return Verdict.no("kernel " + System.getProperty("os.version") + " has no " + side.option
                            + " socket option (it needs Linux " + side.minimumKernel + " or later)",
                    "upgrade the kernel to " + side.minimumKernel + " or later");
        }
        if (sysctl == null) {
            return Verdict.no("net.ipv4.tcp_fastopen cannot be read from " + SYSCTL,
                    "make /proc/sys readable to this process");
        }
        if ((sysctl & side.bit.mask) == 0) {
            return Verdict.no("net.ipv4.tcp_fastopen=" + sysctl + " lacks the " + side.missingBit,
                    sysctlRemedy(sysctl | side.wanted));
        }
        return Verdict.yes();
    }

    /** The problems from {@link Linux} and {@link FileDescriptors} name a JVM flag after "add the JVM flag ". */
    private static String remedyFor(String problem) {
        String marker = "add the JVM flag ";
        int at = problem.indexOf(marker);
        if (at < 0) {
            return "none: connections use a plain TCP handshake";
        }
        String flag = problem.substring(at + marker.length()).split(" \\(")[0];
        return "start the JVM with " + flag;
    }

    private static String sysctlRemedy(int wanted) {
        return "as root: sysctl -w net.ipv4.tcp_fastopen=" + wanted
                + "; to keep it after reboot: echo 'net.ipv4.tcp_fastopen = " + wanted
                + "' > /etc/sysctl.d/60-tcp-fastopen.conf (the setting is per network namespace: "
                + "set it inside the container or namespace that runs this program)";
    }

    /**
     * Files.readString is wrong here: for a file of size 0 it reads one byte first, and /proc/sys answers a
     * read at offset 1 with end of file, so "1027" reads as "1". One large read gets the whole value.
     */
    private static Integer readInt(Path path) {
        try (InputStream in = new FileInputStream(path.toFile())) {
            return Integer.parseInt(new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim());
        } catch (IOException | NumberFormatException e) {
            return null;
        }
    }

    /** The value of {@code os.name}. */
    public String osName() {
        return osName;
    }

    /** The kernel release ({@code uname -r}, as {@code os.version}). */
    public String kernelRelease() {
        return kernelRelease;
    }

    /** This namespace's {@code net.ipv4.tcp_fastopen}, or empty when it could not be read. */
    public OptionalInt sysctl() {
        return sysctl == null ? OptionalInt.empty() : OptionalInt.of(sysctl);
    }

    /** The bits of {@link #sysctl()}. */
    public Set<SysctlBit> sysctlBits() {
        return sysctl == null ? Set.of() : SysctlBit.decode(sysctl);
    }

    /** {@code net.ipv4.tcp_fastopen_blackhole_timeout_sec}, or empty when it could not be read (0 means off). */
    public OptionalInt blackholeTimeoutSeconds() {
        return blackholeTimeoutSeconds == null ? OptionalInt.empty() : OptionalInt.of(blackholeTimeoutSeconds);
    }

    /** Each Fast Open socket option, in probe order, and whether this kernel knows it. */
    public Map<String, Boolean> socketOptions() {
        return socketOptions;
    }

    /** True when {@value #DISABLE_PROPERTY} switched Fast Open off. */
    public boolean disabledByProperty() {
        return disabledByProperty;
    }

    /** Whether connections from this host will send data in the SYN. */
    public Verdict client() {
        return client;
    }

    /** Whether listeners on this host that enable Fast Open will accept data in the SYN. */
    public Verdict server() {
        return server;
    }

    @Override
    public String toString() {
        return "FastOpenSupport[os=" + osName + " " + kernelRelease + ", tcp_fastopen=" + sysctl
                + ", client=" + (client.available() ? "yes" : "no: " + client.reason())
                + ", server=" + (server.available() ? "yes" : "no: " + server.reason()) + "]";
    }
}
