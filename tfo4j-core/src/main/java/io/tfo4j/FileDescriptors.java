package io.tfo4j;

import java.io.FileDescriptor;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketImpl;
import java.nio.channels.Channel;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import javax.net.ssl.SSLSocket;

/**
 * Finds the Linux file descriptor behind a JDK socket or channel. The JDK has no public API for it, so
 * this uses its internals, which need JVM flags:
 * <ul>
 *   <li>channels, and sockets made by channels or by tfo4j's factories: {@code sun.nio.ch.SelChImpl.getFDVal()},
 *       which needs {@code --add-exports java.base/sun.nio.ch=...};</li>
 *   <li>plain {@code new Socket()} / {@code new ServerSocket()}: the private {@code impl} field and
 *       {@code SocketImpl.getFileDescriptor()}, which also need {@code --add-opens java.base/java.net=...}.</li>
 * </ul>
 * <p>An {@code SSLSocket} layered on a tfo4j socket is read through that socket ({@link LayeredSockets}).
 * <p>A raw {@link FileDescriptor} (from code that sees the JDK's descriptors, such as the agent) is read
 * with {@code sun.nio.ch.IOUtil.fdVal}, which needs {@code --add-exports java.base/sun.nio.ch=...}.
 * Without a flag, every method throws {@link UnsupportedOperationException} naming the flag.
 */
final class FileDescriptors {
    private FileDescriptors() {
    }

    /** {@code ALL-UNNAMED} on the class path, else this module's name. */
    static String moduleFlagTarget() {
        Module module = FileDescriptors.class.getModule();
        return module.isNamed() ? module.getName() : "ALL-UNNAMED";
    }

    static String exportsFlag() {
        return "--add-exports java.base/sun.nio.ch=" + moduleFlagTarget();
    }

    static String opensFlag() {
        return "--add-opens java.base/java.net=" + moduleFlagTarget();
    }

    /** Null when channel file descriptors can be read, else the reason naming the missing flag. */
    static String channelAccessProblem() {
        return ChannelAccess.PROBLEM;
    }

    private static final class ChannelAccess {
        static final MethodHandle GET_FD_VAL;
        static final String PROBLEM;

        static {
            MethodHandle handle = null;
            String problem = null;
            try {
                Class<?> selChImpl = Class.forName("sun.nio.ch.SelChImpl");
                handle = MethodHandles.lookup()
                        .findVirtual(selChImpl, "getFDVal", MethodType.methodType(int.class))
                        .asType(MethodType.methodType(int.class, Channel.class));
            } catch (IllegalAccessException e) {
                problem = "tfo4j cannot read a channel's file descriptor: add the JVM flag " + exportsFlag();
            } catch (ReflectiveOperationException e) {
                problem = "this JDK (" + Runtime.version() + ") has no sun.nio.ch.SelChImpl.getFDVal(): " + e;
            }
            GET_FD_VAL = handle;
            PROBLEM = problem;
        }
    }

    private static final class DescriptorAccess {
        static final MethodHandle FD_VAL;
        static final String PROBLEM;

        static {
            MethodHandle fdVal = null;
            String problem = null;
            try {
                fdVal = MethodHandles.lookup().findStatic(Class.forName("sun.nio.ch.IOUtil"), "fdVal",
                        MethodType.methodType(int.class, FileDescriptor.class));
            } catch (IllegalAccessException e) {
                problem = "tfo4j cannot read a file descriptor's number: add the JVM flag " + exportsFlag();
            } catch (ReflectiveOperationException e) {
                problem = "this JDK (" + Runtime.version() + ") has no sun.nio.ch.IOUtil.fdVal(): " + e;
            }
            FD_VAL = fdVal;
            PROBLEM = problem;
        }
    }

    private static final class PlainSocketAccess {
        static final MethodHandle SOCKET_IMPL;
        static final MethodHandle SERVER_SOCKET_IMPL;
        static final MethodHandle GET_FILE_DESCRIPTOR;
        static final MethodHandle FD_VAL;
        static final String PROBLEM;

        static {
            MethodHandle socketImpl = null;
            MethodHandle serverSocketImpl = null;
            MethodHandle getFileDescriptor = null;
            MethodHandle fdVal = null;
            String problem = null;
            try {
                MethodHandles.Lookup netLookup = MethodHandles.privateLookupIn(Socket.class, MethodHandles.lookup());
                socketImpl = netLookup.findGetter(Socket.class, "impl", SocketImpl.class);
                serverSocketImpl = MethodHandles.privateLookupIn(ServerSocket.class, MethodHandles.lookup())
                        .findGetter(ServerSocket.class, "impl", SocketImpl.class);
                getFileDescriptor = netLookup.findVirtual(SocketImpl.class, "getFileDescriptor",
                        MethodType.methodType(FileDescriptor.class));
                Class<?> ioUtil = Class.forName("sun.nio.ch.IOUtil");
                fdVal = MethodHandles.lookup().findStatic(ioUtil, "fdVal",
                        MethodType.methodType(int.class, FileDescriptor.class));
            } catch (IllegalAccessException e) {
                problem = "tfo4j cannot read a plain java.net socket's file descriptor: add the JVM flags "
                        + opensFlag() + " " + exportsFlag()
                        + " (or make the socket with tfo4j's factories or from a channel)";
            } catch (ReflectiveOperationException e) {
                problem = "this JDK (" + Runtime.version() + ") lays out java.net.Socket differently: " + e;
            }
            SOCKET_IMPL = socketImpl;
            SERVER_SOCKET_IMPL = serverSocketImpl;
            GET_FILE_DESCRIPTOR = getFileDescriptor;
            FD_VAL = fdVal;
            PROBLEM = problem;
        }
    }

