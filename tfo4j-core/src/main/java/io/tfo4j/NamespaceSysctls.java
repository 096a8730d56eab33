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
     * Files.readString is wrong here: for a file of size 0 it reads one byte first, and /proc/sys answers a
     * read at offset 1 with end of file, so "1027" reads as "1". One large read gets the whole value.
     */
    private static Integer readInt(String path) {
        try (InputStream in = new FileInputStream(path)) {
            return Integer.parseInt(new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim());
        } catch (IOException | NumberFormatException e) {
            return null;
        }
    }
}
