package io.tfo4j;

import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;

/**
 * Finishes a connect that Fast Open deferred. With a cookie cached, {@code connect} returns at once and
 * sends nothing; the SYN leaves with the first send. These helpers send that SYN without blocking and then
 * wait for the handshake with the caller's connect timeout, so a refused or silent server gives the same
 * {@link ConnectException} or {@link SocketTimeoutException} a plain connect would, never a hang.
 */
final class DeferredConnect {
    private DeferredConnect() {
    }

    /**
     * Sends as much of {@code data} as fits in the SYN, waits for the handshake, and returns how many bytes
     * were sent; the caller writes the rest.
     */
    static int sendInSyn(int fd, byte[] data, int offset, int length, SocketAddress remote, long timeoutMillis)
            throws IOException {
        int sent = sendSyn(fd, data, offset, length, remote);
        awaitHandshake(fd, remote, timeoutMillis);
        return sent;
    }

    /** Sends the deferred SYN with as much of {@code data} as fits, without blocking; returns the bytes sent. */
    static int sendSyn(int fd, byte[] data, int offset, int length, SocketAddress remote) throws IOException {
        try {
            return (int) Math.max(0, Linux.sendNonBlocking(fd, data, offset, length));
        } catch (SyscallException e) {
            throw connectFailed(remote, e.errno(), e);
        }
    }

    /** Waits until the SYN already sent is answered; a refusal or silence becomes a connect failure. */
    static void awaitHandshake(int fd, SocketAddress remote, long timeoutMillis) throws IOException {
        if (!Linux.awaitWritable(fd, timeoutMillis <= 0 ? -1 : timeoutMillis)) {
            throw new SocketTimeoutException("Fast Open connect to " + remote + " timed out after "
                    + timeoutMillis + " ms");
        }
        int error = Linux.getIntOption(fd, Linux.SOL_SOCKET, Linux.SO_ERROR, "SO_ERROR");
        if (error != 0) {
            throw connectFailed(remote, error, null);
        }
    }

    private static ConnectException connectFailed(SocketAddress remote, int errno, Throwable cause) {
        ConnectException e = new ConnectException(Errno.text(errno) + " (" + Errno.name(errno)
                + "): Fast Open connect to " + remote);
        if (cause != null) {
            e.initCause(cause);
        }
        return e;
    }
}
