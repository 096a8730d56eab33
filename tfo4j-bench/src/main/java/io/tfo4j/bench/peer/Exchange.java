package io.tfo4j.bench.peer;

/**
 * One request on a new connection, as a peer client saw it.
 *
 * @param status     the response's status code
 * @param bytes      body bytes received
 * @param ttfbNanos  time to first byte; each client says from when to when
 * @param fastOpen   whether the connection was opened with Fast Open (the request offered in the SYN)
 * @param synData    whether the server acknowledged data in the SYN ({@code TCPI_OPT_SYN_DATA})
 * @param localPort  the client's port, or -1 when the client does not tell
 */
record Exchange(int status, long bytes, long ttfbNanos, boolean fastOpen, boolean synData, int localPort) {
}
