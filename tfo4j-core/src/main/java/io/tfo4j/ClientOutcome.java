package io.tfo4j;

import java.io.FileDescriptor;
import java.io.IOException;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import javax.net.ssl.SSLSocket;

/**
 * What Fast Open did for one client connection, from the kernel's TCP_INFO. Read it after the first
 * reply arrived (before that the handshake may still be under way).
 *
 * <p>Kernel: Linux; the failure kinds ({@link Result#COOKIE_REQUESTED}, {@link Result#DATA_NOT_ACKED},
 * {@link Result#SYN_RETRANSMITTED}) need 5.5+, older kernels report them as {@link Result#NOT_ATTEMPTED}.
 *
 * @param result  what happened
 * @param reason  a sentence explaining {@code result}
 * @param tcpInfo the raw TCP_INFO it was read from
 */
public record ClientOutcome(Result result, String reason, TcpInfo tcpInfo) {

    /** What Fast Open did for a client connection. */
    public enum Result {
        /** The data in the SYN was acknowledged by the server: the request saved a round trip. */
        SYN_DATA_ACKED,
        /** No cookie was cached for this server, so the SYN asked for one and carried no data. */
        COOKIE_REQUESTED,
        /** The SYN carried data with a cookie but the server did not acknowledge it; it was sent again. */
        DATA_NOT_ACKED,
        /** The SYN with data was retransmitted (lost, or dropped by a middlebox); data went after the handshake. */
        SYN_RETRANSMITTED,
        /** Fast Open is on and the connect was deferred: the SYN leaves with the first write. */
        PENDING,
        /** Fast Open was not tried on this connection; {@link #reason()} says why. */
        NOT_ATTEMPTED
    }

    /** Reads the outcome of a client channel. */
    public static ClientOutcome of(SocketChannel channel) throws IOException {
        return read(FileDescriptors.of(channel));
    }

    /**
     * Reads the outcome of a client socket. For TLS, pass the {@code SSLSocket} itself when it is layered on
     * a {@link FastOpenSocketFactory} socket (what OkHttp, Apache HttpClient and
     * {@code SSLSocketFactory.createSocket(socket, host, port, autoClose)} make): the outcome is the socket
     * under it, whose SYN carried the TLS ClientHello. Read it after the TLS handshake.
     *
     * @throws UnsupportedOperationException for an {@code SSLSocket} layered on another kind of socket
     *                                       (read the outcome from that socket), or when a JVM flag is missing
     */
    public static ClientOutcome of(Socket socket) throws IOException {
        Socket transport = socket instanceof SSLSocket ? LayeredSockets.transportOf(socket) : socket;
        ClientOutcome outcome = read(FileDescriptors.of(transport == null ? socket : transport));
        if (outcome.result == Result.NOT_ATTEMPTED && transport instanceof FastOpenSocket fastOpen
                && fastOpen.expiredFirstWriteWindow() != null) {
            return new ClientOutcome(Result.NOT_ATTEMPTED, "the first write came more than the first-write window ("
                    + fastOpen.expiredFirstWriteWindow().toMillis() + " ms) after connect, so the SYN left without data;"
                    + " a client that takes longer to write first (TLS in a cold JVM) needs a longer window:"
                    + " new FastOpenSocketFactory(true, Duration.ofMillis(...))", outcome.tcpInfo);
        }
        return outcome;
    }

    /** Reads the outcome of the client socket behind a raw descriptor (see {@link FastOpen} on raw descriptors). */
    public static ClientOutcome of(FileDescriptor socket) throws IOException {
        return read(FileDescriptors.of(socket));
    }

    static ClientOutcome read(int fd) throws SyscallException {
        TcpInfo info = TcpInfo.read(fd);
        if (info.synData()) {
            return new ClientOutcome(Result.SYN_DATA_ACKED, "the server acknowledged the data in the SYN", info);
        }
        switch (info.fastOpenClientFail()) {
            case 1:
                return new ClientOutcome(Result.COOKIE_REQUESTED, "no Fast Open cookie was cached for this server,"
                        + " so the SYN asked for one (a server without Fast Open never sends one)", info);
            case 2:
                return new ClientOutcome(Result.DATA_NOT_ACKED, "the server acknowledged the SYN but not its data"
                        + " (its Fast Open queue was full, it did not accept the cookie: another server behind the"
                        + " same address or a changed key, or it no longer has Fast Open on); the data was sent again"
                        + " after the handshake", info);
            case 3:
                return new ClientOutcome(Result.SYN_RETRANSMITTED, "the SYN with data was retransmitted"
                        + " (lost, or dropped by a middlebox); the data was sent after the handshake", info);
            default:
                break;
        }
        FastOpenStatus status = FastOpen.clientStatus(fd);
        if (!status.active()) {
            return new ClientOutcome(Result.NOT_ATTEMPTED, status.reason(), info);
        }
        if (info.state() == TcpState.SYN_SENT) {
            return new ClientOutcome(Result.PENDING, "the connect was deferred: the SYN leaves with the first write",
                    info);
        }
        return new ClientOutcome(Result.NOT_ATTEMPTED, "the SYN carried no data: the first operation after"
                + " connect was a read, or the kernel's blackhole detection paused Fast Open", info);
    }

    /** True when the data in the SYN was acknowledged. */
    public boolean synDataAcked() {
        return result == Result.SYN_DATA_ACKED;
    }

    /**
     * True when a Fast Open SYN has left: it asked for a cookie or carried data, whatever became of it.
     * False for {@link Result#PENDING} (the SYN has not left yet) and {@link Result#NOT_ATTEMPTED}.
     */
    public boolean attempted() {
        return result != Result.NOT_ATTEMPTED && result != Result.PENDING;
    }
}
