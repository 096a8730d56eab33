package io.tfo4j.bench.peer;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;

/** Netty's native epoll transport, the one that exposes TCP Fast Open, or a clear error where it is missing. */
final class EpollTransport {
    /** {@code tcpi_options} bit: the SYN's data was acknowledged (Linux {@code TCPI_OPT_SYN_DATA}). */
    static final int TCPI_OPT_SYN_DATA = 0x20;

    private EpollTransport() {
    }

    /** A group of {@code threads} epoll event loops. */
    static EventLoopGroup newGroup(int threads) {
        if (!Epoll.isAvailable()) {
            Throwable cause = Epoll.unavailabilityCause();
            throw new IllegalStateException("Netty's native epoll transport is unavailable (it needs Linux on x86_64): "
                    + (cause == null ? "unknown cause" : cause.getMessage()), cause);
        }
        return new MultiThreadIoEventLoopGroup(threads, EpollIoHandler.newFactory());
    }
}
