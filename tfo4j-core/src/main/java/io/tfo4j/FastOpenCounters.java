package io.tfo4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A snapshot of the kernel's Fast Open counters ({@code TcpExt: TCPFastOpen*} in {@code /proc/net/netstat})
 * for the calling thread's network namespace. Take one before and one after, and {@link #minus} them.
 *
 * <p>Kernel: Linux 3.7+; a counter this kernel does not have reads as 0. No sysctl bit is needed to read
 * them; off Linux (no {@code /proc/net/netstat}) {@link #read()} throws an IOException saying so.
 *
 * @param active         TCPFastOpenActive: client SYNs whose data the server acknowledged
 * @param activeFail     TCPFastOpenActiveFail: client SYN data not acknowledged, or SYN retransmitted
 * @param passive        TCPFastOpenPassive: server connections created by a Fast Open SYN
 * @param passiveFail    TCPFastOpenPassiveFail: Fast Open SYNs the server refused (bad cookie, child failed)
 * @param listenOverflow TCPFastOpenListenOverflow: Fast Open SYNs handled as plain because the queue was full
 * @param cookieReqd     TCPFastOpenCookieReqd: SYNs that asked this server for a cookie
 * @param blackhole      TCPFastOpenBlackhole: times Fast Open was paused after a suspected blackhole
 * @param passiveAltKey  TCPFastOpenPassiveAltKey: cookies accepted with the backup key
 */
public record FastOpenCounters(long active, long activeFail, long passive, long passiveFail, long listenOverflow,
                               long cookieReqd, long blackhole, long passiveAltKey) {

    private static final List<Path> SOURCES = List.of(
            Path.of("/proc/thread-self/net/netstat"), Path.of("/proc/self/net/netstat"));

    /** Reads the counters of the calling thread's network namespace. */
    public static FastOpenCounters read() throws IOException {
        IOException last = null;
        for (Path source : SOURCES) {
            try {
                return parse(Files.readAllLines(source));
            } catch (IOException e) {
                last = e;
            }
        }
        throw new IOException("cannot read the TcpExt counters from /proc/net/netstat"
                + " (is /proc mounted? is this Linux?)", last);
    }

    static FastOpenCounters parse(List<String> lines) {
        Map<String, Long> tcpExt = new HashMap<>();
        for (int i = 0; i + 1 < lines.size(); i++) {
            if (lines.get(i).startsWith("TcpExt:") && lines.get(i + 1).startsWith("TcpExt:")) {
                String[] names = lines.get(i).trim().split("\\s+");
                String[] values = lines.get(i + 1).trim().split("\\s+");
                for (int j = 1; j < Math.min(names.length, values.length); j++) {
                    tcpExt.put(names[j], Long.parseLong(values[j]));
                }
                break;
            }
        }
        return new FastOpenCounters(
                tcpExt.getOrDefault("TCPFastOpenActive", 0L),
                tcpExt.getOrDefault("TCPFastOpenActiveFail", 0L),
                tcpExt.getOrDefault("TCPFastOpenPassive", 0L),
                tcpExt.getOrDefault("TCPFastOpenPassiveFail", 0L),
                tcpExt.getOrDefault("TCPFastOpenListenOverflow", 0L),
                tcpExt.getOrDefault("TCPFastOpenCookieReqd", 0L),
                tcpExt.getOrDefault("TCPFastOpenBlackhole", 0L),
                tcpExt.getOrDefault("TCPFastOpenPassiveAltKey", 0L));
    }

    /** This snapshot minus an earlier one: what happened in between. */
    public FastOpenCounters minus(FastOpenCounters earlier) {
        return new FastOpenCounters(active - earlier.active, activeFail - earlier.activeFail,
                passive - earlier.passive, passiveFail - earlier.passiveFail,
                listenOverflow - earlier.listenOverflow, cookieReqd - earlier.cookieReqd,
                blackhole - earlier.blackhole, passiveAltKey - earlier.passiveAltKey);
    }
}
