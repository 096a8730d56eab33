package io.tfo4j;

import java.io.FileDescriptor;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Arrays;
import java.util.Optional;

/**
 * Switches TCP Fast Open on for the JDK's own sockets and channels.
 *
 * <p><b>Server.</b> {@link #enableServer(ServerSocketChannel, int)} sets {@code TCP_FASTOPEN} on a
 * listener, before or after {@code bind} (the kernel accepts it in LISTEN state). It is off unless you call
 * it, because data that arrives in a SYN can be replayed by anyone on the path (RFC 7413 section 6): only
 * turn it on where acting twice on the first request of a connection is harmless, or where the
 * application waits for the handshake before acting on non-idempotent requests. Needs Linux 3.7+ and the
 * sysctl bit 0x2 ({@code sysctl -w net.ipv4.tcp_fastopen=3}); without them the listener works normally
 * and the returned status says why Fast Open is not active. Listeners behind one address share keys with
 * {@link #setServerKeys(ServerSocketChannel, FastOpenKey, FastOpenKey)}, or follow a key file with
 * {@link FastOpenKeyFileWatcher#addListener(ServerSocketChannel)}.
 *
 * <p><b>Client.</b> {@link #enableClient(SocketChannel)} sets {@code TCP_FASTOPEN_CONNECT} before
 * {@code connect}. Once the kernel holds a cookie for the server, {@code connect} returns at once without
 * sending anything and the first write leaves in the SYN. Needs Linux 4.11+ and the sysctl bit 0x1 (the
 * usual default); without them it returns an inactive status and the connection is a plain one.
 * <b>Trap:</b> if the first operation after such a connect is a read (a server-speaks-first protocol:
 * FTP, SMTP, POP3, IMAP, MySQL), the SYN is never sent and the read waits forever. Call
 * {@link #startHandshake(SocketChannel)} first, or use {@link FastOpenDialer} or
 * {@link FastOpenSocketFactory}, which never fall into it.
 *
 * <p><b>Raw descriptors.</b> The {@link FileDescriptor} overloads are for code that sees the JDK's own
 * descriptors rather than sockets (the tfo4j agent, which stands at the JDK's bind and connect hooks). The
 * descriptor must be open and belong to a TCP socket; reading its number needs
 * {@code --add-exports java.base/sun.nio.ch=...}, and without it they throw
 * {@link UnsupportedOperationException} naming the flag.
 */
public final class FastOpen {
    private FastOpen() {
    }

    /**
     * Turns Fast Open on for a listener.
     *
     * @param listener    an open server channel, bound or not
     * @param queueLength how many Fast Open connections may wait for their handshake to finish (not the
     *                    accept backlog); the kernel caps it at {@code net.core.somaxconn}
     * @return whether the listener now accepts data in the SYN, and if not why not
     * @throws IllegalArgumentException when {@code queueLength} is less than 1
     * @throws SyscallException         when the kernel rejects the option for another reason
     */
    public static FastOpenStatus enableServer(ServerSocketChannel listener, int queueLength) throws IOException {
        requireQueueLength(queueLength);
        String problem = FileDescriptors.channelAccessProblem();
        if (problem != null) {
            return FastOpenStatus.off(problem, "start the JVM with " + FileDescriptors.exportsFlag());
        }
        return enableServer(FileDescriptors.of(listener), queueLength);
    }

    /** Turns Fast Open on for a listener; see {@link #enableServer(ServerSocketChannel, int)}. */
    public static FastOpenStatus enableServer(ServerSocket listener, int queueLength) throws IOException {
        requireQueueLength(queueLength);
        int fd;
        try {
            fd = FileDescriptors.of(listener);
        } catch (UnsupportedOperationException e) {
            return FastOpenStatus.off(e.getMessage(), "start the JVM with " + FileDescriptors.opensFlag()
                    + " " + FileDescriptors.exportsFlag() + ", or use FastOpenServerSocketFactory");
        }
        return enableServer(fd, queueLength);
    }

