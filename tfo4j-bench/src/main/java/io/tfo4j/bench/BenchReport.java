package io.tfo4j.bench;

import io.tfo4j.FastOpenSupport;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.ToDoubleFunction;

/** The files {@code tfo4j bench} writes: a Markdown report, a CSV and an SVG chart. */
final class BenchReport {
    /** Twenty-four distinct colours, one per pair (the latency chart has twenty-two when it draws them all). */
    private static final String[] COLORS = {"#1b6ca8", "#9bbfe0", "#e07a1f", "#7a7a7a", "#3a9d5d", "#b5475c",
            "#6a3d9a", "#f2c12e", "#17becf", "#8c564b", "#e377c2", "#2f2f2f", "#0b3d91", "#f4a582", "#a6d96a",
            "#c51b7d", "#80cdc1", "#bf812d", "#542788", "#d9d9d9", "#66a61e", "#ff7f00", "#1a9850", "#8e0152"};

    private BenchReport() {
    }

    /**
     * One pair at one RTT: percentiles of time to first byte in milliseconds, or why it was not measured.
     *
     * @param https            whether the pair speaks HTTPS (its floor is 2 RTT with Fast Open, 3 without)
     * @param fastOpenAtServer connections the server's kernel took with SYN data (TCPFastOpenPassive), of
     *                         {@code connections} made in all (warm-up included)
     * @param synDataAcked     the same connections whose SYN data was acknowledged as the client saw it: its
     *                         TCP_INFO per request, or for curl and the JDK's HttpClient the client host's
     *                         TCPFastOpenActive
     * @param measuredSynData  of the {@code count} measured requests, those whose SYN data was acknowledged (the
     *                         client's TCP_INFO); -1 when the client cannot say per request
     */
    record LatencyRow(String pair, String client, boolean https, double rttMs, long count, double p50, double p90,
                      double p99, double mean, long fastOpenAtServer, long synDataAcked, long measuredSynData,
                      int connections, String skipped, String error) {
        static LatencyRow measured(LatencyPair pair, double rttMs, Histogram h, long fastOpenAtServer, long synDataAcked,
                                   long measuredSynData, int connections) {
            return new LatencyRow(pair.name(), pair.client(), pair.https(), rttMs, h.getTotalCount(),
                    h.getValueAtPercentile(50) / 1e3, h.getValueAtPercentile(90) / 1e3, h.getValueAtPercentile(99) / 1e3,
                    h.getMean() / 1e3, fastOpenAtServer, synDataAcked, measuredSynData, connections, null, null);
        }

        static LatencyRow skipped(LatencyPair pair, double rttMs, String why) {
            return new LatencyRow(pair.name(), pair.client(), pair.https(), rttMs, 0, 0, 0, 0, 0, 0, 0, -1, 0, why, null);
        }

        static LatencyRow failed(LatencyPair pair, double rttMs, String error) {
            return new LatencyRow(pair.name(), pair.client(), pair.https(), rttMs, 0, 0, 0, 0, 0, 0, 0, -1, 0, null, error);
        }

        boolean measured() {
            return skipped == null && error == null;
        }
    }

    /**
     * One target in one round of {@code bench throughput}.
     *
     * @param synData         measured requests whose SYN data the server acknowledged (the client's TCP_INFO)
     * @param passive         the server kernel's TCPFastOpenPassive over the whole run, warm-up included
     * @param serverCpuMicros CPU time the kernel charged to the server's process tree over the measured
     *                        seconds, -1 when unknown
     * @param loadCpuMicros   the same for the load generator, -1 when unknown
     */
    record ThroughputRow(String target, int round, double rps, long requests, long errors,
                         long synData, long passive, long serverCpuMicros, long loadCpuMicros, String error) {
        static ThroughputRow failed(String target, int round, String why) {
            return new ThroughputRow(target, round, 0, 0, 0, 0, 0, -1, -1, why);
        }

        /** The server's CPU microseconds per measured request; NaN when unknown. */
        double serverMicrosPerRequest() {
            return serverCpuMicros < 0 || requests == 0 ? Double.NaN : (double) serverCpuMicros / requests;
        }

        /** The load generator's CPU microseconds per measured request; NaN when unknown. */
        double loadMicrosPerRequest() {
            return loadCpuMicros < 0 || requests == 0 ? Double.NaN : (double) loadCpuMicros / requests;
        }
    }

