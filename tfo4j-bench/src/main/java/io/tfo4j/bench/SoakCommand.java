package io.tfo4j.bench;

import io.tfo4j.FastOpenDialer;
import io.tfo4j.lab.LinkProfile;
import io.tfo4j.lab.Listening;
import io.tfo4j.lab.ProcessCpu;
import io.tfo4j.lab.Processes;
import io.tfo4j.lab.WanLab;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * {@code tfo4j bench soak}: a constant rate of requests, each on a new Fast Open connection, against
 * {@code tfo4j serve}'s file server running as its own process ({@code tfo4j peer serve}: the same
 * FastOpenFileServer with the same defaults), across an emulated link, for {@code --minutes}. Every {@code --sample}
 * seconds it reads the server's resident memory ({@code VmRSS}) and threads from {@code /proc/PID/status}, its
 * open descriptors ({@code /proc/PID/fd}), its CPU time, and its heap after a full GC, which the server prints
 * itself at that interval. Reports errors (goal 0) and each resource's growth per minute after the warm-up as a
 * least-squares slope (goal: flat), in NAME.md, NAME.csv and NAME.svg (a chart of the four). Every fourth
 * request is a {@code POST /echo}, whose data in the SYN the server holds until the handshake completes.
 */
@Command(name = "soak", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Constant connection-per-request load with Fast Open against tfo4j serve in its own JVM;"
                + " samples its RSS, heap after GC, descriptors and threads.",
                "Needs root (network namespaces), iproute2 and /dev/net/tun."})
final class SoakCommand implements Callable<Integer> {
    private static final String SERVER = WanLab.SERVER_ADDRESS;
    private static final int PORT = 8080;

    @Spec
    CommandSpec spec;

    @Option(names = "--minutes", paramLabel = "M", defaultValue = "10",
            description = "How long to load the server, in minutes; fractions allowed (default 10).")
    double minutes;

    @Option(names = "--rate", paramLabel = "N", defaultValue = "200",
            description = "Requests per second, each on a new connection (default 200).")
    int rate;

    @Option(names = "--sample", paramLabel = "SECONDS", defaultValue = "5",
            description = "Seconds between samples of the server (default 5).")
    int sample;

    @Option(names = "--warmup", paramLabel = "SECONDS", defaultValue = "60",
            description = "Seconds of load before the growth fit starts (default 60); must leave at least half the run.")
    int warmup;