    /**
     * Turns Fast Open on for the listener behind a raw descriptor; see
     * {@link #enableServer(ServerSocketChannel, int)} and the class documentation on raw descriptors.
     */
    public static FastOpenStatus enableServer(FileDescriptor listener, int queueLength) throws IOException {
        requireQueueLength(queueLength);
        return enableServer(FileDescriptors.of(listener), queueLength);
    }

    private static FastOpenStatus enableServer(int fd, int queueLength) throws SyscallException {
        FastOpenSupport support = FastOpenSupport.forSocket(fd);
        if (support.disabledByProperty() || !support.knows(FastOpenSupport.TcpOption.TCP_FASTOPEN)) {
            return support.server();
        }
        // Set even when the sysctl lacks the server bit: the kernel checks the bit on every SYN, so the
        // listener starts accepting Fast Open as soon as an administrator sets it.
        Linux.setIntOption(fd, Linux.IPPROTO_TCP, Linux.TCP_FASTOPEN, "TCP_FASTOPEN", queueLength);
        return support.server();
    }

    private static void requireQueueLength(int queueLength) {
        if (queueLength < 1) {
            throw new IllegalArgumentException("Fast Open queue length must be at least 1, got " + queueLength
                    + ": it is how many Fast Open connections may wait for their handshake (256 is common)");
        }
    }

    /** Whether a listener accepts data in the SYN now, and if not why not. */
    public static FastOpenStatus serverStatus(ServerSocketChannel listener) throws IOException {
        return serverStatus(FileDescriptors.of(listener));
    }

    /** Whether a listener accepts data in the SYN now, and if not why not. */
    public static FastOpenStatus serverStatus(ServerSocket listener) throws IOException {
        return serverStatus(FileDescriptors.of(listener));
    }

    private static FastOpenStatus serverStatus(int fd) throws SyscallException {
        FastOpenSupport support = FastOpenSupport.forSocket(fd);
        if (support.disabledByProperty() || !support.knows(FastOpenSupport.TcpOption.TCP_FASTOPEN)) {
            return support.server();
        }
        int queueLength = Linux.getIntOption(fd, Linux.IPPROTO_TCP, Linux.TCP_FASTOPEN, "TCP_FASTOPEN");
        boolean allListeners = support.sysctlBits().contains(FastOpenSupport.SysctlBit.SERVER_ALL_LISTENERS);
        if (queueLength == 0 && !allListeners) {
            return FastOpenStatus.off("TCP_FASTOPEN is not set on this listener",
                    "call FastOpen.enableServer(listener, 256)");
        }
        return support.server();
    }

    /**
     * Turns Fast Open on for a client channel. Call it before {@code connect}; see the class documentation
     * for the trap with protocols where the server speaks first.
     *
     * @return whether the connection will try Fast Open, and if not why not
     * @throws IllegalStateException when the channel is already connected or connecting
     * @throws SyscallException      when the kernel rejects the option for a reason other than "off here"
     */
    public static FastOpenStatus enableClient(SocketChannel channel) throws IOException {
        if (channel.isConnected() || channel.isConnectionPending()) {
            throw new IllegalStateException("Fast Open must be enabled before connect(): " + channel);
        }
        String problem = FileDescriptors.channelAccessProblem();
        if (problem != null) {
            return FastOpenStatus.off(problem, "start the JVM with " + FileDescriptors.exportsFlag());
        }
        return enableClient(FileDescriptors.of(channel));
    }

