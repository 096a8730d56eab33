package io.tfo4j.bench.peer;

import io.tfo4j.lab.ProcessCpu;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.LongAdder;

/**
 * {@code tfo4j peer load}: a closed-loop load generator for {@code tfo4j bench throughput}. Each of
 * {@code --threads} threads makes GET after GET, each on a new connection opened by tfo4j's
 * {@link DialerHttpClient} (Fast Open on: the request rides in the SYN where the server takes it), for
 * {@code --warmup} seconds unmeasured and then {@code --seconds} measured; prints one JSON line. With
 * {@code --server-pid} it also reports the CPU time the kernel charged to that process and its descendants,
 * and to this load generator, over exactly the measured seconds ({@code serverCpuMicros},
 * {@code loadCpuMicros}): a server's cost per request, which holds still on a busy machine where the rate
 * does not.
 */
@Command(name = "load", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Closed-loop HTTP load, one connection per request, Fast Open on; one JSON line of results."})
final class LoadCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "URL", description = "An http:// URL.")
    String url;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "2", description = "Client threads (default 2).")
    int threads;

    @Option(names = "--warmup", paramLabel = "SECONDS", defaultValue = "3", description = "Unmeasured seconds first (default 3).")
    double warmupSeconds;

    @Option(names = "--seconds", paramLabel = "SECONDS", defaultValue = "7", description = "Measured seconds (default 7).")
    double seconds;

    @Option(names = "--server-pid", paramLabel = "PID",
            description = "Also report the CPU time of process PID and its descendants over the measured seconds.")
    Long serverPid;

    @Override
    public Integer call() throws Exception {
        if (threads < 1 || threads > 256 || seconds <= 0 || seconds > 600 || warmupSeconds < 0 || warmupSeconds > 600) {
            throw new ParameterException(spec.commandLine(), "--threads must be 1 to 256, --seconds above 0 and"
                    + " --warmup at least 0, both at most 600");
        }
        HttpTarget target;
        try {
            target = HttpTarget.parse(url);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        DialerHttpClient client = new DialerHttpClient(true);
        LongAdder done = new LongAdder();
        LongAdder errors = new LongAdder();
        LongAdder synData = new LongAdder();
        long start = System.nanoTime();
        long measureFrom = start + (long) (warmupSeconds * 1e9);
        long end = measureFrom + (long) (seconds * 1e9);
        List<String> problems = new java.util.concurrent.CopyOnWriteArrayList<>();
        List<Thread> workers = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            Thread worker = new Thread(() -> {
                long now;
                while ((now = System.nanoTime()) < end) {
                    boolean measured = now >= measureFrom;
                    try {
                        Exchange exchange = client.get(target);
                        if (measured && System.nanoTime() <= end) {
                            if (exchange.status() == 200) {
                                done.increment();
                                if (exchange.synData()) {
                                    synData.increment();
                                }
                            } else {
                                errors.increment();
                            }
                        }
                    } catch (IOException | RuntimeException e) {
                        if (measured) {
                            errors.increment();
                        }
                        if (problems.size() < 3) {
                            problems.add(e.toString());
                        }
                    }
                }
            }, "load-" + i);
            worker.start();
            workers.add(worker);
        }
        CpuWindow cpu = null;
        if (serverPid != null) {
            try {
                cpu = CpuWindow.between(serverPid, measureFrom, end);
            } catch (IOException e) {
                problems.add("cannot read the server's CPU time: " + e.getMessage()); // the rate still counts
            }
        }
        for (Thread worker : workers) {
            worker.join();
        }
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("url", target.uri().toString());
        line.put("threads", threads);
        line.put("seconds", seconds);
        line.put("requests", done.sum());
        line.put("errors", errors.sum());
        line.put("synData", synData.sum());
        line.put("rps", Double.parseDouble(String.format(Locale.ROOT, "%.1f", done.sum() / seconds)));
        if (cpu != null) {
            line.put("serverCpuMicros", cpu.server());
            line.put("loadCpuMicros", cpu.load());
        }
        if (!problems.isEmpty()) {
            line.put("firstErrors", problems);
        }
        System.out.println(Json.line(line));
        return errors.sum() == 0 ? 0 : 1;
    }

    /** CPU time the kernel charged to the server's process tree and to this process between two instants. */
    private record CpuWindow(long server, long load) {
        static CpuWindow between(long serverPid, long fromNanos, long toNanos) throws IOException, InterruptedException {
            long self = ProcessHandle.current().pid();
            sleepUntil(fromNanos);
            long server = ProcessCpu.micros(serverPid);
            long load = ProcessCpu.micros(self);
            sleepUntil(toNanos);
            return new CpuWindow(ProcessCpu.micros(serverPid) - server, ProcessCpu.micros(self) - load);
        }

        private static void sleepUntil(long nanos) throws InterruptedException {
            for (long left; (left = nanos - System.nanoTime()) > 0; ) {
                Thread.sleep(left / 1_000_000, (int) (left % 1_000_000));
            }
        }
    }
}
