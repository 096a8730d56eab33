package io.tfo4j.bench;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Moves the calling platform thread into a network namespace with {@code setns(2)} and, on {@link #close()},
 * back into the namespace it came from.
 *
 * <p>The testkit's {@code NetNamespace} only runs code on its own executor threads; a JMH benchmark method
 * runs on a JMH worker thread, which has to be moved itself. Network namespaces are per thread in Linux, so
 * only this thread moves: the rest of the JVM stays in the host's namespace. Virtual threads are refused
 * because they migrate between carrier threads. Needs CAP_SYS_ADMIN and
 * {@code --enable-native-access=ALL-UNNAMED}.
 */
public final class ThreadNamespaceSwitch implements AutoCloseable {
    private static final int O_RDONLY = 0;
    private static final int O_CLOEXEC = 0x80000;
    private static final int CLONE_NEWNET = 0x40000000;
    private static final String OWN_NAMESPACE = "/proc/thread-self/ns/net";

    private final Thread owner;
    private final String namespaceName;
    private int originalNamespaceFd;

    private ThreadNamespaceSwitch(Thread owner, String namespaceName, int originalNamespaceFd) {
        this.owner = owner;
        this.namespaceName = namespaceName;
        this.originalNamespaceFd = originalNamespaceFd;
    }

    /**
     * Moves the calling thread into the namespace bound at {@code /run/netns/NAME} (made by
     * {@code ip netns add NAME}).
     *
     * @throws IOException when a file cannot be opened or the kernel refuses the switch
     */
    public static ThreadNamespaceSwitch enter(String namespaceName) throws IOException {
        Thread current = Thread.currentThread();
        if (current.isVirtual()) {
            throw new IllegalStateException("a virtual thread cannot stay in a network namespace: it migrates"
                    + " between carrier threads");
        }
        int original = Native.open(OWN_NAMESPACE);
        try {
            String target = "/run/netns/" + namespaceName;
            int targetFd = Native.open(target);
            try {
                Native.setns(targetFd, target);
            } finally {
                Native.close(targetFd);
            }
        } catch (IOException | RuntimeException e) {
            Native.close(original);
            throw e;
        }
        return new ThreadNamespaceSwitch(current, namespaceName, original);
    }

    /** The thread this switch moved. */
    public Thread owner() {
        return owner;
    }

    /** Moves the thread back into the namespace it was in before {@link #enter}. Safe to call twice. */
    @Override
    public void close() throws IOException {
        if (originalNamespaceFd < 0) {
            return;
        }
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("only " + owner.getName() + " can leave namespace " + namespaceName
                    + "; called from " + Thread.currentThread().getName());
        }
        try {
            Native.setns(originalNamespaceFd, OWN_NAMESPACE + " (as it was before entering " + namespaceName + ")");
        } finally {
            Native.close(originalNamespaceFd);
            originalNamespaceFd = -1;
        }
    }

    /** The libc calls, linked on first use. */
    private static final class Native {
        private static final StructLayout CAPTURE;
        private static final VarHandle ERRNO;
        private static final MethodHandle OPEN;
        private static final MethodHandle SETNS;
        private static final MethodHandle CLOSE;

        static {
            Linker linker = Linker.nativeLinker();
            Linker.Option errnoOption = Linker.Option.captureCallState("errno");
            CAPTURE = Linker.Option.captureStateLayout();
            ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
            OPEN = linker.downcallHandle(linker.defaultLookup().find("open").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), errnoOption);
            SETNS = linker.downcallHandle(linker.defaultLookup().find("setns").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), errnoOption);
            CLOSE = linker.downcallHandle(linker.defaultLookup().find("close").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT), errnoOption);
        }

        static int open(String path) throws IOException {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment capture = arena.allocate(CAPTURE);
                int fd = (int) OPEN.invokeExact(capture, arena.allocateFrom(path), O_RDONLY | O_CLOEXEC);
                if (fd < 0) {
                    throw new IOException("open(" + path + ") failed: errno " + (int) ERRNO.get(capture, 0L));
                }
                return fd;
            } catch (IOException | RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException("open() call failed unexpectedly", t);
            }
        }

        static void setns(int fd, String description) throws IOException {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment capture = arena.allocate(CAPTURE);
                int rc = (int) SETNS.invokeExact(capture, fd, CLONE_NEWNET);
                if (rc != 0) {
                    throw new IOException("setns(" + description + ", CLONE_NEWNET) failed: errno "
                            + (int) ERRNO.get(capture, 0L) + " (needs CAP_SYS_ADMIN)");
                }
            } catch (IOException | RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException("setns() call failed unexpectedly", t);
            }
        }

        static void close(int fd) {
            try (Arena arena = Arena.ofConfined()) {
                int ignored = (int) CLOSE.invokeExact(arena.allocate(CAPTURE), fd);
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException("close() call failed unexpectedly", t);
            }
        }
    }
}