    static void writeThroughput(Path dir, List<ThroughputRow> rows, int seconds, int warmup, int threads, boolean pinned,
                                double took) throws IOException {
        List<String> targets = rows.stream().map(ThroughputRow::target).distinct().toList();
        int rounds = rows.stream().mapToInt(ThroughputRow::round).max().orElse(0);
        String nginxTarget = targets.stream().filter(t -> t.startsWith("nginx")).findFirst().orElse("");
        double nginxRps = median(rows, nginxTarget, ThroughputRow::rps);
        double nginxCpu = median(rows, nginxTarget, ThroughputRow::serverMicrosPerRequest);
        StringBuilder md = new StringBuilder("# tfo4j bench throughput\n\n");
        md.append("Connection-per-request rate on loopback in a private network namespace (`tcp_fastopen=3`): every request a\n")
                .append("new connection from `tfo4j peer load` (tfo4j's dialer, Fast Open on, ").append(threads)
                .append(" threads), GET of the same 600-byte page, ").append(seconds).append(" s measured after ")
                .append(warmup).append(" s of warm-up, targets interleaved over ").append(rounds).append(" rounds. ")
                .append(pinned ? "Each server is pinned to CPU 1 and the load generator to CPU 0."
                        : "Not pinned (fewer than 2 CPUs, or no taskset).")
                .append(" \"SYN data\" is the share of measured requests whose SYN data the server acknowledged (client TCP_INFO).\n\n")
                .append("\"server CPU\" is the CPU time the kernel charged to the server's processes (user + system, all threads;")
                .append(" nginx's master and worker) over the measured seconds, per request completed in them; the load generator")
                .append(" reads `/proc/PID/stat` as the measured seconds start and end. Other work on the machine moves it far less")
                .append(" than requests/s. \"vs nginx\" compares medians over the rounds of this run; \"load CPU\" is the load")
                .append(" generator's own time per request.\n\n");
        md.append("Machine: ").append(machine()).append(". Took ").append(number(Math.round(took))).append(" s.\n\n");
        md.append("| server | requests/s (median) | per round | vs nginx | server CPU µs/request (median) | per round | vs nginx"
                + " | load CPU µs/request | SYN data |\n|---|---:|---|---:|---:|---|---:|---:|---:|\n");
        StringBuilder csv = new StringBuilder("target,round,rps,requests,errors,syn_data,server_fast_open,"
                + "server_cpu_us,server_cpu_us_per_request,load_cpu_us,load_cpu_us_per_request,note\n");
        for (String target : targets) {
            List<ThroughputRow> mine = rows.stream().filter(r -> r.target().equals(target)).toList();
            List<ThroughputRow> ok = mine.stream().filter(r -> r.error() == null).toList();
            if (ok.isEmpty()) {
                md.append("| ").append(target).append(" | ").append(mine.getFirst().error().replace("|", "/")).append(" | | | | | | | |\n");
            } else {
                double rps = median(rows, target, ThroughputRow::rps);
                double cpu = median(rows, target, ThroughputRow::serverMicrosPerRequest);
                double load = median(rows, target, ThroughputRow::loadMicrosPerRequest);
                long requests = ok.stream().mapToLong(ThroughputRow::requests).sum();
                long synData = ok.stream().mapToLong(ThroughputRow::synData).sum();
                md.append(String.format(Locale.ROOT, "| %s | %.0f | %s | %s | %s | %s | %s | %s | %.0f%% |%n", target, rps,
                        perRound(mine, ThroughputRow::rps, "%.0f"), ratio(rps, nginxRps), decimal(cpu),
                        perRound(mine, ThroughputRow::serverMicrosPerRequest, "%.1f"), ratio(cpu, nginxCpu), decimal(load),
                        requests == 0 ? 0.0 : 100.0 * synData / requests));
            }
            for (ThroughputRow row : mine) {
                csv.append(String.format(Locale.ROOT, "%s,%d,%.1f,%d,%d,%d,%d,%s,%s,%s,%s,%s%n", csvField(row.target()), row.round(),
                        row.rps(), row.requests(), row.errors(), row.synData(), row.passive(),
                        row.serverCpuMicros() < 0 ? "" : Long.toString(row.serverCpuMicros()),
                        Double.isNaN(row.serverMicrosPerRequest()) ? "" : String.format(Locale.ROOT, "%.2f", row.serverMicrosPerRequest()),
                        row.loadCpuMicros() < 0 ? "" : Long.toString(row.loadCpuMicros()),
                        Double.isNaN(row.loadMicrosPerRequest()) ? "" : String.format(Locale.ROOT, "%.2f", row.loadMicrosPerRequest()),
                        row.error() == null ? "" : csvField(row.error())));
            }
        }
        List<String> failures = rows.stream().filter(r -> r.error() != null)
                .map(r -> "- round " + r.round() + ", " + r.target() + ": " + r.error()).toList();
        if (!failures.isEmpty()) {
            md.append("\nProblems:\n\n").append(String.join("\n", failures)).append('\n');
        }
        Files.writeString(dir.resolve("throughput.md"), md);
        Files.writeString(dir.resolve("throughput.csv"), csv);
        Files.writeString(dir.resolve("throughput.svg"), throughputChart(rows, targets));
    }

