package io.tfo4j.bench;

import io.tfo4j.FastOpenCounters;
import io.tfo4j.lab.LinkProfile;
import io.tfo4j.lab.WanLab;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/**
 * {@code tfo4j bench latency}: time to first byte of repeat connections across an emulated link at several
 * round-trip times, for each client and server pair of {@link LatencyPair#all()} (or those {@code --pairs}
 * selects), as p50, p90 and p99 and as multiples of the RTT (the floor over HTTP is 1.0 with Fast Open and
 * 2.0 without; over HTTPS 2.0 and 3.0). Writes NAME.md, NAME.csv and NAME.svg, latency.* by default.
 */
@Command(name = "latency", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Time to first byte of repeat connections over an emulated link, per client/server pair.",
                "Needs root (network namespaces), iproute2 and /dev/net/tun; nginx, curl and openssl (HTTPS) where installed."})
final class LatencyCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--rtt", paramLabel = "TIME", split = ",", defaultValue = "10ms,50ms,150ms",
            converter = MillisConverter.class, description = "Round-trip times to measure at (default 10ms,50ms,150ms).")
    List<Duration> rtts;

    @Option(names = "--requests", paramLabel = "N", defaultValue = "20",
            description = "Measured requests per pair and RTT, each on a new connection (default 20).")
    int requests;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "3",
            description = "Requests before those, not measured; the first fetches the Fast Open cookie (default 3).")
    int warmup;

    @Option(names = "--pairs", paramLabel = "WHICH", defaultValue = "all",
            description = "Which pairs to measure: all (default), http or https. Only their servers are started.")
    String pairs;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "bench-report",
            description = "Where to write the report (default ./bench-report).")
    Path out;

    @Option(names = "--name", paramLabel = "NAME", defaultValue = "latency",
            description = "The report's file names: NAME.md, NAME.csv and NAME.svg (default latency).")
    String name;

    @Override
    public Integer call() throws Exception {
        if (requests < 1 || requests > 10_000 || warmup < 1 || warmup > 100) {
            throw new ParameterException(spec.commandLine(), "--requests must be 1 to 10000 and --warmup 1 to 100");
        }
        LatencyPair.Selection selection;
        try {
            selection = LatencyPair.Selection.valueOf(pairs.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--pairs must be all, http or https, got '" + pairs + "'");
        }
        if (!name.matches("[A-Za-z0-9._-]+")) {
            throw new ParameterException(spec.commandLine(), "--name must be a file name without a directory, got '" + name + "'");
        }
        for (Duration rtt : rtts) {
            if (rtt.compareTo(Duration.ofMillis(1)) < 0 || rtt.compareTo(Duration.ofSeconds(2)) > 0) {
                throw new ParameterException(spec.commandLine(), "each --rtt must be 1ms to 2s, got " + rtt.toMillis() + "ms");
            }
        }
        Optional<String> problem = WanLab.unavailableReason();
        if (problem.isPresent()) {
            System.err.println("tfo4j bench latency: cannot build the emulated network here: " + problem.get());
            return 2;
        }
        Files.createDirectories(out);
        Path site = BenchSite.create();
        List<LatencyPair> pairs = LatencyPair.select(selection, LatencyPair.Tools.here());
        Set<Integer> ports = pairs.stream().filter(p -> p.missing().isEmpty()).map(LatencyPair::port)
                .collect(Collectors.toSet());
        List<BenchReport.LatencyRow> rows = new ArrayList<>();
        int step = 0;
        int steps = rtts.size() * pairs.size();
        long started = System.nanoTime();
        try {
            for (Duration rtt : rtts) {
                double rttMillis = rtt.toNanos() / 1e6;
                Progress.say(String.format(Locale.ROOT, "building a lab with %s ms RTT and starting the servers", BenchReport.number(rttMillis)));
                try (WanLab lab = WanLab.create(LinkProfile.rtt(rtt));
                     LatencyServers servers = LatencyServers.start(lab, site, ports)) {
                    for (LatencyPair pair : pairs) {
                        step++;
                        Optional<String> missing = pair.missing().or(() -> servers.unavailable(pair.port()));
                        if (missing.isPresent()) {
                            rows.add(BenchReport.LatencyRow.skipped(pair, rttMillis, missing.get()));
                            Progress.say(String.format(Locale.ROOT, "[%d/%d] %s at %s ms: skipped (%s)", step, steps,
                                    pair.name(), BenchReport.number(rttMillis), missing.get()));
                            continue;
                        }
                        Progress.say(String.format(Locale.ROOT, "[%d/%d] %s at %s ms RTT: %d requests", step, steps,
                                pair.name(), BenchReport.number(rttMillis), warmup + requests));
                        rows.add(measure(lab, pair, rttMillis));
                    }
                }
            }
        } finally {
            BenchReport.deleteTree(site);
        }
        Progress.done();
        BenchReport.writeLatency(out, name, rows, requests, warmup, (System.nanoTime() - started) / 1e9);
        System.out.print(Files.readString(out.resolve(name + ".md")));
        System.out.println();
        System.out.println("written: " + out.resolve(name + ".md") + ", " + name + ".csv, " + name + ".svg");
        return rows.stream().anyMatch(r -> r.error() != null) ? 1 : 0;
    }

    private BenchReport.LatencyRow measure(WanLab lab, LatencyPair pair, double rttMillis) throws IOException {
        FastOpenCounters serverBefore = lab.server().call(FastOpenCounters::read);
        FastOpenCounters clientBefore = lab.client().call(FastOpenCounters::read);
        LatencyPair.Run run;
        try {
            run = pair.runner().run(lab, LatencyServers.url(pair.port()), warmup + requests);
        } catch (IOException e) {
            return BenchReport.LatencyRow.failed(pair, rttMillis, e.getMessage());
        }
        long fastOpenAtServer = lab.server().call(FastOpenCounters::read).minus(serverBefore).passive();
        // A client that cannot say per request (curl, the JDK's HttpClient) made no other Fast Open connections
        // from the client host than these, so its kernel's count of acknowledged SYN data is theirs.
        long synDataAcked = run.synData() != null ? run.synDataAcked(0)
                : lab.client().call(FastOpenCounters::read).minus(clientBefore).active();
        List<Double> ttfb = run.ttfbMs();
        Histogram histogram = new Histogram(60_000_000L, 3); // microseconds, up to a minute
        for (double millis : ttfb.subList(warmup, ttfb.size())) {
            histogram.recordValue(Math.max(1, Math.round(millis * 1000)));
        }
        return BenchReport.LatencyRow.measured(pair, rttMillis, histogram, fastOpenAtServer, synDataAcked,
                run.synDataAcked(warmup), warmup + requests);
    }
}
