package io.tfo4j;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Every native call tfo4j makes, in one place: the libc socket functions, bound through the Foreign
 * Function &amp; Memory API. Each call captures errno in its own confined arena (never in shared state)
 * and turns a failure into a {@link SyscallException}, or an {@link UnsupportedOperationException} for
 * ENOPROTOOPT ("this kernel has no such option").
 *
 * <p>Constants are the x86_64/aarch64 Linux values (they are the same on both).
 */
final class Linux {
    static final int IPPROTO_TCP = 6;
    static final int SOL_SOCKET = 1;
    static final int SO_ERROR = 4;
    static final int SO_NETNS_COOKIE = 71;
    static final int TCP_INFO = 11;
    static final int TCP_FASTOPEN = 23;
    static final int TCP_FASTOPEN_CONNECT = 30;
    static final int TCP_FASTOPEN_KEY = 33;
    static final int TCP_FASTOPEN_NO_COOKIE = 34;
    static final int AF_INET = 2;
    static final int SOCK_STREAM = 1;
    static final int MSG_DONTWAIT = 0x40;
    static final int MSG_NOSIGNAL = 0x4000;
    static final short POLLOUT = 0x4;
    static final short POLLERR = 0x8;
    static final short POLLHUP = 0x10;
    static final long SIOCGSKNS = 0x894C;
    static final int CLONE_NEWNET = 0x40000000;

    private Linux() {
    }

    /** Why the native calls cannot be used here, or null when they can. */
    static String unavailableReason() {
        return Native.UNAVAILABLE;
    }

    static boolean available() {
        return Native.UNAVAILABLE == null;
    }

    /** Holds the linked functions; initialised on first use so that merely loading tfo4j links nothing. */
    private static final class Native {
        static final String UNAVAILABLE;
        static final StructLayout CAPTURE_LAYOUT;
        static final VarHandle ERRNO;
        static final MethodHandle socket;
        static final MethodHandle close;
        static final MethodHandle setsockopt;
        static final MethodHandle getsockopt;
        static final MethodHandle send;
        static final MethodHandle poll;
        static final MethodHandle ioctl;
        static final MethodHandle setns;

