package io.tfo4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The sysctls of the network namespace a socket lives in, cached per namespace. A socket may come from
 * another namespace than the calling thread's (a listener made by a thread inside a namespace, configured
 * from outside), and {@code /proc/sys} shows only the thread's own; so on a cache miss a short-lived
 * thread enters the socket's namespace ({@code ioctl(SIOCGSKNS)}, {@code setns}) and reads them there.
 *
 * <p>The key is {@code SO_NETNS_COOKIE} (Linux 5.14+), which names a namespace uniquely for the life of
 * the system and costs one {@code getsockopt} on the socket at hand. Namespace inode numbers cannot be the
 * key: the kernel gives a new namespace the number of one just deleted. Without the cookie nothing is
 * cached and the sysctls are read on every call.
 */
final class SocketNamespaces {
    private static final Map<Long, NamespaceSysctls> BY_COOKIE = new ConcurrentHashMap<>();

    private SocketNamespaces() {
    }

    static NamespaceSysctls sysctlsOf(int fd) {
        long cookie = cookie(fd);
        NamespaceSysctls cached = cookie == 0 ? null : BY_COOKIE.get(cookie);
        if (cached != null) {
            return cached;
        }
        NamespaceSysctls read = readInNamespaceOf(fd);
        if (read == null) {
            // The socket's namespace could not be entered: the caller's is the best guess, not cached.
            return NamespaceSysctls.read();
        }
        if (cookie != 0) {
            BY_COOKIE.put(cookie, read);
        }
        return read;
    }

    /** Drops the cached sysctls of the namespace of {@code fd} (the kernel contradicted them). */
    static void forgetNamespaceOf(int fd) {
        long cookie = cookie(fd);
        if (cookie != 0) {
            BY_COOKIE.remove(cookie);
        }
    }

    static void forgetAll() {
        BY_COOKIE.clear();
    }

    private static long cookie(int fd) {
        if (!Linux.available()) {
            return 0;
        }
        try {
            return Linux.getLongOption(fd, Linux.SOL_SOCKET, Linux.SO_NETNS_COOKIE, "SO_NETNS_COOKIE");
        } catch (SyscallException | UnsupportedOperationException e) {
            return 0;
        }
    }

    /**
     * Reads the sysctls of the namespace of {@code fd}: here when it is the calling thread's, else on a
     * thread that enters it. Null when that is not possible (no CAP_SYS_ADMIN, kernel before 4.9).
     */
    private static NamespaceSysctls readInNamespaceOf(int fd) {
        if (!Linux.available()) {
            return NamespaceSysctls.read();
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
                return NamespaceSysctls.read();
            }
            NamespaceSysctls[] result = {null};
            Thread reader = Thread.ofPlatform().name("tfo4j-namespace-sysctls").start(() -> {
                try {
                    Linux.enterNamespace(nsFd);
                    result[0] = NamespaceSysctls.read();
                } catch (SyscallException | RuntimeException e) {
                    // result stays null
                }
            });
            reader.join();
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
}
