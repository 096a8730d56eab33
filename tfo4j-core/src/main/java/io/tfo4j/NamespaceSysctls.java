package io.tfo4j;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * The Fast Open sysctls of one network namespace, as the calling thread reads them from {@code /proc/sys}
 * (which shows the namespace of the thread that opens the file).
 *
 * @param tcpFastopen             {@code net.ipv4.tcp_fastopen}, or null when unreadable
 * @param blackholeTimeoutSeconds {@code net.ipv4.tcp_fastopen_blackhole_timeout_sec}, or null
 */
record NamespaceSysctls(Integer tcpFastopen, Integer blackholeTimeoutSeconds) {
    static final String TCP_FASTOPEN = "/proc/sys/net/ipv4/tcp_fastopen";
    private static final String BLACKHOLE = "/proc/sys/net/ipv4/tcp_fastopen_blackhole_timeout_sec";

    /** The sysctls of the calling thread's namespace; both null off Linux. */
    static NamespaceSysctls read() {
        return new NamespaceSysctls(readInt(TCP_FASTOPEN), readInt(BLACKHOLE));
    }

    /**
     * One read into a buffer larger than any integer sysctl. Files.readString is wrong here: for a file of
     * size 0 it reads one byte first, and /proc/sys answers a read at offset 1 with end of file, so "1027"
     * reads as "1". readAllBytes is right but costs twice as much (it asks for the size and position first).
     */
    private static Integer readInt(String path) {
        try (InputStream in = new FileInputStream(path)) {
            byte[] value = new byte[32];
            int length = in.read(value);
            return Integer.parseInt(new String(value, 0, Math.max(0, length), StandardCharsets.US_ASCII).trim());
        } catch (IOException | NumberFormatException e) {
            return null;
        }
    }
}
