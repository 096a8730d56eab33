package io.tfo4j.bench.peer;

/**
 * One request on a new connection, as a peer client saw it.
 *
 * @param status            the response's status code
 * @param bytes             body bytes received
 * @param ttfbNanos         time to first byte; each client says from when to when
 * @param fastOpen          whether the connection was opened with Fast Open (the request offered in the SYN)
 * @param synData           whether the server acknowledged data in the SYN ({@code TCPI_OPT_SYN_DATA})
 * @param localPort         the client's port, or -1 when the client does not tell
 * @param tls               the TLS protocol of the connection ({@code TLSv1.3}), or null over plain HTTP
 * @param tlsHandshakeNanos how long the TLS handshake took, from its start (the SYN, with Fast Open); 0 without TLS
 */
record Exchange(int status, long bytes, long ttfbNanos, boolean fastOpen, boolean synData, int localPort, String tls,
                long tlsHandshakeNanos) {

    /** A request over plain HTTP. */
    Exchange(int status, long bytes, long ttfbNanos, boolean fastOpen, boolean synData, int localPort) {
        this(status, bytes, ttfbNanos, fastOpen, synData, localPort, null, 0);
    }
}
