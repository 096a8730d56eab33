package io.tfo4j;

import io.tfo4j.FastOpenSupport.TcpOption;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/**
 * What the JVM learns once about Fast Open on this host, the same in every network namespace: the
 * operating system and kernel release, whether tfo4j's native calls and JVM flags work, and which Fast
 * Open socket options the kernel knows (asked of one throwaway socket, the only one tfo4j ever opens).
 *
 * @param nativeProblem why tfo4j cannot make its system calls or read descriptors here, or null
 */
record HostFacts(String osName, String kernelRelease, Set<TcpOption> knownOptions, String nativeProblem) {

    /** Probed on first use, once per JVM. */
    static HostFacts get() {
        return Probed.FACTS;
    }

    private static final class Probed {
        static final HostFacts FACTS = probe();
    }

    private static HostFacts probe() {
        String os = System.getProperty("os.name", "unknown");
        String release = System.getProperty("os.version", "unknown");
        if (!"Linux".equals(os)) {
            return new HostFacts(os, release, Set.of(),
                    "this is " + os + "; tfo4j implements TCP Fast Open for Linux only");
        }
        Set<TcpOption> known = EnumSet.noneOf(TcpOption.class);
        String problem = Linux.unavailableReason();
        if (problem == null) {
            problem = probeOptions(known);
        }
        if (problem == null) {
            problem = FileDescriptors.channelAccessProblem();
        }
        return new HostFacts(os, release, Collections.unmodifiableSet(known), problem);
    }

    private static String probeOptions(Set<TcpOption> known) {
        int fd;
        try {
            fd = Linux.tcpSocket();
        } catch (SyscallException e) {
            return "a probe socket could not be opened: " + e.getMessage();
        }
        try {
            for (TcpOption option : TcpOption.values()) {
                if (kernelKnows(fd, option)) {
                    known.add(option);
                }
            }
            exerciseConnectPath(fd);
            return null;
        } finally {
            Linux.close(fd);
        }
    }

    private static boolean kernelKnows(int fd, TcpOption option) {
        try {
            Linux.getBytesOption(fd, Linux.IPPROTO_TCP, option.number, option.name(), 128);
            return true;
        } catch (UnsupportedOperationException e) {
            return false;
        } catch (SyscallException e) {
            // Any other refusal (EPERM, EINVAL) still proves the kernel knows the option.
            return true;
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
}
