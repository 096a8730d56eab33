package io.tfo4j;

/**
 * Whether Fast Open is switched on for one socket, and if not, why not.
 *
 * <p>Active needs Linux and, for a client, kernel 4.11+ with {@code net.ipv4.tcp_fastopen} bit 0x1; for a
 * listener, kernel 3.7+ with bit 0x2. Without them the status is inactive, the socket works as a plain TCP
 * socket, and {@link #reason()} and {@link #remedy()} say why and what to do.
 *
 * @param active true when the socket will use Fast Open (client: data of the first write rides in the SYN
 *               once a cookie is cached; server: the listener accepts data in the SYN)
 * @param reason why it is not active, or empty when it is
 * @param remedy what would make it active (a command or a JVM flag), or empty
 */
public record FastOpenStatus(boolean active, String reason, String remedy) {
    static FastOpenStatus on() {
        return new FastOpenStatus(true, "", "");
    }

    static FastOpenStatus off(String reason, String remedy) {
        return new FastOpenStatus(false, reason, remedy);
    }

    static FastOpenStatus off(FastOpenSupport.Verdict verdict) {
        return new FastOpenStatus(false, verdict.reason(), verdict.remedy());
    }
}
