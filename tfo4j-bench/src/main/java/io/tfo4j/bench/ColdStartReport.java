package io.tfo4j.bench;

import io.tfo4j.bench.ColdStartCommand.Sample;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.BinaryOperator;
import java.util.function.Function;
import java.util.stream.Collectors;

/** The files {@code bench cold-start} writes: a Markdown summary and a CSV of every process. */
final class ColdStartReport {
    private ColdStartReport() {
    }

    static void write(Path prefix, List<Sample> samples, int rttMillis, int rounds, String baseline,
                      String connectSkipped) throws IOException {
        Path dir = prefix.toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        Files.writeString(Path.of(prefix + ".csv"), csv(samples));
        Files.writeString(Path.of(prefix + ".md"), markdown(samples, rttMillis, rounds, baseline, connectSkipped));
    }

    private static String csv(List<Sample> samples) {
        StringBuilder csv = new StringBuilder("part,variant,round,ttfb_ms,syn_data,kernel_syn_data_acked,wall_ms,cpu_ms,note\n");
        for (Sample s : samples) {
            csv.append(String.join(",", s.part(), s.variant(), String.valueOf(s.round()), number(s.ttfbMs()),
                    s.synData() == null ? "" : s.synData().toString(),
                    s.kernelSynDataAcked() == null ? "" : s.kernelSynDataAcked().toString(),
                    number(s.wallMs()), number(s.cpuMs()),
                    s.note() == null ? "" : '"' + s.note().replace("\"", "'") + '"')).append('\n');
        }
        return csv.toString();
    }