    /** Turns Fast Open on for a client socket before {@code connect}; see {@link #enableClient(SocketChannel)}. */
    public static FastOpenStatus enableClient(Socket socket) throws IOException {
        if (socket.isConnected()) {
            throw new IllegalStateException("Fast Open must be enabled before connect(): " + socket);
        }
        if (socket instanceof FastOpenSocket fastOpenSocket) {
            return fastOpenSocket.enableFastOpen();
        }
        int fd;
        try {
            fd = FileDescriptors.of(socket);
        } catch (UnsupportedOperationException e) {
            return FastOpenStatus.off(e.getMessage(), "start the JVM with " + FileDescriptors.opensFlag()
                    + " " + FileDescriptors.exportsFlag() + ", or use FastOpenSocketFactory");
        }
        return enableClient(fd);
    }

    /**
     * Turns Fast Open on for the unconnected TCP socket behind a raw descriptor; see
     * {@link #enableClient(SocketChannel)} (and its trap) and the class documentation on raw descriptors.
     */
    public static FastOpenStatus enableClient(FileDescriptor socket) throws IOException {
        return enableClient(FileDescriptors.of(socket));
    }

    /**
     * Sets the option straight away and asks the cached probe only when that fails: the common case costs
     * one system call per connection.
     */
    static FastOpenStatus enableClient(int fd) throws SyscallException {
        if (!Linux.available() || Boolean.getBoolean(FastOpenSupport.DISABLE_PROPERTY)) {
            return FastOpenSupport.forSocket(fd).client();
        }
        try {
            Linux.setIntOption(fd, Linux.IPPROTO_TCP, Linux.TCP_FASTOPEN_CONNECT, "TCP_FASTOPEN_CONNECT", 1);
            return FastOpenStatus.on();
        } catch (SyscallException e) {
            if (e.errno() != Errno.EOPNOTSUPP) {
                throw e;
            }
            return refused(fd);
        } catch (UnsupportedOperationException e) {
            return refused(fd);
        }
    }

    /** The kernel refused TCP_FASTOPEN_CONNECT: the probe says why, probed again if it expected success. */
    private static FastOpenStatus refused(int fd) {
        FastOpenSupport support = FastOpenSupport.forSocket(fd);
        if (support.client().active()) {
            // The sysctl changed since it was cached.
            SocketNamespaces.forgetNamespaceOf(fd);
            support = FastOpenSupport.forSocket(fd);
        }
        if (support.client().active()) {
            return FastOpenStatus.off("the kernel refused TCP_FASTOPEN_CONNECT although the probe allows it",
                    "run ./tfo4j probe and compare with the kernel's net.ipv4.tcp_fastopen");
        }
        return support.client();
    }

    /** Whether a client channel has Fast Open switched on, and if not why not. */
    public static FastOpenStatus clientStatus(SocketChannel channel) throws IOException {
        return clientStatus(FileDescriptors.of(channel));
    }

    /** Whether a client socket has Fast Open switched on, and if not why not. */
    public static FastOpenStatus clientStatus(Socket socket) throws IOException {
        return clientStatus(FileDescriptors.of(socket));
    }

    static FastOpenStatus clientStatus(int fd) throws SyscallException {
        FastOpenSupport support = FastOpenSupport.forSocket(fd);
        if (!support.client().active()) {
            return support.client();
        }
        int on = Linux.getIntOption(fd, Linux.IPPROTO_TCP, Linux.TCP_FASTOPEN_CONNECT, "TCP_FASTOPEN_CONNECT");
        return on != 0 ? FastOpenStatus.on() : FastOpenStatus.off("Fast Open was not enabled on this socket",
                "call FastOpen.enableClient before connect, or use FastOpenDialer / FastOpenSocketFactory");
    }

    /**
     * Sends the SYN of a Fast Open connection whose connect was deferred, without data, so that a read can
     * follow (protocols where the server speaks first). Does nothing on a connection whose handshake has
     * already started or finished, or that does not use Fast Open. Never blocks; a blocking read or
     * {@code finishConnect}-style wait afterwards sees the handshake's result.
     */
    public static void startHandshake(SocketChannel channel) throws IOException {
        startHandshake(FileDescriptors.of(channel));
    }

