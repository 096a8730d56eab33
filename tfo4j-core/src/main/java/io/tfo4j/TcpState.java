package io.tfo4j;

/**
 * The kernel's TCP connection state ({@code tcpi_state} in {@code struct tcp_info}), as {@link TcpInfo}
 * reads it. Linux only (any kernel with TCP_INFO); needs no sysctl bit.
 */
public enum TcpState {
    ESTABLISHED(1),
    SYN_SENT(2),
    SYN_RECV(3),
    FIN_WAIT1(4),
    FIN_WAIT2(5),
    TIME_WAIT(6),
    CLOSE(7),
    CLOSE_WAIT(8),
    LAST_ACK(9),
    LISTEN(10),
    CLOSING(11),
    NEW_SYN_RECV(12),
    /** A value this version of tfo4j does not know. */
    UNKNOWN(-1);

    private final int code;

    TcpState(int code) {
        this.code = code;
    }

    /** The kernel's number for this state. */
    public int code() {
        return code;
    }

    static TcpState of(int code) {
        for (TcpState state : values()) {
            if (state.code == code) {
                return state;
            }
        }
        return UNKNOWN;
    }
}
