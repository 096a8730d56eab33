package io.tfo4j;

/**
 * Whether Fast Open is on, and if not, why not and what to do about it: for one side of this host
 * ({@link FastOpenSupport#client()}, {@link FastOpenSupport#server()}) or for one socket (what the methods
 * of {@link FastOpen} return).
 *
 * <p>On needs Linux and, for a client, kernel 4.11+ with {@code net.ipv4.tcp_fastopen} bit 0x1; for a
 * listener, kernel 3.7+ with bit 0x2. Without them the status is off, sockets work as plain TCP sockets,
 * and {@link #reason()} and {@link #remedy()} say why and what to do.
 *
 * @param active true when Fast Open is on: a client's first write rides in the SYN once a cookie is
 *               cached; a listener accepts data in the SYN
 * @param reason why it is off, or empty when it is on
 * @param remedy what would turn it on (a command or a JVM flag), or empty
 */
public record FastOpenStatus(boolean active, String reason, String remedy) {
    static FastOpenStatus on() {
        return new FastOpenStatus(true, "", "");
    }

    static FastOpenStatus off(String reason, String remedy) {
        return new FastOpenStatus(false, reason, remedy);
    }
}
