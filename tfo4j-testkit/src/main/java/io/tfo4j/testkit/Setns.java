package io.tfo4j.testkit;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/** Moves the calling thread into a network namespace with {@code setns(2)}, through FFM. */
final class Setns {
    private static final int O_RDONLY = 0;
    private static final int O_CLOEXEC = 0x80000;
    private static final int CLONE_NEWNET = 0x40000000;

    private static final String UNAVAILABLE;
    private static final StructLayout CAPTURE;
    private static final VarHandle ERRNO;
    private static final MethodHandle OPEN;
    private static final MethodHandle SETNS;
    private static final MethodHandle CLOSE;

    static {
        String unavailable = null;
        StructLayout capture = null;
        VarHandle errno = null;
        MethodHandle open = null;
        MethodHandle setns = null;
        MethodHandle close = null;
        try {
            Linker linker = Linker.nativeLinker();
            Linker.Option errnoOption = Linker.Option.captureCallState("errno");
            capture = Linker.Option.captureStateLayout();
            errno = capture.varHandle(MemoryLayout.PathElement.groupElement("errno"));
            open = linker.downcallHandle(linker.defaultLookup().find("open").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), errnoOption);
            setns = linker.downcallHandle(linker.defaultLookup().find("setns").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), errnoOption);
            close = linker.downcallHandle(linker.defaultLookup().find("close").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT), errnoOption);
        } catch (IllegalCallerException e) {
            unavailable = "native access is not enabled: add the JVM flag --enable-native-access=ALL-UNNAMED";
        } catch (RuntimeException | LinkageError e) {
            unavailable = "setns() could not be linked: " + e;
        }
        UNAVAILABLE = unavailable;
        CAPTURE = capture;
        ERRNO = errno;
        OPEN = open;
        SETNS = setns;
        CLOSE = close;
    }

    private Setns() {
    }

    static String unavailableReason() {
        return UNAVAILABLE;
    }

    /** Moves the calling thread into the network namespace bound at {@code nsFile}. */
    static void enter(Path nsFile) throws IOException {
        if (UNAVAILABLE != null) {
            throw new IOException(UNAVAILABLE);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(CAPTURE);
            int fd = (int) OPEN.invokeExact(capture, arena.allocateFrom(nsFile.toString()), O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                throw new IOException("open(" + nsFile + ") failed: errno " + (int) ERRNO.get(capture, 0L));
            }
            try {
                int rc = (int) SETNS.invokeExact(capture, fd, CLONE_NEWNET);
                if (rc != 0) {
                    throw new IOException("setns(" + nsFile + ", CLONE_NEWNET) failed: errno "
                            + (int) ERRNO.get(capture, 0L) + " (needs CAP_SYS_ADMIN)");
                }
            } finally {
                int ignored = (int) CLOSE.invokeExact(capture, fd);
            }
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("setns() call failed unexpectedly", t);
        }
    }
}
