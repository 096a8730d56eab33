package io.tfo4j;

import java.io.Serial;
import java.net.SocketException;

/**
 * A socket system call that failed. The message names the call, the socket option (when there is one),
 * the errno name and number and the C library's text, for example
 * {@code setsockopt(TCP_FASTOPEN_CONNECT) failed: EINVAL (22): Invalid argument}.
 *
 * <p>Only thrown on Linux, where tfo4j makes system calls; elsewhere Fast Open is simply off. A kernel that
 * does not know an option (ENOPROTOOPT, for example {@code TCP_FASTOPEN_CONNECT} before 4.11) is reported as an
 * {@link UnsupportedOperationException} with this exception as its cause, not as this exception.
 */
public final class SyscallException extends SocketException {
    @Serial
    private static final long serialVersionUID = 1L;

    private final String call;
    private final String option;
    private final int errno;

    SyscallException(String call, String option, int errno) {
        super(call + (option == null ? "" : "(" + option + ")") + " failed: "
                + Errno.name(errno) + " (" + errno + "): " + Errno.text(errno));
        this.call = call;
        this.option = option;
        this.errno = errno;
    }

    /** The C function that failed, such as {@code setsockopt}. */
    public String call() {
        return call;
    }

    /** The socket option involved, such as {@code TCP_FASTOPEN}, or null when the call takes none. */
    public String option() {
        return option;
    }

    /** The errno value, such as 95. */
    public int errno() {
        return errno;
    }

    /** The errno's symbolic name, such as {@code EOPNOTSUPP}. */
    public String errnoName() {
        return Errno.name(errno);
    }
}
