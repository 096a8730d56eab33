package io.tfo4j.lab;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The CPU time the kernel has charged to a process and to every process below it (user plus system time,
 * {@code utime + stime} of {@code /proc/PID/stat}, which covers all the threads of each process). Sampled at
 * the start and end of a measurement, the difference is what a server spent, whether it is one JVM or an
 * nginx master with its workers. A process that ended between two samples takes its time with it.
 *
 * <p>Linux only; the resolution is the kernel's clock tick ({@code USER_HZ}, 100 per second on Linux).
 */
public final class ProcessCpu {
    /** USER_HZ: /proc reports times in these ticks; 100 on every Linux architecture the JDK runs on. */
    private static final long MICROS_PER_TICK = 10_000;

    private ProcessCpu() {
    }

    /**
     * Microseconds of CPU time charged so far to {@code pid} and its descendants.
     *
     * @throws IOException when {@code pid} is not a running process (its {@code /proc} entry is missing)
     */
    public static long micros(long pid) throws IOException {
        List<Long> pids = new ArrayList<>();
        pids.add(pid);
        ProcessHandle.of(pid).ifPresent(p -> p.descendants().forEach(d -> pids.add(d.pid())));
        long ticks = ticks(pid);
        for (long other : pids.subList(1, pids.size())) {
            try {
                ticks += ticks(other);
            } catch (NoSuchFileException e) {
                // the descendant ended since it was listed
            }
        }
        return ticks * MICROS_PER_TICK;
    }

    private static long ticks(long pid) throws IOException {
        String stat;
        try {
            stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        } catch (NoSuchFileException e) {
            NoSuchFileException gone = new NoSuchFileException("/proc/" + pid + "/stat", null,
                    "no process " + pid + " (it ended, or it is in another PID namespace)");
            gone.initCause(e);
            throw gone;
        }
        // The command name, in parentheses, may hold spaces: fields are counted from its closing parenthesis.
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // fields 14 and 15: utime, stime
    }
}
