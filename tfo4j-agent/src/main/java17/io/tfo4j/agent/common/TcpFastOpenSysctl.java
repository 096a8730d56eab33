package io.tfo4j.agent.common;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * {@code net.ipv4.tcp_fastopen} of the calling thread's network namespace, for the listener-only agent,
 * which cannot load tfo4j-core (built for Java 25) to ask its {@code FastOpenSupport}.
 *
 * @param value the sysctl, or -1 when it cannot be read (not Linux, /proc not mounted)
 */
public record TcpFastOpenSysctl(int value) {
    private static final String PATH = "/proc/sys/net/ipv4/tcp_fastopen";
    private static final int SERVER = 0x2;

    /** Reads it now. One large read: /proc/sys answers a read at an offset with end of file. */
    public static TcpFastOpenSysctl read() {
        try (InputStream in = new FileInputStream(PATH)) {
            return new TcpFastOpenSysctl(Integer.parseInt(new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim()));
        } catch (IOException | NumberFormatException e) {
            return new TcpFastOpenSysctl(-1);
        }
    }

    /** True when listeners that set TCP_FASTOPEN accept data in the SYN. */
    public boolean serverEnabled() {
        return value >= 0 && (value & SERVER) != 0;
    }

    /** Why listeners do plain handshakes. */
    public String serverProblem() {
        if (value < 0) {
            return PATH + " cannot be read, so the agent cannot tell whether the kernel accepts Fast Open";
        }
        return "net.ipv4.tcp_fastopen=" + value + " lacks the server bit 0x2, so the listener does plain handshakes"
                + " (TCP_FASTOPEN is set, and takes effect as soon as the bit is)";
    }

    /** What to do about it. */
    public String serverRemedy() {
        return value < 0 ? "" : "as root, in this network namespace: sysctl -w net.ipv4.tcp_fastopen=" + (value | 0x3);
    }
}