    /** Like {@link #startHandshake(SocketChannel)}, for a socket. */
    public static void startHandshake(Socket socket) throws IOException {
        startHandshake(FileDescriptors.of(socket));
    }

    /** Like {@link #startHandshake(SocketChannel)}, for the socket behind a raw descriptor. */
    public static void startHandshake(FileDescriptor socket) throws IOException {
        startHandshake(FileDescriptors.of(socket));
    }

    static void startHandshake(int fd) throws SyscallException {
        if (TcpInfo.read(fd).state() == TcpState.SYN_SENT) {
            // A zero-length send makes the kernel send the deferred SYN (with the cookie, without data).
            // On a SYN already sent it answers EAGAIN and changes nothing.
            Linux.sendNonBlocking(fd, null, 0, 0);
        }
    }

    /**
     * Gives a listener its own Fast Open keys ({@code TCP_FASTOPEN_KEY}), overriding the namespace's key
     * (the sysctl {@code net.ipv4.tcp_fastopen_key}) for this listener. Works before or after {@code bind}
     * and on a live listener; takes effect for the next SYN. Listeners that must accept each other's cookies
     * (backends behind one address) need the same primary key, or one's primary as the other's backup
     * during a rotation (see {@link FastOpenKeys}). Setting only a primary drops an earlier backup.
     *
     * <p>Kernel: per-listener keys need Linux 4.15+, a backup key 5.2+. No privilege is needed. Fast Open
     * itself must still be on ({@link #enableServer(ServerSocketChannel, int)} and the sysctl bit 0x2).
     *
     * @param backup the backup key, whose cookies are accepted as well, or null
     * @throws SyscallException              when the kernel refuses the keys (EINVAL: a kernel before 5.2
     *                                       given a backup)
     * @throws UnsupportedOperationException when the kernel has no {@code TCP_FASTOPEN_KEY} (before 4.15), or
     *                                       a JVM flag to reach the descriptor is missing
     */
    public static void setServerKeys(ServerSocketChannel listener, FastOpenKey primary, FastOpenKey backup)
            throws IOException {
        setServerKeys(FileDescriptors.of(listener), new FastOpenKeys(primary, backup));
    }

    /** Gives a listener its own Fast Open keys; see {@link #setServerKeys(ServerSocketChannel, FastOpenKey, FastOpenKey)}. */
    public static void setServerKeys(ServerSocket listener, FastOpenKey primary, FastOpenKey backup)
            throws IOException {
        setServerKeys(FileDescriptors.of(listener), new FastOpenKeys(primary, backup));
    }

    /**
     * Gives the listener behind a raw descriptor its own Fast Open keys; see
     * {@link #setServerKeys(ServerSocketChannel, FastOpenKey, FastOpenKey)} and the class documentation on
     * raw descriptors.
     */
    public static void setServerKeys(FileDescriptor listener, FastOpenKey primary, FastOpenKey backup)
            throws IOException {
        setServerKeys(FileDescriptors.of(listener), new FastOpenKeys(primary, backup));
    }

    static void setServerKeys(int fd, FastOpenKeys keys) throws SyscallException {
        setServerKeyBytes(fd, keys.optionBytes());
    }

    /** The raw option: the kernel takes 16 or 32 bytes and answers EINVAL to any other length. */
    static void setServerKeyBytes(int fd, byte[] value) throws SyscallException {
        Linux.setBytesOption(fd, Linux.IPPROTO_TCP, Linux.TCP_FASTOPEN_KEY, "TCP_FASTOPEN_KEY", value);
    }

    /**
     * The listener's own Fast Open keys, read back with {@code getsockopt(TCP_FASTOPEN_KEY)}; empty when the
     * listener has none of its own (it then uses the namespace's key, which this does not report).
     * Kernel: Linux 4.15+ (5.2+ to see a backup).
     */
    public static Optional<FastOpenKeys> serverKeys(ServerSocketChannel listener) throws IOException {
        return serverKeys(FileDescriptors.of(listener));
    }

