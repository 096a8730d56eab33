package io.tfo4j.lab;

/**
 * A middlebox fault a {@link WanLab} link can have. Each acts on the packets between the client and the
 * server host, in user space on the delay line, so the kernels at both ends see what a real path with such
 * a box would give them.
 */
public enum Fault {
    /**
     * Drops every SYN that carries data on its way to the server, as some firewalls do. Linux then
     * retransmits the SYN without data or cookie after its SYN timeout (about 1 s) and sends the data after
     * the handshake: nothing is lost, one timeout is paid, and the client's TCP_INFO says the SYN was
     * retransmitted.
     */
    DROP_SYN_DATA,
    /**
     * Overwrites the Fast Open option with NOPs in every packet, both ways, as a middlebox that removes
     * options it does not know. The client never receives a cookie, so it keeps asking for one and its data
     * goes after the handshake: plain TCP.
     */
    STRIP_FAST_OPEN_OPTION,
    /**
     * Delivers every SYN that carries data twice, the copy from another source port, as an attacker on the
     * path who replays it (RFC 7413 section 6). The server's kernel accepts the copy as a second connection
     * with the same data; its SYN-ACK goes to a port where the client has no socket, and the client's kernel
     * answers with a reset.
     */
    REPLAY_SYN_DATA
}
