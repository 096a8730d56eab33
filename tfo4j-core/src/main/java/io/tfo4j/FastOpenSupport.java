package io.tfo4j;

import java.util.Collections;
import java.util.EnumSet;
import java.util.OptionalInt;
import java.util.Set;

/**
 * What this host can do with TCP Fast Open, and if not, why not and how to fix it: a snapshot.
 *
 * <p>It combines what the JVM probes once (the operating system and kernel release, whether tfo4j's native
 * calls and JVM flags work, which Fast Open socket options the kernel knows: ENOPROTOOPT means it does not)
 * with the calling thread's network namespace's {@code net.ipv4.tcp_fastopen} sysctl (decoded into
 * {@link SysctlBit}s) and blackhole timeout, read at each {@link #current()}, and the system property
 * {@value #DISABLE_PROPERTY}, also read at each call. From these it gives a {@link FastOpenStatus} for the
 * client side and one for the server side. Only the first call opens a socket (one, to ask the kernel
 * about its options).
 *
 * <p>Requirements: Linux; client: kernel 4.11+ ({@code TCP_FASTOPEN_CONNECT}) and sysctl bit 0x1 (on by
 * default); server: kernel 3.7+ ({@code TCP_FASTOPEN}) and sysctl bit 0x2 (off by default; {@code sysctl -w
 * net.ipv4.tcp_fastopen=3} as root). The sysctl belongs to the network namespace, so a container has its own.
 *
 * <p>A socket is judged by its own namespace, whose sysctls are cached per namespace the first time one of
 * its sockets is judged; {@link #refresh()} forgets them after a sysctl change.
 */
public final class FastOpenSupport {
    /**
     * Set this system property to {@code true} to switch Fast Open off in this JVM. It is read on every call
     * of every entry point: while it is true they set no Fast Open option and report Fast Open off with the
     * property as the reason. Options set before it was switched on stay set on their sockets.
     */
    public static final String DISABLE_PROPERTY = "tfo4j.disable";

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

    /** The Fast Open socket options the probe asks the kernel about, with the Linux release that added each. */
    public enum TcpOption {
        /** The connection's state and what Fast Open did (Linux 2.6; the Fast Open fields 3.7 and 5.5). */
        TCP_INFO(Linux.TCP_INFO),
        /** A listener's Fast Open queue (Linux 3.7). */
        TCP_FASTOPEN(Linux.TCP_FASTOPEN),
        /** A client connect deferred to the first write, whose data rides in the SYN (Linux 4.11). */
        TCP_FASTOPEN_CONNECT(Linux.TCP_FASTOPEN_CONNECT),
        /** A listener's own cookie key (Linux 4.10). */
        TCP_FASTOPEN_KEY(Linux.TCP_FASTOPEN_KEY),
        /** SYN data without a cookie, per socket (Linux 4.15). */
        TCP_FASTOPEN_NO_COOKIE(Linux.TCP_FASTOPEN_NO_COOKIE);

        final int number;

        TcpOption(int number) {
            this.number = number;
        }
    }

    private final HostFacts host;
    private final NamespaceSysctls sysctls;
    private final boolean disabledByProperty;
    private final FastOpenStatus client;
    private final FastOpenStatus server;

    private FastOpenSupport(HostFacts host, NamespaceSysctls sysctls, boolean disabledByProperty) {
        this.host = host;
        this.sysctls = sysctls;
        this.disabledByProperty = disabledByProperty;
        this.client = Verdicts.of(Verdicts.Side.CLIENT, host, sysctls.tcpFastopen(), disabledByProperty);
        this.server = Verdicts.of(Verdicts.Side.SERVER, host, sysctls.tcpFastopen(), disabledByProperty);
    }

    private static FastOpenSupport of(NamespaceSysctls sysctls) {
        return new FastOpenSupport(HostFacts.get(), sysctls, Boolean.getBoolean(DISABLE_PROPERTY));
    }

    /** The support of the calling thread's network namespace, with its sysctls as they are now. */
    public static FastOpenSupport current() {
        return of(NamespaceSysctls.read());
    }

    /**
     * Forgets the sysctls cached for the namespaces of sockets, so that the next socket of each namespace is
     * judged by the values of then (after a sysctl change); returns {@link #current()}.
     */
    public static FastOpenSupport refresh() {
        SocketNamespaces.forgetAll();
        return current();
    }

    /** The support of the namespace the socket {@code fd} lives in. */
    static FastOpenSupport forSocket(int fd) {
        return of(SocketNamespaces.sysctlsOf(fd));
    }

    /** The value of {@code os.name}. */
    public String osName() {
        return host.osName();
    }

    /** The kernel release ({@code uname -r}, as {@code os.version}). */
    public String kernelRelease() {
        return host.kernelRelease();
    }

    /** This namespace's {@code net.ipv4.tcp_fastopen}, or empty when it could not be read. */
    public OptionalInt sysctl() {
        return sysctls.tcpFastopen() == null ? OptionalInt.empty() : OptionalInt.of(sysctls.tcpFastopen());
    }

    /** The bits of {@link #sysctl()}. */
    public Set<SysctlBit> sysctlBits() {
        return sysctls.tcpFastopen() == null ? Set.of() : SysctlBit.decode(sysctls.tcpFastopen());
    }

    /** {@code net.ipv4.tcp_fastopen_blackhole_timeout_sec}, or empty when it could not be read (0 means off). */
    public OptionalInt blackholeTimeoutSeconds() {
        Integer seconds = sysctls.blackholeTimeoutSeconds();
        return seconds == null ? OptionalInt.empty() : OptionalInt.of(seconds);
    }

    /** True when the kernel knows {@code option}; false also when it could not be asked (see {@link #client()}). */
    public boolean knows(TcpOption option) {
        return host.knownOptions().contains(option);
    }

    /** True when {@value #DISABLE_PROPERTY} switched Fast Open off. */
    public boolean disabledByProperty() {
        return disabledByProperty;
    }

    /** Whether connections from this namespace will send data in the SYN. */
    public FastOpenStatus client() {
        return client;
    }

    /** Whether listeners in this namespace that enable Fast Open will accept data in the SYN. */
    public FastOpenStatus server() {
        return server;
    }

    @Override
    public String toString() {
        return "FastOpenSupport[os=" + osName() + " " + kernelRelease() + ", tcp_fastopen=" + sysctls.tcpFastopen()
                + ", client=" + (client.active() ? "yes" : "no: " + client.reason())
                + ", server=" + (server.active() ? "yes" : "no: " + server.reason()) + "]";
    }
}