    /** The listener's own Fast Open keys; see {@link #serverKeys(ServerSocketChannel)}. */
    public static Optional<FastOpenKeys> serverKeys(ServerSocket listener) throws IOException {
        return serverKeys(FileDescriptors.of(listener));
    }

    static Optional<FastOpenKeys> serverKeys(int fd) throws SyscallException {
        byte[] value = Linux.getBytesOption(fd, Linux.IPPROTO_TCP, Linux.TCP_FASTOPEN_KEY, "TCP_FASTOPEN_KEY",
                2 * FastOpenKey.LENGTH);
        return switch (value.length) {
            case 0 -> Optional.empty();
            case FastOpenKey.LENGTH -> Optional.of(new FastOpenKeys(FastOpenKey.ofBytes(value), null));
            case 2 * FastOpenKey.LENGTH -> Optional.of(new FastOpenKeys(
                    FastOpenKey.ofBytes(Arrays.copyOfRange(value, 0, FastOpenKey.LENGTH)),
                    FastOpenKey.ofBytes(Arrays.copyOfRange(value, FastOpenKey.LENGTH, 2 * FastOpenKey.LENGTH))));
            default -> throw new IllegalStateException("getsockopt(TCP_FASTOPEN_KEY) returned " + value.length
                    + " bytes; the kernel returns 0, 16 or 32");
        };
    }

    /**
     * Trusted no-cookie mode for a listener ({@code TCP_FASTOPEN_NO_COOKIE}): accepts data in a SYN that
     * carries no cookie, so even a client's first connection takes one round trip. <b>It gives up Fast
     * Open's only protection</b>: anyone who can reach the port makes the server act on SYN data without
     * ever proving their address (spoofed sources, amplified work). Only for networks where every source
     * address can be trusted, such as inside one data centre. Set it in CLOSE or LISTEN state.
     *
     * <p>Kernel: Linux 4.15+; no privilege. The client must also send data without a cookie (its own
     * {@link #setNoCookie(SocketChannel, boolean)}, the sysctl bit 0x4, or the route attribute
     * {@code fastopen_no_cookie 1}); the server side can also be turned on with the sysctl bit 0x200.
     */
    public static void setNoCookie(ServerSocketChannel listener, boolean on) throws IOException {
        setNoCookie(FileDescriptors.of(listener), on);
    }

    /** Trusted no-cookie mode for a listener; see {@link #setNoCookie(ServerSocketChannel, boolean)}. */
    public static void setNoCookie(ServerSocket listener, boolean on) throws IOException {
        setNoCookie(FileDescriptors.of(listener), on);
    }

    /**
     * Trusted no-cookie mode for a client ({@code TCP_FASTOPEN_NO_COOKIE}): the first connection sends its
     * data in the SYN without a cookie. Call it before {@code connect}, with Fast Open enabled; the server
     * must accept data without a cookie (see {@link #setNoCookie(ServerSocketChannel, boolean)} and what it
     * gives up), or it discards the data and the client sends it again after the handshake.
     *
     * @throws SyscallException EINVAL when the socket is already connected or connecting
     */
    public static void setNoCookie(SocketChannel channel, boolean on) throws IOException {
        setNoCookie(FileDescriptors.of(channel), on);
    }

    /** Trusted no-cookie mode for a client socket; see {@link #setNoCookie(SocketChannel, boolean)}. */
    public static void setNoCookie(Socket socket, boolean on) throws IOException {
        setNoCookie(FileDescriptors.of(socket), on);
    }

    static void setNoCookie(int fd, boolean on) throws SyscallException {
        Linux.setIntOption(fd, Linux.IPPROTO_TCP, Linux.TCP_FASTOPEN_NO_COOKIE, "TCP_FASTOPEN_NO_COOKIE", on ? 1 : 0);
    }
}
