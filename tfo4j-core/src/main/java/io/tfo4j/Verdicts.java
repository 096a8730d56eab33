package io.tfo4j;

import io.tfo4j.FastOpenSupport.SysctlBit;
import io.tfo4j.FastOpenSupport.TcpOption;

/**
 * The rules that turn what is known about a host and a namespace into a {@link FastOpenStatus} for each
 * side, with the reason and the remedy when it is off. Checked in order: the system property, the native
 * calls and JVM flags, the kernel's socket option, the sysctl bit.
 */
final class Verdicts {
    /** What one side of Fast Open needs from the kernel; turning on the server bit keeps the client bit. */
    enum Side {
        CLIENT(TcpOption.TCP_FASTOPEN_CONNECT, "4.11", SysctlBit.CLIENT, "client bit 0x1",
                SysctlBit.CLIENT.mask()),
        SERVER(TcpOption.TCP_FASTOPEN, "3.7", SysctlBit.SERVER, "server bit 0x2, so listeners do a plain handshake",
                SysctlBit.SERVER.mask() | SysctlBit.CLIENT.mask());

        final TcpOption option;
        final String minimumKernel;
        final SysctlBit bit;
        final String missingBit;
        final int wanted;

        Side(TcpOption option, String minimumKernel, SysctlBit bit, String missingBit, int wanted) {
            this.option = option;
            this.minimumKernel = minimumKernel;
            this.bit = bit;
            this.missingBit = missingBit;
            this.wanted = wanted;
        }
    }

    private Verdicts() {
    }

    static FastOpenStatus of(Side side, HostFacts host, Integer sysctl, boolean disabled) {
        if (disabled) {
            return FastOpenStatus.off("switched off by the system property " + FastOpenSupport.DISABLE_PROPERTY
                    + "=true", "remove -D" + FastOpenSupport.DISABLE_PROPERTY + "=true");
        }
        if (host.nativeProblem() != null) {
            return FastOpenStatus.off(host.nativeProblem(), remedyFor(host.nativeProblem()));
        }
        if (!host.knownOptions().contains(side.option)) {
            return FastOpenStatus.off("kernel " + host.kernelRelease() + " has no " + side.option
                            + " socket option (it needs Linux " + side.minimumKernel + " or later)",
                    "upgrade the kernel to " + side.minimumKernel + " or later");
        }
        if (sysctl == null) {
            return FastOpenStatus.off("net.ipv4.tcp_fastopen cannot be read from " + NamespaceSysctls.TCP_FASTOPEN,
                    "make /proc/sys readable to this process");
        }
        if ((sysctl & side.bit.mask()) == 0) {
            return FastOpenStatus.off("net.ipv4.tcp_fastopen=" + sysctl + " lacks the " + side.missingBit,
                    sysctlRemedy(sysctl | side.wanted));
        }
        return FastOpenStatus.on();
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
}