    @Option(names = "--rtt", paramLabel = "TIME", defaultValue = "2ms", converter = MillisConverter.class,
            description = "Round-trip time of the emulated link (default 2ms).")
    Duration rtt;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "bench-report",
            description = "Where to write the report (default ./bench-report).")
    Path out;

    @Option(names = "--name", paramLabel = "NAME", defaultValue = "soak",
            description = "The report's file names: NAME.md, NAME.csv and NAME.svg (default soak).")
    String name;

    @Override
    public Integer call() throws Exception {
        long runNanos = (long) (minutes * 60e9);
        if (!(minutes > 0 && minutes <= 24 * 60)) {
            throw new ParameterException(spec.commandLine(), "--minutes must be more than 0 and at most 1440, got " + minutes);
        }
        if (rate < 1 || rate > 5000) {
            throw new ParameterException(spec.commandLine(), "--rate must be 1 to 5000 requests per second, got " + rate);
        }
        if (sample < 1 || sample > 600) {
            throw new ParameterException(spec.commandLine(), "--sample must be 1 to 600 seconds, got " + sample);
        }
        if (warmup < 0 || TimeUnit.SECONDS.toNanos(warmup) * 2 > runNanos) {
            throw new ParameterException(spec.commandLine(), "--warmup must be 0 or more and at most half of --minutes ("
                    + BenchReport.number(minutes * 30) + " s), got " + warmup + " s");
        }
        if (rtt.compareTo(Duration.ofMillis(1)) < 0 || rtt.compareTo(Duration.ofSeconds(1)) > 0) {
            throw new ParameterException(spec.commandLine(), "--rtt must be 1ms to 1s, got " + rtt.toMillis() + "ms");
        }
        if (!name.matches("[A-Za-z0-9._-]+")) {
            throw new ParameterException(spec.commandLine(), "--name must be a file name without a directory, got '" + name + "'");
        }
        Optional<String> problem = WanLab.unavailableReason();
        if (problem.isPresent()) {
            System.err.println("tfo4j bench soak: cannot build the emulated network here: " + problem.get());
            return 2;
        }
        Files.createDirectories(out);
        Path site = BenchSite.create();
        Process server = null;
        try (WanLab lab = WanLab.create(LinkProfile.rtt(rtt))) {
            server = lab.server().command(ChildJvm.command("peer", "serve", site.toString(), "--bind", SERVER,
                    "--port", Integer.toString(PORT), "--fastopen", "256", "--heap-every", Integer.toString(sample))
                    .toArray(String[]::new)).redirectErrorStream(true).start();
            ServerOutput output = new ServerOutput(server);
            Listening.await(lab.server(), SERVER, PORT, server);
            Progress.say(String.format(Locale.ROOT, "loading tfo4j serve (pid %d) with %d requests/s for %s min",
                    server.pid(), rate, BenchReport.number(minutes)));
            SoakReport report = run(lab, server, output, runNanos);
            report.write(out, name);
            Progress.done();
            System.out.print(Files.readString(out.resolve(name + ".md")));
            System.out.println();
            System.out.println("written: " + out.resolve(name + ".md") + ", " + name + ".csv, " + name + ".svg");
            return report.errors() == 0 && server.isAlive() ? 0 : 1;
        } finally {
            Processes.stop(server);
            BenchReport.deleteTree(site);
        }
    }

    private SoakReport run(WanLab lab, Process server, ServerOutput output, long runNanos) throws Exception {
        InetSocketAddress address = new InetSocketAddress(SERVER, PORT);
        // One request unmeasured: it fetches the Fast Open cookie.
        lab.client().call(() -> TimedExchange.run(FastOpenDialer.create(), address,
                TimedExchange.request("GET", SERVER, "/" + BenchSite.PAGE_NAME, null)));
        Load load = new Load(address, rate);
        int workers = Math.max(2, Math.min(64, rate / 25));
        long start = System.nanoTime();
        long end = start + runNanos;
        List<Future<?>> running = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            int worker = w;
            running.add(lab.client().submit(() -> {
                load.work(worker, workers, start, end);
                return null;
            }));
        }
        List<SoakReport.Sample> samples = new ArrayList<>();
        long cpuStart = ProcessCpu.micros(server.pid());
        for (long next = start; ; next += TimeUnit.SECONDS.toNanos(sample)) {
            long wait = next - System.nanoTime();
            if (wait > 0) {
                Thread.sleep(TimeUnit.NANOSECONDS.toMillis(wait));
            }
            if (!server.isAlive()) {
                load.errors.add("the server exited (code " + server.exitValue() + "): " + output.last());
                break;
            }
            samples.add(sampleOf(server.pid(), (System.nanoTime() - start) / 1e9, load, output,
                    ProcessCpu.micros(server.pid()) - cpuStart));
            Progress.say(String.format(Locale.ROOT, "%.0f s: %d requests, %d errors, RSS %d MiB", (System.nanoTime() - start) / 1e9,
                    load.done.get(), load.failed.get(), samples.getLast().rssKib() >> 10));
            if (System.nanoTime() >= end) {
                break;
            }
        }
        for (Future<?> worker : running) {
            worker.get(60, TimeUnit.SECONDS);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new SoakReport(samples, warmup, rate, seconds, load.done.get(), load.failed.get(), load.synData.get(),
                load.ttfbMicros, List.copyOf(load.errors), rtt.toNanos() / 1e6, BenchReport.machine());
    }

    private static SoakReport.Sample sampleOf(long pid, double seconds, Load load, ServerOutput output, long cpuMicros)
            throws IOException {
        long rss = -1;
        long threads = -1;
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                rss = Long.parseLong(line.replaceAll("\\D+", ""));
            } else if (line.startsWith("Threads:")) {
                threads = Long.parseLong(line.replaceAll("\\D+", ""));
            }
        }
        long fds;
        try (Stream<Path> open = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            fds = open.count();
        }
        return new SoakReport.Sample(seconds, load.done.get(), load.failed.get(), rss, output.heapAfterGcBytes.get() >> 10,
                fds, threads, cpuMicros / 1e6);
    }

    /** The constant-rate load: request number i is due at start + i / rate; worker w takes i = w, w + workers, ... */
    private static final class Load {
        final AtomicLong done = new AtomicLong();
        final AtomicLong failed = new AtomicLong();
        final AtomicLong synData = new AtomicLong();
        final ConcurrentLinkedQueue<Long> ttfbMicros = new ConcurrentLinkedQueue<>();
        final ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        private final InetSocketAddress address;
        private final int rate;
        private final FastOpenDialer dialer = FastOpenDialer.create().withConnectTimeout(Duration.ofSeconds(10));

        Load(InetSocketAddress address, int rate) {
            this.address = address;
            this.rate = rate;
        }

        void work(int worker, int workers, long start, long end) throws InterruptedException {
            for (long i = worker; ; i += workers) {
                long due = start + i * 1_000_000_000L / rate;
                if (due >= end) {
                    return;
                }
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
                boolean post = i % 4 == 3;
                String body = post ? "soak " + i : null;
                byte[] request = TimedExchange.request(post ? "POST" : "GET", SERVER,
                        post ? "/echo" : "/" + BenchSite.PAGE_NAME, body);
                try {
                    TimedExchange exchange = TimedExchange.run(dialer, address, request);
                    if (exchange.status() != 200 || !exchange.body().equals(post ? body : BenchSite.PAGE)) {
                        fail((post ? "POST" : "GET") + " answered " + exchange.status() + " with "
                                + exchange.body().length() + " bytes");
                        continue;
                    }
                    done.incrementAndGet();
                    synData.addAndGet(exchange.synData() ? 1 : 0);
                    ttfbMicros.add(exchange.ttfbNanos() / 1000);
                } catch (IOException e) {
                    fail((post ? "POST: " : "GET: ") + e.getMessage());
                }
            }
        }

        private void fail(String why) {
            failed.incrementAndGet();
            if (errors.size() < 20) {
                errors.add(why);
            }
        }
    }

    /** Reads the server's stdout: its heap after GC lines, and the last other line (for an error message). */
    private static final class ServerOutput {
        final AtomicLong heapAfterGcBytes = new AtomicLong(-1024); // -1 KiB: not reported yet
        private volatile String last = "";

        ServerOutput(Process process) {
            Thread.ofPlatform().daemon().name("soak-server-output").start(() -> {
                try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    for (String line; (line = lines.readLine()) != null; ) {
                        if (line.startsWith("{\"heapAfterGcBytes\":")) {
                            heapAfterGcBytes.set(Long.parseLong(line.replaceAll("\\D+", "")));
                        } else {
                            last = line;
                        }
                    }
                } catch (IOException | RuntimeException e) {
                    last = "(output unreadable: " + e.getMessage() + ")";
                }
            });
        }

        String last() {
            return last;
        }
    }
}
