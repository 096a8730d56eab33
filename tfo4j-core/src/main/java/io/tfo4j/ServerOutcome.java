package io.tfo4j;

import java.io.FileDescriptor;
import java.io.IOException;
import java.net.Socket;
import java.nio.channels.SocketChannel;

/**
 * How one accepted connection came in, from the kernel's TCP_INFO: whether it was created by a Fast
 * Open SYN, whether that SYN carried data, and whether the three-way handshake has completed.
 *
 * <p>A Fast Open connection can be accepted, and its SYN data read, <em>before</em> the handshake
 * completes ({@link TcpState#SYN_RECV}): the client's address is then not yet proven, and the data may be a
 * replay. Kernel: Linux 3.7+; {@code TCPI_OPT_TFO_CHILD} (a Fast Open child whose SYN had no data) is
 * reported by kernels from 2024 on; before that {@link #fastOpenChild()} is true only when the SYN had data.
 *
 * @param fastOpenChild true when the connection was created by a SYN with a valid Fast Open cookie
 * @param synData       true when the SYN carried data that the server accepted
 * @param state         the connection's state when read
 * @param tcpInfo       the raw TCP_INFO it was read from
 */
public record ServerOutcome(boolean fastOpenChild, boolean synData, TcpState state, TcpInfo tcpInfo) {

    /** Reads the outcome of an accepted channel. */
    public static ServerOutcome of(SocketChannel accepted) throws IOException {
        return read(FileDescriptors.of(accepted));
    }

    /** Reads the outcome of an accepted socket. */
    public static ServerOutcome of(Socket accepted) throws IOException {
        return read(FileDescriptors.of(accepted));
    }

    /** Reads the outcome of the accepted socket behind a raw descriptor (see {@link FastOpen} on raw descriptors). */
    public static ServerOutcome of(FileDescriptor socket) throws IOException {
        return read(FileDescriptors.of(socket));
    }

    static ServerOutcome read(int fd) throws SyscallException {
        TcpInfo info = TcpInfo.read(fd);
        return new ServerOutcome(info.fastOpenChild() || info.synData(), info.synData(), info.state(), info);
    }

    /** False while a Fast Open connection still waits for the client's final ACK. */
    public boolean handshakeComplete() {
        return state != TcpState.SYN_RECV && state != TcpState.NEW_SYN_RECV;
    }
}
