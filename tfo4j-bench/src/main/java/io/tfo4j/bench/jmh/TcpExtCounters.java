package io.tfo4j.bench.jmh;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Named {@code TcpExt} counters of the calling thread's network namespace, from
 * {@code /proc/thread-self/net/netstat}: the retransmission counters that explain a slow iteration (an
 * RTO costs at least 200 ms, a long time in a benchmark of 100-microsecond operations). The Fast Open
 * counters have their own type in tfo4j-core, {@code FastOpenCounters}.
 */
public final class TcpExtCounters {
    /** Timer-driven retransmissions, SYN retransmissions, and tail loss probes. */
    public static final List<String> RETRANSMISSIONS = List.of("TCPTimeouts", "TCPSynRetrans", "TCPLossProbes");

    private static final Path NETSTAT = Path.of("/proc/thread-self/net/netstat");

    private TcpExtCounters() {
    }

    /** The values of {@code names}, in that order; a counter this kernel does not have reads as 0. */
    public static Map<String, Long> read(List<String> names) throws IOException {
        List<String> lines = Files.readAllLines(NETSTAT);
        Map<String, Long> all = new LinkedHashMap<>();
        for (int i = 0; i + 1 < lines.size(); i++) {
            if (lines.get(i).startsWith("TcpExt:") && lines.get(i + 1).startsWith("TcpExt:")) {
                String[] header = lines.get(i).trim().split("\\s+");
                String[] values = lines.get(i + 1).trim().split("\\s+");
                for (int j = 1; j < Math.min(header.length, values.length); j++) {
                    all.put(header[j], Long.parseLong(values[j]));
                }
                break;
            }
        }
        Map<String, Long> selected = new LinkedHashMap<>();
        for (String name : names) {
            selected.put(name, all.getOrDefault(name, 0L));
        }
        return selected;
    }

    /** {@code later - earlier} for each name, as {@code "name +delta"} joined by commas. */
    public static String describeDelta(Map<String, Long> earlier, Map<String, Long> later) {
        StringBuilder text = new StringBuilder();
        for (Map.Entry<String, Long> entry : later.entrySet()) {
            if (!text.isEmpty()) {
                text.append(", ");
            }
            long before = earlier.getOrDefault(entry.getKey(), 0L);
            text.append(entry.getKey()).append(" +").append(entry.getValue() - before);
        }
        return text.toString();
    }
}
