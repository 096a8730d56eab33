package io.tfo4j.http;

/**
 * What a server does with a request that is not idempotent (POST, PATCH, CONNECT or a method it does not
 * know) when it arrived in the data of a Fast Open SYN and the client has not yet completed the three-way
 * handshake.
 *
 * <p>Why it matters (RFC 7413 section 6): the cookie in a Fast Open SYN binds only the two IP addresses,
 * not the ports, so anyone who saw the SYN can send it again from another source port, and the server
 * accepts the copy as a new connection with the same data. A request that runs from the SYN data before
 * the handshake completes can therefore run twice. Once the client's final ACK has arrived, the client
 * has proven that it saw the server's SYN-ACK, and the request is no longer a possible replay: a replayed
 * SYN's SYN-ACK goes to a port where no connection waits, and that host answers with a reset.
 *
 * <p>Safe and idempotent methods (GET, HEAD, OPTIONS, TRACE, PUT, DELETE) are not affected: running them
 * twice has the effect of running them once.
 */
public enum EarlyDataPolicy {
    /**
     * Hold the request until the handshake has completed, then run it; if the connection is reset or the
     * handshake does not complete in time, drop the request and close the connection without an answer.
     * The default: a genuine client pays at most the round trip it would have paid without Fast Open.
     */
    WAIT,
    /**
     * Answer {@code 425 Too Early} (RFC 8470) at once, without running the request. A client that follows
     * RFC 8470 sends it again on a connection whose handshake has completed.
     */
    REJECT,
    /**
     * Run the request at once, like a server that knows nothing of Fast Open. Only for handlers that are
     * safe to run twice: a replayed SYN runs the request again.
     */
    ALLOW
}
