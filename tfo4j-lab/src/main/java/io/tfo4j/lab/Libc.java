package io.tfo4j.lab;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The libc calls the lab makes, through FFM, with errno captured per call: {@code setns(2)} to move a
 * thread into a network namespace, and for TUN devices {@code open(2)} of {@code /dev/net/tun},
 * {@code ioctl(TUNSETIFF)}, {@code read(2)}, {@code write(2)}, {@code ppoll(2)}, {@code close(2)} and
 * {@code prctl(PR_SET_TIMERSLACK)}. A TUN device is made in the network namespace of the thread that calls
 * {@link #createTun}; its descriptor then works from any thread.
 */
final class Libc {
    static final String DEV_NET_TUN = "/dev/net/tun";

    private static final int O_RDWR = 2;
    private static final int O_NONBLOCK = 0x800;
    private static final int O_CLOEXEC = 0x80000;
    private static final long TUNSETIFF = 0x400454caL;
    private static final short IFF_TUN = 0x0001;
    private static final short IFF_NO_PI = 0x1000;
    /** Fail with EBUSY instead of attaching to a device of that name that already exists. */
    private static final short IFF_TUN_EXCL = (short) 0x8000;
    private static final int IFNAMSIZ = 16;
    private static final int IFREQ_SIZE = 40;
    private static final int IFR_FLAGS_OFFSET = 16;
    private static final short POLLIN = 0x1;
    private static final int PR_SET_TIMERSLACK = 29;
    private static final int EINTR = 4;
    private static final int EAGAIN = 11;

    private static final String UNAVAILABLE;
    private static final StructLayout CAPTURE;
    private static final VarHandle ERRNO;
    private static final MethodHandle OPEN;
    private static final MethodHandle IOCTL;
    private static final MethodHandle READ;
    private static final MethodHandle WRITE;
    private static final MethodHandle POLL;
    private static final MethodHandle CLOSE;
    private static final MethodHandle PRCTL;
    private static final MethodHandle SETNS;
    private static final int CLONE_NEWNET = 0x40000000;
    private static final int O_RDONLY = 0;

    static {
        String unavailable = null;
        StructLayout capture = null;
        VarHandle errno = null;
        MethodHandle open = null;
        MethodHandle ioctl = null;
        MethodHandle read = null;
        MethodHandle write = null;
        MethodHandle poll = null;
        MethodHandle close = null;
        MethodHandle prctl = null;
        MethodHandle setns = null;
        try {
            Linker linker = Linker.nativeLinker();
            Linker.Option errnoOption = Linker.Option.captureCallState("errno");
            capture = Linker.Option.captureStateLayout();
            errno = capture.varHandle(MemoryLayout.PathElement.groupElement("errno"));
            var libc = linker.defaultLookup();
            open = linker.downcallHandle(libc.find("open").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), errnoOption);
            // int ioctl(int fd, unsigned long request, ...): the third argument is variadic.
            ioctl = linker.downcallHandle(libc.find("ioctl").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS),
                    Linker.Option.firstVariadicArg(2), errnoOption);
            read = linker.downcallHandle(libc.find("read").orElseThrow(),
                    FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), errnoOption);
            write = linker.downcallHandle(libc.find("write").orElseThrow(),
                    FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), errnoOption);
            // int ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *timeout, const sigset_t *sigmask)
            poll = linker.downcallHandle(libc.find("ppoll").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS), errnoOption);
            // int prctl(int option, ...)
            prctl = linker.downcallHandle(libc.find("prctl").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG), Linker.Option.firstVariadicArg(1), errnoOption);
            close = linker.downcallHandle(libc.find("close").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT), errnoOption);
            setns = linker.downcallHandle(libc.find("setns").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), errnoOption);
        } catch (IllegalCallerException e) {
            unavailable = "native access is not enabled: add the JVM flag --enable-native-access=ALL-UNNAMED";
        } catch (RuntimeException | LinkageError e) {
            unavailable = "the system calls could not be linked: " + e;
        }
        UNAVAILABLE = unavailable;
        CAPTURE = capture;
        ERRNO = errno;
        OPEN = open;
        IOCTL = ioctl;
        READ = read;
        WRITE = write;
        POLL = poll;
        CLOSE = close;
        PRCTL = prctl;
        SETNS = setns;
    }

    private Libc() {
    }

    /** Why the calls cannot be made at all (native access not enabled, linking failed), or null. */
    static String linkProblem() {
        return UNAVAILABLE;
    }

    /** Moves the calling thread into the network namespace bound at {@code nsFile} ({@code setns(2)}). */
    static void enterNetworkNamespace(Path nsFile) throws IOException {
        int fd = openNamespace(nsFile);
        try {
            setns(fd, nsFile.toString());
        } finally {
            close(fd);
        }
    }

    /** Every call checks this first: without it a missing link shows as a NullPointerException. */
    private static void requireLinked() throws IOException {
        if (UNAVAILABLE != null) {
            throw new IOException(UNAVAILABLE);
        }
    }

    /** Opens a namespace file ({@code /run/netns/NAME}, {@code /proc/thread-self/ns/net}) for {@link #setns}. */
    static int openNamespace(Path nsFile) throws IOException {
        requireLinked();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(CAPTURE);
            int fd = (int) OPEN.invokeExact(capture, arena.allocateFrom(nsFile.toString()), O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                throw new IOException("open(" + nsFile + ") failed: " + describe(errno(capture)));
            }
            return fd;
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("open() call failed unexpectedly", t);
        }
    }

    /** Moves the calling thread into the network namespace open at {@code fd}. */
    static void setns(int fd, String label) throws IOException {
        requireLinked();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(CAPTURE);
            int rc = (int) SETNS.invokeExact(capture, fd, CLONE_NEWNET);
            if (rc != 0) {
                throw new IOException("setns(" + label + ", CLONE_NEWNET) failed: " + describe(errno(capture))
                        + " (needs CAP_SYS_ADMIN)");
            }
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("setns() call failed unexpectedly", t);
        }
    }

    /** Why TUN devices cannot be used here, or null when they can (as far as can be told without root). */
    static String tunUnavailableReason() {
        if (UNAVAILABLE != null) {
            return UNAVAILABLE;
        }
        if (!Files.exists(Path.of(DEV_NET_TUN))) {
            return DEV_NET_TUN + " is missing (no tun driver, or not visible in this container)";
        }
        return null;
    }

    /**
     * Opens {@code /dev/net/tun} (non-blocking, close-on-exec) and makes a TUN device ({@code IFF_TUN |
     * IFF_NO_PI}: plain IP packets, no extra header) called {@code name} in the calling thread's network
     * namespace. The device lives as long as the returned descriptor stays open.
     */
    static int createTun(String name) throws IOException {
        String problem = tunUnavailableReason();
        if (problem != null) {
            throw new IOException(problem);
        }
        byte[] nameBytes = name.getBytes(StandardCharsets.US_ASCII);
        if (nameBytes.length == 0 || nameBytes.length >= IFNAMSIZ) {
            throw new IllegalArgumentException("interface name must have 1 to 15 characters: " + name);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(CAPTURE);
            int fd = (int) OPEN.invokeExact(capture, arena.allocateFrom(DEV_NET_TUN), O_RDWR | O_NONBLOCK | O_CLOEXEC);
            if (fd < 0) {
                int errno = errno(capture);
                throw new IOException("open(" + DEV_NET_TUN + ") failed: " + describe(errno)
                        + (errno == 1 || errno == 13 ? " (needs root or CAP_NET_ADMIN)" : ""));
            }
            MemorySegment ifreq = arena.allocate(IFREQ_SIZE, 8); // zeroed
            MemorySegment.copy(nameBytes, 0, ifreq, JAVA_BYTE, 0, nameBytes.length);
            ifreq.set(JAVA_SHORT, IFR_FLAGS_OFFSET, (short) (IFF_TUN | IFF_NO_PI | IFF_TUN_EXCL));
            int rc = (int) IOCTL.invokeExact(capture, fd, TUNSETIFF, ifreq);
            if (rc != 0) {
                int errno = errno(capture);
                int ignored = (int) CLOSE.invokeExact(capture, fd);
                throw new IOException("ioctl(TUNSETIFF, " + name + ") failed: " + describe(errno)
                        + (errno == 16 ? " (a device of that name already exists in this namespace)" : "")
                        + (errno == 1 ? " (needs CAP_NET_ADMIN)" : ""));
            }
            return fd;
        } catch (IOException | IllegalArgumentException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("TUN device setup failed unexpectedly", t);
        }
    }

    /** Closes a descriptor; a non-persistent TUN device disappears with its last descriptor. */
    static void close(int fd) throws IOException {
        requireLinked();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(CAPTURE);
            int rc = (int) CLOSE.invokeExact(capture, fd);
            if (rc != 0) {
                throw new IOException("close(" + fd + ") failed: " + describe(errno(capture)));
            }
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("close() failed unexpectedly", t);
        }
    }

    private static int errno(MemorySegment capture) {
        return (int) ERRNO.get(capture, 0L);
    }

    /** {@code errno N (NAME)} for the errors these calls can give. */
    static String describe(int errno) {
        String name = switch (errno) {
            case 1 -> "EPERM";
            case 2 -> "ENOENT";
            case 4 -> "EINTR";
            case 5 -> "EIO";
            case 9 -> "EBADF";
            case 11 -> "EAGAIN";
            case 12 -> "ENOMEM";
            case 13 -> "EACCES";
            case 14 -> "EFAULT";
            case 16 -> "EBUSY";
            case 19 -> "ENODEV";
            case 22 -> "EINVAL";
            case 77 -> "EBADFD";
            case 90 -> "EMSGSIZE";
            default -> null;
        };
        return "errno " + errno + (name == null ? "" : " (" + name + ")");
    }

    /**
     * Packet I/O on TUN descriptors with scratch native memory owned by one thread: make it on the thread that
     * uses it, and close it there.
     */
    static final class Io implements AutoCloseable {
        private static final long NANOS_PER_SECOND = 1_000_000_000L;

        private final Arena arena;
        private final MemorySegment capture;
        private final MemorySegment pollfd;
        private final MemorySegment timespec;
        private final MemorySegment buffer;

        Io(int bufferSize) throws IOException {
            requireLinked();
            this.arena = Arena.ofConfined();
            this.capture = arena.allocate(CAPTURE);
            this.pollfd = arena.allocate(8, 4); // struct pollfd { int fd; short events; short revents; }
            this.timespec = arena.allocate(16, 8); // struct timespec { time_t tv_sec; long tv_nsec; }
            this.buffer = arena.allocate(bufferSize, 8);
        }

        /**
         * Sets the calling thread's timer slack to 1 ns ({@code prctl(PR_SET_TIMERSLACK)}), so its timed waits
         * end on time rather than up to 50 us late. Affects only this thread.
         */
        void preciseTimers() throws IOException {
            try {
                int rc = (int) PRCTL.invokeExact(capture, PR_SET_TIMERSLACK, 1L);
                if (rc != 0) {
                    throw new IOException("prctl(PR_SET_TIMERSLACK, 1) failed: " + describe(errno(capture)));
                }
            } catch (IOException e) {
                throw e;
            } catch (Throwable t) {
                throw new IOException("prctl() failed unexpectedly", t);
            }
        }

        /**
         * Reads one packet from {@code fd} into a new array; null when none is waiting (the descriptor is
         * non-blocking).
         */
        byte[] read(int fd) throws IOException {
            try {
                while (true) {
                    long n = (long) READ.invokeExact(capture, fd, buffer, buffer.byteSize());
                    if (n >= 0) {
                        return buffer.asSlice(0, n).toArray(JAVA_BYTE);
                    }
                    int errno = errno(capture);
                    if (errno == EAGAIN) {
                        return null;
                    }
                    if (errno != EINTR) {
                        throw new IOException("read(tun fd " + fd + ") failed: " + describe(errno));
                    }
                }
            } catch (IOException e) {
                throw e;
            } catch (Throwable t) {
                throw new IOException("read() failed unexpectedly", t);
            }
        }

        /**
         * Waits at most {@code timeoutNanos} for a packet to read on {@code fd} ({@code ppoll(2)}, so with
         * nanosecond resolution); true when one (or an error) is waiting.
         */
        boolean poll(int fd, long timeoutNanos) throws IOException {
            long timeout = Math.max(0, timeoutNanos);
            pollfd.set(JAVA_INT, 0, fd);
            pollfd.set(JAVA_SHORT, 4, POLLIN);
            pollfd.set(JAVA_SHORT, 6, (short) 0);
            timespec.set(JAVA_LONG, 0, timeout / NANOS_PER_SECOND);
            timespec.set(JAVA_LONG, 8, timeout % NANOS_PER_SECOND);
            try {
                int rc = (int) POLL.invokeExact(capture, pollfd, 1L, timespec, MemorySegment.NULL);
                if (rc < 0) {
                    int errno = errno(capture);
                    if (errno == EINTR) {
                        return false;
                    }
                    throw new IOException("ppoll(tun fd " + fd + ") failed: " + describe(errno));
                }
                return rc > 0;
            } catch (IOException e) {
                throw e;
            } catch (Throwable t) {
                throw new IOException("ppoll() failed unexpectedly", t);
            }
        }

        /** Writes one whole IP packet to {@code fd}: the kernel takes it as received on that device. */
        void write(int fd, byte[] packet) throws IOException {
            if (packet.length > buffer.byteSize()) {
                throw new IOException("packet of " + packet.length + " bytes exceeds the buffer");
            }
            MemorySegment.copy(packet, 0, buffer, JAVA_BYTE, 0, packet.length);
            try {
                while (true) {
                    long n = (long) WRITE.invokeExact(capture, fd, buffer, (long) packet.length);
                    if (n == packet.length) {
                        return;
                    }
                    if (n >= 0) {
                        throw new IOException("write(tun fd " + fd + ") wrote " + n + " of " + packet.length + " bytes");
                    }
                    int errno = errno(capture);
                    if (errno != EINTR) {
                        throw new IOException("write(tun fd " + fd + ", " + packet.length + " bytes) failed: "
                                + describe(errno));
                    }
                }
            } catch (IOException e) {
                throw e;
            } catch (Throwable t) {
                throw new IOException("write() failed unexpectedly", t);
            }
        }

        @Override
        public void close() {
            arena.close();
        }
    }
}