    private static String markdown(List<Sample> samples, int rttMillis, int rounds, String baseline,
                                   String connectSkipped) {
        StringBuilder md = new StringBuilder("# tfo4j bench cold-start\n\n");
        md.append("Machine: ").append(machine()).append(". Run ")
                .append(Instant.now().truncatedTo(ChronoUnit.SECONDS)).append(", ").append(rounds)
                .append(" rounds, variants interleaved (each round starts at another variant).\n\n");
        Map<String, List<Sample>> connect = byVariant(samples, "connect");
        md.append("## Repeat connection from a cold process, ").append(rttMillis).append(" ms RTT\n\n");
        if (connect.isEmpty()) {
            md.append("Not measured").append(connectSkipped == null ? "." : ": " + connectSkipped + ".").append("\n\n");
        } else {
            md.append("WanLab (client host `tcp_fastopen=1`, server host 3), nginx `fastopen=256` on the server host,\n")
                    .append("one warm-up connection (curl) so the client host's kernel holds a cookie. Every sample is a new\n")
                    .append("process started by the launcher in the client host, one connection each: `tfo4j nc` (sends a\n")
                    .append("GET on stdin), `tfo4j get`, `curl --tcp-fastopen` as the anchor. Time to first byte as the\n")
                    .append("client reports it, from the start of its connect (nc/get `--json` ttfbMs, curl\n")
                    .append("`time_starttransfer`). SYN data: the client's TCP_INFO (nc/get JSON `synData`); kernel: the\n")
                    .append("client host's TCPFastOpenActive went up during the process (SYN data acked).\n\n");
            md.append("Over curl: this client's TTFB minus curl's in the same round, median over rounds (the machine's\n")
                    .append("load moves both). Wall and CPU: the whole process, launcher included.\n\n");
            md.append("| client | n | TTFB median (ms) | p90 (ms) | median (RTT) | p90 (RTT) | over curl (ms) | SYN data | kernel: SYN data acked | wall median (ms) | CPU median (ms) |\n")
                    .append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
            List<Sample> curl = connect.entrySet().stream().filter(e -> e.getKey().startsWith("curl"))
                    .flatMap(e -> e.getValue().stream()).toList();
            connect.forEach((variant, list) -> {
                List<Double> ttfb = values(list, Sample::ttfbMs);
                long synData = list.stream().filter(s -> Boolean.TRUE.equals(s.synData())).count();
                long withSynData = list.stream().filter(s -> s.synData() != null).count();
                long acked = list.stream().filter(s -> s.kernelSynDataAcked() != null && s.kernelSynDataAcked() > 0).count();
                md.append(String.format(Locale.ROOT, "| %s | %d | %s | %s | %s | %s | %s | %s | %d/%d | %s | %s |%n", variant,
                        ttfb.size(), number(percentile(ttfb, 50)), number(percentile(ttfb, 90)),
                        rtts(percentile(ttfb, 50), rttMillis), rtts(percentile(ttfb, 90), rttMillis),
                        variant.startsWith("curl") ? "" : number(pairedMedian(list, curl, Sample::ttfbMs, (a, b) -> a - b)),
                        withSynData == 0 ? "n/a" : synData + "/" + withSynData, acked, list.size(),
                        number(percentile(values(list, Sample::wallMs), 50)),
                        number(percentile(values(list, Sample::cpuMs), 50))));
            });
            md.append('\n');
        }
        Map<String, List<Sample>> start = byVariant(samples, "start");
        if (!start.isEmpty()) {
            md.append("## The launcher's start, with and without the AOT cache\n\n")
                    .append("Whole processes on this host (GNU time): wall time, and CPU time (user + sys, all threads).\n")
                    .append("Ratios: this row's process over the TFO4J_AOT=off (or [baseline]) process of the same round, median\n")
                    .append("over rounds. [baseline]: the launcher given with --baseline.\n\n")
                    .append("| command | n | wall median (ms) | wall p90 (ms) | CPU median (ms) | wall vs AOT off | CPU vs AOT off | wall vs baseline | CPU vs baseline |\n")
                    .append("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
            start.forEach((variant, list) -> {
                String command = variant.replace(" (TFO4J_AOT=off)", "");
                List<Sample> off = variant.equals(command) ? start.get(command + " (TFO4J_AOT=off)") : null;
                List<Sample> before = variant.endsWith("[baseline]") ? null : start.get(command + " [baseline]");
                md.append(String.format(Locale.ROOT, "| %s | %d | %s | %s | %s | %s | %s | %s | %s |%n", variant,
                        list.size(), number(percentile(values(list, Sample::wallMs), 50)),
                        number(percentile(values(list, Sample::wallMs), 90)),
                        number(percentile(values(list, Sample::cpuMs), 50)),
                        off == null ? "" : ratio(list, off, Sample::wallMs),
                        off == null ? "" : ratio(list, off, Sample::cpuMs),
                        before == null ? "" : ratio(list, before, Sample::wallMs),
                        before == null ? "" : ratio(list, before, Sample::cpuMs)));
            });
            md.append('\n');
        }
        List<Sample> failed = samples.stream().filter(s -> s.note() != null).toList();
        if (!failed.isEmpty()) {
            md.append("## Problems\n\n");
            for (Sample s : failed) {
                md.append("- ").append(s.variant()).append(", round ").append(s.round()).append(": ").append(s.note()).append('\n');
            }
            md.append('\n');
        }
        md.append("Rerun: `./tfo4j bench cold-start --rtt ").append(rttMillis).append(" --rounds ").append(rounds)
                .append(baseline == null ? "" : " --baseline " + baseline)
                .append("` from the repository root, as root.\n");
        return md.toString();
    }

    private static Map<String, List<Sample>> byVariant(List<Sample> samples, String part) {
        return samples.stream().filter(s -> s.part().equals(part))
                .collect(Collectors.groupingBy(Sample::variant, TreeMap::new, Collectors.toList()));
    }

    private static List<Double> values(List<Sample> samples, Function<Sample, Double> field) {
        return samples.stream().map(field).filter(Objects::nonNull).sorted().toList();
    }

    /** Nearest-rank percentile of sorted values; null when there are none. */
    static Double percentile(List<Double> sorted, int percent) {
        if (sorted.isEmpty()) {
            return null;
        }
        int rank = (int) Math.ceil(percent / 100.0 * sorted.size());
        return sorted.get(Math.max(0, rank - 1));
    }

    /** Median over rounds of {@code a/b}, pairing the samples of the same round. */
    private static String ratio(List<Sample> a, List<Sample> b, Function<Sample, Double> field) {
        Double median = pairedMedian(a, b, field, (x, y) -> y > 0 ? x / y : null);
        return median == null ? "" : String.format(Locale.ROOT, "%.2f", median);
    }

    /** Median over rounds of {@code combine(a, b)}, pairing the samples of the same round. */
    private static Double pairedMedian(List<Sample> a, List<Sample> b, Function<Sample, Double> field,
                                       BinaryOperator<Double> combine) {
        List<Double> results = new ArrayList<>();
        for (Sample x : a) {
            for (Sample y : b) {
                if (x.round() == y.round() && field.apply(x) != null && field.apply(y) != null) {
                    Double result = combine.apply(field.apply(x), field.apply(y));
                    if (result != null) {
                        results.add(result);
                    }
                }
            }
        }
        return percentile(results.stream().sorted().toList(), 50);
    }

    private static String rtts(Double ms, int rttMillis) {
        return ms == null ? "" : String.format(Locale.ROOT, "%.2f", ms / rttMillis);
    }

    private static String number(Double value) {
        return value == null ? "" : String.format(Locale.ROOT, "%.1f", value);
    }

    private static String machine() {
        String cpu = "unknown CPU";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).strip()).orElse(cpu);
        } catch (IOException e) {
            // Left as unknown.
        }
        String load = "";
        try {
            load = ", load average at the end " + Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException e) {
            // No load figure.
        }
        return Runtime.getRuntime().availableProcessors() + " CPUs (" + cpu + "), Linux "
                + System.getProperty("os.version") + ", Java " + Runtime.version() + load;
    }
}
