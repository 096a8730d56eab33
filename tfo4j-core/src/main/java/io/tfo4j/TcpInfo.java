package io.tfo4j;

import java.io.FileDescriptor;
import java.io.IOException;
import java.net.Socket;
import java.nio.channels.SocketChannel;

/**
 * The part of the kernel's {@code struct tcp_info} that tells what Fast Open did on one connection, read
 * with {@code getsockopt(IPPROTO_TCP, TCP_INFO)}.
 *
 * <p>Kernel: Linux. {@code TCPI_OPT_SYN_DATA} exists since 3.7, {@code tcpi_fastopen_client_fail} since 5.5
 * (older kernels report 0), {@code TCPI_OPT_TFO_CHILD} on kernels from 2024 on (older ones never set it). Not on
 * Linux, or without the JVM flags described in the module documentation, {@code of} throws
 * {@link UnsupportedOperationException} saying why.
 *
 * @param state              the connection state
 * @param options            {@code tcpi_options}: the {@code TCPI_OPT_*} bits
 * @param fastOpenClientFail {@code tcpi_fastopen_client_fail}: 0 none, 1 no cookie cached, 2 SYN data not
 *                           acknowledged, 3 SYN retransmitted
 * @param rttMicros          smoothed round-trip time in microseconds (0 before the first sample)
 * @param sndMss             sender maximum segment size in bytes
 * @param totalRetrans       segments retransmitted over the connection's life
 */
public record TcpInfo(TcpState state, int options, int fastOpenClientFail, int rttMicros, int sndMss,
                      int totalRetrans) {

    /** {@code TCPI_OPT_SYN_DATA}: client: the SYN's data was acknowledged; server: the SYN carried data. */
    public static final int OPT_SYN_DATA = 0x20;
    /** {@code TCPI_OPT_TFO_CHILD}: server: this connection was accepted through Fast Open. */
    public static final int OPT_TFO_CHILD = 0x80;

    private static final int STRUCT_BYTES = 104;

    /** Reads TCP_INFO of a connected (or connecting) channel. */
    public static TcpInfo of(SocketChannel channel) throws IOException {
        return read(FileDescriptors.of(channel));
    }

    /** Reads TCP_INFO of a socket (a plain {@code java.net.Socket} needs the {@code --add-opens} flag). */
    public static TcpInfo of(Socket socket) throws IOException {
        return read(FileDescriptors.of(socket));
    }

    /** Reads TCP_INFO of the TCP socket behind a raw descriptor (see {@link FastOpen} on raw descriptors). */
    public static TcpInfo of(FileDescriptor socket) throws IOException {
        return read(FileDescriptors.of(socket));
    }

    static TcpInfo read(int fd) throws SyscallException {
        byte[] raw = Linux.getBytesOption(fd, Linux.IPPROTO_TCP, Linux.TCP_INFO, "TCP_INFO", STRUCT_BYTES);
        return parse(raw);
    }

    static TcpInfo parse(byte[] raw) {
        if (raw.length < 8) {
            throw new IllegalArgumentException("TCP_INFO returned " + raw.length + " bytes, expected at least 8");
        }
        return new TcpInfo(
                TcpState.of(raw[0] & 0xff),
                raw[5] & 0xff,
                (raw[7] >> 1) & 0x3,
                u32(raw, 68),
                u32(raw, 16),
                u32(raw, 100));
    }

    private static int u32(byte[] raw, int offset) {
        if (raw.length < offset + 4) {
            return 0;
        }
        return (raw[offset] & 0xff) | (raw[offset + 1] & 0xff) << 8
                | (raw[offset + 2] & 0xff) << 16 | (raw[offset + 3] & 0xff) << 24;
    }

    /** Client: the data in the SYN was acknowledged. Server: the SYN carried data. */
    public boolean synData() {
        return (options & OPT_SYN_DATA) != 0;
    }

    /** Server: the connection was created by a Fast Open SYN (kernels from 2024 on report this; older ones never do). */
    public boolean fastOpenChild() {
        return (options & OPT_TFO_CHILD) != 0;
    }
}
