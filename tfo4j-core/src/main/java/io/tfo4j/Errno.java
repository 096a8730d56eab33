package io.tfo4j;

import java.util.Map;

/** Linux errno values that socket calls return, with their symbolic names and C library texts. */
final class Errno {
    static final int EPERM = 1;
    static final int EINTR = 4;
    static final int EBADF = 9;
    static final int EAGAIN = 11;
    static final int EINVAL = 22;
    static final int EPIPE = 32;
    static final int ENOPROTOOPT = 92;
    static final int EOPNOTSUPP = 95;
    static final int ECONNRESET = 104;
    static final int ENOTCONN = 107;
    static final int ETIMEDOUT = 110;
    static final int ECONNREFUSED = 111;
    static final int EHOSTUNREACH = 113;
    static final int EALREADY = 114;
    static final int EINPROGRESS = 115;

    private record Entry(String name, String text) {
    }

    private static final Map<Integer, Entry> ENTRIES = Map.ofEntries(
            Map.entry(EPERM, new Entry("EPERM", "Operation not permitted")),
            Map.entry(2, new Entry("ENOENT", "No such file or directory")),
            Map.entry(EINTR, new Entry("EINTR", "Interrupted system call")),
            Map.entry(EBADF, new Entry("EBADF", "Bad file descriptor")),
            Map.entry(EAGAIN, new Entry("EAGAIN", "Resource temporarily unavailable")),
            Map.entry(12, new Entry("ENOMEM", "Cannot allocate memory")),
            Map.entry(13, new Entry("EACCES", "Permission denied")),
            Map.entry(14, new Entry("EFAULT", "Bad address")),
            Map.entry(16, new Entry("EBUSY", "Device or resource busy")),
            Map.entry(EINVAL, new Entry("EINVAL", "Invalid argument")),
            Map.entry(23, new Entry("ENFILE", "Too many open files in system")),
            Map.entry(24, new Entry("EMFILE", "Too many open files")),
            Map.entry(EPIPE, new Entry("EPIPE", "Broken pipe")),
            Map.entry(88, new Entry("ENOTSOCK", "Socket operation on non-socket")),
            Map.entry(ENOPROTOOPT, new Entry("ENOPROTOOPT", "Protocol not available")),
            Map.entry(93, new Entry("EPROTONOSUPPORT", "Protocol not supported")),
            Map.entry(EOPNOTSUPP, new Entry("EOPNOTSUPP", "Operation not supported")),
            Map.entry(97, new Entry("EAFNOSUPPORT", "Address family not supported by protocol")),
            Map.entry(98, new Entry("EADDRINUSE", "Address already in use")),
            Map.entry(99, new Entry("EADDRNOTAVAIL", "Cannot assign requested address")),
            Map.entry(100, new Entry("ENETDOWN", "Network is down")),
            Map.entry(101, new Entry("ENETUNREACH", "Network is unreachable")),
            Map.entry(103, new Entry("ECONNABORTED", "Software caused connection abort")),
            Map.entry(ECONNRESET, new Entry("ECONNRESET", "Connection reset by peer")),
            Map.entry(105, new Entry("ENOBUFS", "No buffer space available")),
            Map.entry(106, new Entry("EISCONN", "Transport endpoint is already connected")),
            Map.entry(ENOTCONN, new Entry("ENOTCONN", "Transport endpoint is not connected")),
            Map.entry(ETIMEDOUT, new Entry("ETIMEDOUT", "Connection timed out")),
            Map.entry(ECONNREFUSED, new Entry("ECONNREFUSED", "Connection refused")),
            Map.entry(112, new Entry("EHOSTDOWN", "Host is down")),
            Map.entry(EHOSTUNREACH, new Entry("EHOSTUNREACH", "No route to host")),
            Map.entry(EALREADY, new Entry("EALREADY", "Operation already in progress")),
            Map.entry(EINPROGRESS, new Entry("EINPROGRESS", "Operation now in progress")));

    private Errno() {
    }

    static String name(int errno) {
        Entry entry = ENTRIES.get(errno);
        return entry == null ? "E" + errno : entry.name();
    }

    static String text(int errno) {
        Entry entry = ENTRIES.get(errno);
        return entry == null ? "Unknown error " + errno : entry.text();
    }
}