    /**
     * The number of a raw descriptor. The caller must know it is open: a closed one may keep its old
     * number, which can by now name another file.
     */
    static int of(FileDescriptor descriptor) {
        if (DescriptorAccess.PROBLEM != null) {
            throw new UnsupportedOperationException(DescriptorAccess.PROBLEM);
        }
        int value;
        try {
            value = (int) DescriptorAccess.FD_VAL.invokeExact(descriptor);
        } catch (Throwable t) {
            throw new IllegalStateException("reading the number of " + descriptor + " failed", t);
        }
        if (value < 0) {
            throw new IllegalArgumentException("the file descriptor is not open (" + value + ")");
        }
        return value;
    }

    static int of(SocketChannel channel) throws ClosedChannelException {
        return ofChannel(channel);
    }

    static int of(ServerSocketChannel channel) throws ClosedChannelException {
        return ofChannel(channel);
    }

    /** Refuses closed channels: their old descriptor number may already name another file. */
    private static int ofChannel(Channel channel) throws ClosedChannelException {
        if (!channel.isOpen()) {
            throw new ClosedChannelException();
        }
        if (ChannelAccess.PROBLEM != null) {
            throw new UnsupportedOperationException(ChannelAccess.PROBLEM);
        }
        try {
            return (int) ChannelAccess.GET_FD_VAL.invokeExact(channel);
        } catch (ClassCastException e) {
            throw new IllegalArgumentException("not a JDK socket channel: " + channel.getClass().getName(), e);
        } catch (Throwable t) {
            throw new IllegalStateException("reading the file descriptor of " + channel + " failed", t);
        }
    }

    static int of(Socket socket) throws SocketException, ClosedChannelException {
        if (socket.isClosed()) {
            throw new SocketException("Socket is closed");
        }
        if (socket instanceof FastOpenSocket fastOpenSocket) {
            return ofChannel(fastOpenSocket.channel());
        }
        if (socket.getChannel() != null) {
            return ofChannel(socket.getChannel());
        }
        if (socket instanceof SSLSocket) {
            Socket transport = LayeredSockets.transportOf(socket);
            if (transport != null) {
                return of(transport);
            }
            if (!selfConnected(socket)) {
                throw new UnsupportedOperationException("this SSLSocket is layered on a socket that is not an open"
                        + " tfo4j socket: tfo4j reads the outcome through an SSLSocket only when it was layered on a"
                        + " FastOpenSocketFactory socket; read it from the socket it was layered on");
            }
        }
        requirePlainSocketAccess();
        try {
            // getSoTimeout() makes the JDK create the lazily created native socket, without side effects.
            socket.getSoTimeout();
            SocketImpl impl = (SocketImpl) PlainSocketAccess.SOCKET_IMPL.invokeExact(socket);
            return fdOf(impl);
        } catch (RuntimeException | SocketException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("reading the file descriptor of " + socket + " failed", t);
        }
    }

    /**
     * True when an SSLSocket made its own connection ({@code SSLSocketFactory.createSocket(host, port)}), so
     * its own implementation holds the descriptor; false when it is layered on another socket.
     */
    private static boolean selfConnected(Socket ssl) {
        if (PlainSocketAccess.PROBLEM != null) {
            return true; // the plain path names the missing flag
        }
        try {
            SocketImpl impl = (SocketImpl) PlainSocketAccess.SOCKET_IMPL.invokeExact(ssl);
            FileDescriptor fd = (FileDescriptor) PlainSocketAccess.GET_FILE_DESCRIPTOR.invokeExact(impl);
            return fd != null && fd.valid();
        } catch (Throwable t) {
            return true;
        }
    }

    static int of(ServerSocket serverSocket) throws SocketException, ClosedChannelException {
        if (serverSocket.isClosed()) {
            throw new SocketException("Socket is closed");
        }
        if (serverSocket.getChannel() != null) {
            return ofChannel(serverSocket.getChannel());
        }
        requirePlainSocketAccess();
        try {
            serverSocket.getSoTimeout();
            SocketImpl impl = (SocketImpl) PlainSocketAccess.SERVER_SOCKET_IMPL.invokeExact(serverSocket);
            return fdOf(impl);
        } catch (RuntimeException | SocketException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("reading the file descriptor of " + serverSocket + " failed", t);
        }
    }

    private static void requirePlainSocketAccess() {
        if (PlainSocketAccess.PROBLEM != null) {
            throw new UnsupportedOperationException(PlainSocketAccess.PROBLEM);
        }
    }

    private static int fdOf(SocketImpl impl) throws Throwable {
        FileDescriptor fd = (FileDescriptor) PlainSocketAccess.GET_FILE_DESCRIPTOR.invokeExact(impl);
        int value = fd == null ? -1 : (int) PlainSocketAccess.FD_VAL.invokeExact(fd);
        if (value < 0) {
            throw new IllegalStateException("the socket has no file descriptor (is it closed?)");
        }
        return value;
    }
}