        static {
            String unavailable = null;
            StructLayout capture = null;
            VarHandle errno = null;
            MethodHandle[] handles = new MethodHandle[8];
            if (!"Linux".equals(System.getProperty("os.name"))) {
                unavailable = "this is " + System.getProperty("os.name")
                        + ", and tfo4j implements TCP Fast Open for Linux only";
            } else {
                try {
                    Linker linker = Linker.nativeLinker();
                    SymbolLookup libc = linker.defaultLookup();
                    Linker.Option errnoOption = Linker.Option.captureCallState("errno");
                    capture = Linker.Option.captureStateLayout();
                    errno = capture.varHandle(MemoryLayout.PathElement.groupElement("errno"));
                    handles[0] = bind(linker, libc, "socket",
                            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), errnoOption);
                    handles[1] = bind(linker, libc, "close",
                            FunctionDescriptor.of(JAVA_INT, JAVA_INT), errnoOption);
                    handles[2] = bind(linker, libc, "setsockopt",
                            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT),
                            errnoOption);
                    handles[3] = bind(linker, libc, "getsockopt",
                            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS),
                            errnoOption);
                    handles[4] = bind(linker, libc, "send",
                            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), errnoOption);
                    handles[5] = bind(linker, libc, "poll",
                            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), errnoOption);
                    // int ioctl(int fd, unsigned long request, ...): used without a third argument.
                    handles[6] = linker.downcallHandle(libc.find("ioctl").orElseThrow(),
                            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG), errnoOption);
                    handles[7] = bind(linker, libc, "setns",
                            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), errnoOption);
                } catch (IllegalCallerException e) {
                    unavailable = "native access is not enabled: add the JVM flag --enable-native-access="
                            + FileDescriptors.moduleFlagTarget() + " (" + e.getMessage() + ")";
                } catch (RuntimeException | LinkageError e) {
                    unavailable = "the libc socket functions could not be linked: " + e;
                }
            }
            UNAVAILABLE = unavailable;
            CAPTURE_LAYOUT = capture;
            ERRNO = errno;
            socket = handles[0];
            close = handles[1];
            setsockopt = handles[2];
            getsockopt = handles[3];
            send = handles[4];
            poll = handles[5];
            ioctl = handles[6];
            setns = handles[7];
        }

        private static MethodHandle bind(Linker linker, SymbolLookup libc, String name,
                                         FunctionDescriptor descriptor, Linker.Option option) {
            MemorySegment symbol = libc.find(name)
                    .orElseThrow(() -> new UnsatisfiedLinkError("libc has no function " + name));
            return linker.downcallHandle(symbol, descriptor, option);
        }
    }

    private static void requireAvailable() {
        if (Native.UNAVAILABLE != null) {
            throw new UnsupportedOperationException("TCP Fast Open is unavailable: " + Native.UNAVAILABLE);
        }
    }

    private static MemorySegment captureSegment(Arena arena) {
        return arena.allocate(Native.CAPTURE_LAYOUT);
    }

    private static int errno(MemorySegment capture) {
        return (int) Native.ERRNO.get(capture, 0L);
    }

    /** Opens a throwaway TCP socket for probing; the caller closes it with {@link #close(int)}. */
    static int tcpSocket() throws SyscallException {
        requireAvailable();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = captureSegment(arena);
            int fd = (int) Native.socket.invokeExact(capture, AF_INET, SOCK_STREAM, 0);
            if (fd < 0) {
                throw new SyscallException("socket", null, errno(capture));
            }
            return fd;
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("socket() call failed unexpectedly", t);
        }
    }

    static void close(int fd) {
        requireAvailable();
        try (Arena arena = Arena.ofConfined()) {
            int ignored = (int) Native.close.invokeExact(captureSegment(arena), fd);
        } catch (Throwable t) {
            throw new IllegalStateException("close() call failed unexpectedly", t);
        }
    }

    static void setIntOption(int fd, int level, int option, String optionName, int value) throws SyscallException {
        setBytesOption(fd, level, option, optionName,
                ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(value).array());
    }

    static void setBytesOption(int fd, int level, int option, String optionName, byte[] value) throws SyscallException {
        requireAvailable();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = captureSegment(arena);
            MemorySegment valueSegment = arena.allocateFrom(JAVA_BYTE, value);
            int rc = (int) Native.setsockopt.invokeExact(capture, fd, level, option, valueSegment, value.length);
            if (rc != 0) {
                throw failure("setsockopt", optionName, errno(capture));
            }
        } catch (SyscallException | UnsupportedOperationException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("setsockopt() call failed unexpectedly", t);
        }
    }

    static int getIntOption(int fd, int level, int option, String optionName) throws SyscallException {
        return (int) nativeOrderValue(getBytesOption(fd, level, option, optionName, 4));
    }

    static long getLongOption(int fd, int level, int option, String optionName) throws SyscallException {
        return nativeOrderValue(getBytesOption(fd, level, option, optionName, 8));
    }

    /** The kernel may fill fewer bytes than asked; the missing high bytes are zero. */
    private static long nativeOrderValue(byte[] bytes) {
        ByteBuffer padded = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder());
        if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
            padded.put(bytes);
        } else {
            padded.position(8 - bytes.length).put(bytes);
        }
        return padded.getLong(0);
    }

    /** Returns the option's bytes; the array is as long as the kernel filled, at most {@code capacity}. */
    static byte[] getBytesOption(int fd, int level, int option, String optionName, int capacity) throws SyscallException {
        requireAvailable();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = captureSegment(arena);
            MemorySegment buffer = arena.allocate(capacity);
            MemorySegment length = arena.allocateFrom(JAVA_INT, capacity);
            int rc = (int) Native.getsockopt.invokeExact(capture, fd, level, option, buffer, length);
            if (rc != 0) {
                throw failure("getsockopt", optionName, errno(capture));
            }
            int filled = Math.min(capacity, length.get(JAVA_INT, 0));
            return buffer.asSlice(0, filled).toArray(JAVA_BYTE);
        } catch (SyscallException | UnsupportedOperationException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("getsockopt() call failed unexpectedly", t);
        }
    }

    /**
     * One {@code send(2)} that never blocks and never raises SIGPIPE: returns the bytes the kernel took,
     * or -errno for EAGAIN, EINPROGRESS and EALREADY (nothing taken yet); any other failure throws.
     */
    static long sendNonBlocking(int fd, byte[] data, int offset, int length) throws SyscallException {
        requireAvailable();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = captureSegment(arena);
            MemorySegment buffer = length == 0 ? MemorySegment.NULL : arena.allocate(length);
            if (length > 0) {
                MemorySegment.copy(data, offset, buffer, JAVA_BYTE, 0, length);
            }
            long n = (long) Native.send.invokeExact(capture, fd, buffer, (long) length, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n >= 0) {
                return n;
            }
            int errno = errno(capture);
            if (errno == Errno.EAGAIN || errno == Errno.EINPROGRESS || errno == Errno.EALREADY) {
                return -errno;
            }
            throw new SyscallException("send", null, errno);
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("send() call failed unexpectedly", t);
        }
    }

    /**
     * Waits until the socket is writable or has failed, at most {@code timeoutMillis} (negative: no limit).
     * Returns false on timeout.
     */
    static boolean awaitWritable(int fd, long timeoutMillis) throws SyscallException {
        requireAvailable();
        long deadline = timeoutMillis < 0 ? Long.MAX_VALUE : System.nanoTime() + timeoutMillis * 1_000_000;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = captureSegment(arena);
            // struct pollfd { int fd; short events; short revents; }
            MemorySegment pollfd = arena.allocate(8, 4);
            while (true) {
                pollfd.set(JAVA_INT, 0, fd);
                pollfd.set(JAVA_SHORT, 4, POLLOUT);
                pollfd.set(JAVA_SHORT, 6, (short) 0);
                int wait;
                if (timeoutMillis < 0) {
                    wait = -1;
                } else {
                    long left = Math.max(0, (deadline - System.nanoTime()) / 1_000_000);
                    wait = (int) Math.min(Integer.MAX_VALUE, left);
                }
                int rc = (int) Native.poll.invokeExact(capture, pollfd, 1L, wait);
                if (rc > 0) {
                    return true;
                }
                if (rc == 0) {
                    if (timeoutMillis >= 0 && System.nanoTime() >= deadline) {
                        return false;
                    }
                    continue;
                }
                int errno = errno(capture);
                if (errno != Errno.EINTR) {
                    throw new SyscallException("poll", null, errno);
                }
            }
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("poll() call failed unexpectedly", t);
        }
    }

    /** An open descriptor for the network namespace of socket {@code fd} ({@code ioctl(SIOCGSKNS)}, 4.9+). */
    static int socketNamespace(int fd) throws SyscallException {
        requireAvailable();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = captureSegment(arena);
            int nsFd = (int) Native.ioctl.invokeExact(capture, fd, SIOCGSKNS);
            if (nsFd < 0) {
                throw new SyscallException("ioctl", "SIOCGSKNS", errno(capture));
            }
            return nsFd;
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("ioctl() call failed unexpectedly", t);
        }
    }

    /** Moves the calling thread into the network namespace open at {@code nsFd} (needs CAP_SYS_ADMIN). */
    static void enterNamespace(int nsFd) throws SyscallException {
        requireAvailable();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = captureSegment(arena);
            int rc = (int) Native.setns.invokeExact(capture, nsFd, CLONE_NEWNET);
            if (rc != 0) {
                throw new SyscallException("setns", "CLONE_NEWNET", errno(capture));
            }
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("setns() call failed unexpectedly", t);
        }
    }

    /** ENOPROTOOPT means the kernel does not know the option: that is "unsupported", not an I/O error. */
    private static SyscallException failure(String call, String option, int errno) {
        SyscallException e = new SyscallException(call, option, errno);
        if (errno == Errno.ENOPROTOOPT) {
            throw new UnsupportedOperationException(
                    option + " is not supported by this kernel (" + System.getProperty("os.version") + ")", e);
        }
        return e;
    }
}
