package io.tfo4j.agent.jdk25;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;

/**
 * What a connection's first write is, as far as {@code early=safe} cares: an HTTP/1.x request whose method
 * is not safe (anything but GET, HEAD, OPTIONS and TRACE) must not ride in the SYN, because SYN data can be
 * replayed; everything else may (safe requests, a TLS ClientHello, a database handshake, any other bytes).
 * The same rule as {@code tfo4j get}: PUT and DELETE are idempotent but not safe, and wait too.
 */
final class FirstWrite {
    /** How many bytes of a first write are looked at: enough for any method and a request target's start. */
    static final int PEEK_BYTES = 32;

    private static final Set<String> SAFE_METHODS = Set.of("GET", "HEAD", "OPTIONS", "TRACE");
    private static final int LONGEST_METHOD = 16;

    private FirstWrite() {
    }

    /**
     * True when {@code head} (the first {@code length} bytes of a first write) starts an HTTP request line
     * with a method that is not safe: a token of capital letters or dashes, one space, then a request target
     * ({@code /}, {@code *}, or an absolute {@code http://} or {@code https://} URI, as sent to a proxy). Other
     * protocols' first lines ({@code HELO example.com}, a Redis {@code SET key value}) are not requests. HTTP/2's prior-knowledge preface ({@code PRI *})
     * counts too, and waits. Bytes that end before the method does are not taken for a request.
     */
    static boolean isUnsafeHttpRequest(byte[] head, int length) {
        int space = -1;
        for (int i = 0; i < Math.min(length, LONGEST_METHOD + 1); i++) {
            byte b = head[i];
            if (b == ' ') {
                space = i;
                break;
            }
            if (!((b >= 'A' && b <= 'Z') || b == '-')) {
                return false;
            }
        }
        if (space <= 0) {
            return false;
        }
        String method = new String(head, 0, space, StandardCharsets.US_ASCII);
        if (SAFE_METHODS.contains(method)) {
            return false;
        }
        if (space + 1 >= length) {
            // The write ends after the method: a request line written in pieces.
            return true;
        }
        byte target = head[space + 1];
        if (target == '/' || target == '*') {
            return true;
        }
        String rest = new String(head, space + 1, length - space - 1, StandardCharsets.US_ASCII).toLowerCase(Locale.ROOT);
        return rest.startsWith("http://") || rest.startsWith("https://");
    }
}