    /** The median over {@code target}'s measured rounds of {@code value}, leaving out unknown (NaN) values; NaN if none. */
    static double median(List<ThroughputRow> rows, String target, ToDoubleFunction<ThroughputRow> value) {
        double[] values = rows.stream().filter(r -> r.target().equals(target) && r.error() == null)
                .mapToDouble(value).filter(v -> !Double.isNaN(v)).sorted().toArray();
        if (values.length == 0) {
            return Double.NaN;
        }
        int middle = values.length / 2;
        return values.length % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
    }

    private static String perRound(List<ThroughputRow> rows, ToDoubleFunction<ThroughputRow> value, String format) {
        return String.join(", ", rows.stream().map(r -> r.error() != null ? "failed"
                : Double.isNaN(value.applyAsDouble(r)) ? "n/a" : String.format(Locale.ROOT, format, value.applyAsDouble(r))).toList());
    }

    private static String ratio(double value, double base) {
        return Double.isNaN(value) || Double.isNaN(base) || base <= 0 ? "n/a" : String.format(Locale.ROOT, "%.2f", value / base);
    }

    private static String decimal(double value) {
        return Double.isNaN(value) ? "n/a" : String.format(Locale.ROOT, "%.1f", value);
    }

    /**
     * Two panels of horizontal bars, requests/s and server CPU µs per request: each bar is a server's median
     * over the rounds, each dot one round (so the spread shows), and a dashed line marks nginx's median.
     */
    static String throughputChart(List<ThroughputRow> rows, List<String> targets) {
        int width = 900;
        int rowHeight = 30;
        int panelHeight = 50 + rowHeight * targets.size();
        StringBuilder svg = new StringBuilder();
        svg.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(width).append("\" height=\"")
                .append(2 * panelHeight + 30).append("\" font-family=\"sans-serif\" font-size=\"12\">\n")
                .append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        throughputPanel(svg, rows, targets, 0, "Connection-per-request rate on loopback, requests/s (higher is better)",
                ThroughputRow::rps, "%.0f");
        throughputPanel(svg, rows, targets, panelHeight, "Server CPU time per request, µs (lower is better)",
                ThroughputRow::serverMicrosPerRequest, "%.1f");
        svg.append(String.format(Locale.ROOT, "<text x=\"10\" y=\"%d\" fill=\"#555\">Bars: median over the rounds;"
                + " dots: each round; dashed line: nginx's median.</text>%n", 2 * panelHeight + 15));
        svg.append("</svg>\n");
        return svg.toString();
    }

    private static void throughputPanel(StringBuilder svg, List<ThroughputRow> rows, List<String> targets, int top,
                                        String title, ToDoubleFunction<ThroughputRow> value, String format) {
        int left = 260;
        int barArea = 900 - left - 90;
        int rowHeight = 30;
        double max = rows.stream().filter(r -> r.error() == null).mapToDouble(value).filter(v -> !Double.isNaN(v)).max().orElse(0);
        svg.append(String.format(Locale.ROOT, "<text x=\"10\" y=\"%d\" font-size=\"15\">%s</text>%n", top + 22, escape(title)));
        for (int i = 0; i < targets.size(); i++) {
            String target = targets.get(i);
            double median = median(rows, target, value);
            int y = top + 36 + i * rowHeight;
            double w = max <= 0 || Double.isNaN(median) ? 0 : median / max * barArea;
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>%n", left - 8, y + 15,
                    escape(target)));
            svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"20\" fill=\"%s\"/>%n",
                    left, y, w, COLORS[i % COLORS.length]));
            for (ThroughputRow row : rows) {
                double v = row.target().equals(target) && row.error() == null ? value.applyAsDouble(row) : Double.NaN;
                if (!Double.isNaN(v) && max > 0) {
                    svg.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%d\" r=\"4\" fill=\"white\" stroke=\"black\""
                                    + " stroke-width=\"1.5\"><title>round %d: %s</title></circle>%n", left + v / max * barArea, y + 10,
                            row.round(), String.format(Locale.ROOT, format, v)));
                }
            }
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\">%s</text>%n", left + Math.max(w,
                            rows.stream().filter(r -> r.target().equals(target) && r.error() == null).mapToDouble(value)
                                    .filter(v -> !Double.isNaN(v)).map(v -> max > 0 ? v / max * barArea : 0).max().orElse(0)) + 8, y + 15,
                    Double.isNaN(median) ? "n/a" : String.format(Locale.ROOT, format, median)));
        }
        String nginx = targets.stream().filter(t -> t.startsWith("nginx")).findFirst().orElse("");
        double nginxMedian = median(rows, nginx, value);
        if (!Double.isNaN(nginxMedian) && max > 0) {
            double x = left + nginxMedian / max * barArea;
            svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#444\""
                    + " stroke-dasharray=\"5 4\"/>%n", x, top + 30, x, top + 40 + targets.size() * rowHeight));
        }
    }

    /** A number without trailing ".0". */
    static String number(double value) {
        return value == Math.rint(value) ? Long.toString((long) value) : String.format(Locale.ROOT, "%.1f", value);
    }

    /** What this report was measured on: kernel, CPU, JDK, date. */
    static String machine() {
        String cpu = "unknown CPU";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse(cpu);
        } catch (IOException e) {
            // keep "unknown CPU"
        }
        FastOpenSupport host = FastOpenSupport.current();
        return host.osName() + " " + host.kernelRelease() + ", " + Runtime.getRuntime().availableProcessors() + " x "
                + cpu + ", JDK " + Runtime.version() + " (" + System.getProperty("java.vendor") + "), "
                + Instant.now().truncatedTo(ChronoUnit.SECONDS);
    }

    static void writeLatency(Path dir, String name, List<LatencyRow> rows, int requests, int warmup, double seconds)
            throws IOException {
        boolean https = rows.stream().anyMatch(LatencyRow::https);
        boolean http = rows.stream().anyMatch(r -> !r.https());
        StringBuilder md = new StringBuilder();
        md.append("# tfo4j bench latency\n\n");
        md.append("Time to first byte of repeat connections, each request on a new connection, across an emulated link\n")
                .append("(two network namespaces joined by tfo4j-lab's delay line). ").append(requests)
                .append(" measured requests per pair and RTT after ").append(warmup)
                .append(" unmeasured ones (the first fetches the Fast Open cookie).\n");
        if (http) {
            md.append("Over HTTP the floor is 1.0 RTT with Fast Open and 2.0 without.");
        }
        if (https) {
            md.append(http ? " " : "").append("Over HTTPS (TLS 1.3, HTTP/1.1; tfo4j serve --tls and nginx ssl present the same")
                    .append(" RSA-2048 certificate, made by openssl) the floor is 2.0 RTT with Fast Open, where the SYN carries")
                    .append(" the ClientHello, and 3.0 without.");
        }
        md.append("\n\"server TFO\" is the server kernel's TCPFastOpenPassive count over all the pair's connections (warm-up")
                .append(" included); \"SYN data acked\" counts the same connections whose SYN data was acknowledged as the client")
                .append(" saw it (its TCP_INFO per request; for curl and the JDK's HttpClient, the client host's TCPFastOpenActive),")
                .append(" and of the measured")
                .append(" requests alone where the client says. A Fast Open pair that fell back to plain TCP shows fewer than all")
                .append(" but one (the first connection to a server address asks for the cookie). The server's count can be higher")
                .append(" than the client's: a SYN that carried a valid cookie but no data (the client wrote too late) still")
                .append(" makes a Fast Open connection on the server.\n\n");
        md.append("Machine: ").append(machine()).append(". Took ").append(number(Math.round(seconds))).append(" s.\n\n");
        md.append("| pair | RTT ms | n | p50 ms | p90 ms | p99 ms | p50 / RTT | p90 / RTT | p99 / RTT | server TFO | SYN data acked |\n");
        md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        StringBuilder csv = new StringBuilder("pair,client,https,rtt_ms,n,p50_ms,p90_ms,p99_ms,mean_ms,p50_rtt,p90_rtt,p99_rtt,"
                + "server_fast_open,syn_data_acked,measured_syn_data_acked,connections,note\n");
        for (LatencyRow row : rows) {
            if (!row.measured()) {
                String note = row.skipped() != null ? "skipped: " + row.skipped() : "failed: " + row.error();
                md.append("| ").append(row.pair()).append(" | ").append(number(row.rttMs())).append(" | ")
                        .append(note.replace("|", "/")).append(" |||||||||\n");
                csv.append(csvField(row.pair())).append(',').append(csvField(row.client())).append(',').append(row.https())
                        .append(',').append(number(row.rttMs())).append(",,,,,,,,,,,,,").append(csvField(note)).append('\n');
                continue;
            }
            String measured = row.measuredSynData() < 0 ? ""
                    : String.format(Locale.ROOT, " (measured: %d of %d)", row.measuredSynData(), row.count());
            md.append(String.format(Locale.ROOT, "| %s | %s | %d | %.1f | %.1f | %.1f | %.3f | %.3f | %.3f | %d of %d | %d of %d%s |%n",
                    row.pair(), number(row.rttMs()), row.count(), row.p50(), row.p90(), row.p99(),
                    row.p50() / row.rttMs(), row.p90() / row.rttMs(), row.p99() / row.rttMs(), row.fastOpenAtServer(),
                    row.connections(), row.synDataAcked(), row.connections(), measured));
            csv.append(String.format(Locale.ROOT, "%s,%s,%s,%s,%d,%.3f,%.3f,%.3f,%.3f,%.4f,%.4f,%.4f,%d,%d,%s,%d,%n",
                    csvField(row.pair()), csvField(row.client()), row.https(), number(row.rttMs()), row.count(), row.p50(),
                    row.p90(), row.p99(), row.mean(), row.p50() / row.rttMs(), row.p90() / row.rttMs(),
                    row.p99() / row.rttMs(), row.fastOpenAtServer(), row.synDataAcked(),
                    row.measuredSynData() < 0 ? "" : Long.toString(row.measuredSynData()), row.connections()));
        }
        md.append("\nWhat each client's time to first byte spans:\n\n");
        Set<String> seen = new LinkedHashSet<>();
        for (LatencyRow row : rows) {
            if (seen.add(row.pair())) {
                md.append("- ").append(row.pair()).append(": ").append(row.client()).append('\n');
            }
        }
        Files.writeString(dir.resolve(name + ".md"), md);
        Files.writeString(dir.resolve(name + ".csv"), csv);
        Files.writeString(dir.resolve(name + ".svg"), latencyChart(rows));
    }

    static String csvField(String text) {
        return text.contains(",") || text.contains("\"") ? "\"" + text.replace("\"", "\"\"") + "\"" : text;
    }

    /**
     * Grouped bars: for each RTT, each pair's p50 as a multiple of the RTT with a whisker up to its p90, the
     * floors marked: over HTTP 1.0 (Fast Open) and 2.0 (plain TCP), over HTTPS 2.0 and 3.0. Each pair has its own colour and number: the number
     * under its bars and in the legend below the plot (two columns), the p50 inside the bar's top. A pair not
     * measured at an RTT shows "n/a" in its place.
     */
    static String latencyChart(List<LatencyRow> rows) {
        List<Double> rtts = rows.stream().map(LatencyRow::rttMs).distinct().sorted().toList();
        List<String> pairs = rows.stream().map(LatencyRow::pair).distinct().toList();
        int width = 1000;
        int left = 50;
        int right = 110; // room for the floors' names
        Map<Double, List<String>> floors = floors(rows);
        int top = 74; // the title, and room for the labels of whiskers cut at the top
        int plotHeight = 320;
        int plotWidth = width - left - right;
        int legendRows = (pairs.size() + 1) / 2;
        int legendTop = top + plotHeight + 52;
        int height = legendTop + legendRows * 18 + 12;
        // Up to the highest p90, in steps of 0.5, from 3 to 4 RTT: higher whiskers are cut, their p90 written above.
        double highest = rows.stream().filter(LatencyRow::measured).mapToDouble(r -> r.p90() / r.rttMs()).max().orElse(0);
        double yMax = Math.min(4.0, Math.max(3.0, Math.ceil(highest * 2) / 2));
        double groupWidth = (double) plotWidth / Math.max(1, rtts.size());
        double slot = groupWidth * 0.9 / Math.max(1, pairs.size());
        double barWidth = slot * 0.8;
        StringBuilder svg = new StringBuilder();
        svg.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(width).append("\" height=\"").append(height)
                .append("\" font-family=\"sans-serif\" font-size=\"12\">\n");
        svg.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        svg.append("<text x=\"").append(left).append("\" y=\"22\" font-size=\"15\">Time to first byte of repeat"
                + " connections, in round trips</text>\n");
        svg.append("<text x=\"").append(left).append("\" y=\"40\" fill=\"#444\">bar: p50 (its value inside);"
                + " whisker: p90; number under a bar: the pair in the legend</text>\n");
        for (double y = 0; y <= yMax + 1e-9; y += 0.5) {
            double py = top + plotHeight - y / yMax * plotHeight;
            boolean floor = floors.containsKey(y);
            svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\"%s/>%n",
                    left, py, left + plotWidth, py, floor ? "#444" : "#ddd", floor ? " stroke-dasharray=\"6 4\"" : ""));
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.1f</text>%n",
                    left - 6, py + 4, y));
            List<String> names = floors.getOrDefault(y, List.of());
            for (int i = 0; i < names.size(); i++) {
                svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" fill=\"#444\">%s</text>%n",
                        left + plotWidth + 6, py + 4 + (i - (names.size() - 1) / 2.0) * 14, names.get(i)));
            }
        }
        for (int g = 0; g < rtts.size(); g++) {
            double gx = left + g * groupWidth + groupWidth * 0.05;
            double rtt = rtts.get(g);
            for (int p = 0; p < pairs.size(); p++) {
                String pair = pairs.get(p);
                LatencyRow row = rows.stream().filter(r -> r.pair().equals(pair) && r.rttMs() == rtt).findFirst().orElse(null);
                double x = gx + p * slot + (slot - barWidth) / 2;
                double centre = x + barWidth / 2;
                svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"9\" text-anchor=\"middle\">%d</text>%n",
                        centre, top + plotHeight + 11, p + 1));
                if (row == null || !row.measured()) {
                    svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"9\" text-anchor=\"middle\">n/a</text>%n",
                            centre, top + plotHeight - 4));
                    continue;
                }
                double p50 = row.p50() / rtt;
                double p90 = row.p90() / rtt;
                double y50 = top + plotHeight - Math.min(p50, yMax) / yMax * plotHeight;
                double y90 = top + plotHeight - Math.min(p90, yMax) / yMax * plotHeight;
                String color = COLORS[p % COLORS.length];
                svg.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
                                + "<title>%d %s at %s ms: p50 %.1f ms = %.2f RTT, p90 %.1f ms = %.2f RTT</title></rect>%n",
                        x, y50, barWidth, top + plotHeight - y50, color, p + 1, escape(pair), number(rtt), row.p50(), p50,
                        row.p90(), p90));
                // The whisker, p50 to p90, with a cap; dark so that it shows on every colour and on white.
                double cap = Math.min(4, barWidth / 2);
                svg.append(String.format(Locale.ROOT, "<path d=\"M%.1f %.1fV%.1fM%.1f %.1fH%.1f\" stroke=\"#222\" stroke-width=\"1.2\" fill=\"none\"/>%n",
                        centre, y50, y90, centre - cap, y90, centre + cap));
                if (p90 > yMax) {
                    // Cut at the top: the p90 written above the plot, neighbours' labels at two heights.
                    svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"8\" text-anchor=\"middle\">\u2191%.1f</text>%n",
                            centre, top - 3 - (p % 2) * 9, p90));
                }
                // The p50 inside the top of its bar (there is no whisker there), or above the whisker on a short bar.
                boolean inside = top + plotHeight - y50 >= 14;
                svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"8\" text-anchor=\"middle\" fill=\"%s\">%.2f</text>%n",
                        centre, inside ? y50 + 10 : y90 - 3, inside && dark(color) ? "white" : "#222", p50));
            }
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s ms RTT</text>%n",
                    left + g * groupWidth + groupWidth / 2, top + plotHeight + 30, number(rtt)));
        }
        int columnWidth = (width - left) / 2;
        for (int p = 0; p < pairs.size(); p++) {
            int x = left + (p / legendRows) * columnWidth;
            int y = legendTop + (p % legendRows) * 18;
            svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>"
                    + "<text x=\"%d\" y=\"%d\">%d. %s</text>%n", x, y, COLORS[p % COLORS.length], x + 18, y + 10, p + 1,
                    escape(pairs.get(p))));
        }
        svg.append("</svg>\n");
        return svg.toString();
    }

    /**
     * The floors to mark, in round trips, with their names: "Fast Open floor" and "plain TCP floor" at 1 and 2
     * over HTTP alone, at 2 and 3 over HTTPS alone, each name saying which protocol when both are drawn.
     */
    private static Map<Double, List<String>> floors(List<LatencyRow> rows) {
        boolean http = rows.stream().anyMatch(r -> !r.https());
        boolean https = rows.stream().anyMatch(LatencyRow::https);
        Map<Double, List<String>> floors = new TreeMap<>();
        if (http) {
            floors.computeIfAbsent(1.0, y -> new ArrayList<>()).add(https ? "HTTP, Fast Open" : "Fast Open floor");
            floors.computeIfAbsent(2.0, y -> new ArrayList<>()).add(https ? "HTTP, plain TCP" : "plain TCP floor");
        }
        if (https) {
            floors.computeIfAbsent(2.0, y -> new ArrayList<>()).add(http ? "HTTPS, Fast Open" : "Fast Open floor");
            floors.computeIfAbsent(3.0, y -> new ArrayList<>()).add(http ? "HTTPS, plain TCP" : "plain TCP floor");
        }
        return floors;
    }

    /** Whether white text reads better than black on {@code color} (#rrggbb): its relative luminance is low. */
    private static boolean dark(String color) {
        int rgb = Integer.parseInt(color.substring(1), 16);
        double luminance = 0.2126 * (rgb >> 16) + 0.7152 * ((rgb >> 8) & 0xff) + 0.0722 * (rgb & 0xff);
        return luminance < 140;
    }

    static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (var paths = Files.walk(root)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }
}
