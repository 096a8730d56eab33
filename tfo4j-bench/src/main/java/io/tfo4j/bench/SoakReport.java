package io.tfo4j.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * The report of {@code tfo4j bench soak}: NAME.md (summary and growth per minute), NAME.csv (every sample) and
 * NAME.svg (the four resources over time).
 */
record SoakReport(List<Sample> samples, int warmupSeconds, int rate, double seconds, long requests, long errors,
                  long synData, Collection<Long> ttfbMicros, List<String> errorKinds, double rttMs, String machine) {

    /** One look at the server: kibibytes, counts, CPU seconds since the load began. */
    record Sample(double seconds, long requests, long errors, long rssKib, long heapAfterGcKib, long fds, long threads,
                  double cpuSeconds) {
    }

    /** The resources the report fits and charts. */
    private enum Metric {
        RSS("RSS", "MiB", s -> s.rssKib() / 1024.0),
        HEAP("heap after GC", "MiB", s -> s.heapAfterGcKib() / 1024.0),
        FDS("open descriptors", "", s -> s.fds()),
        THREADS("threads", "", s -> s.threads());

        final String label;
        final String unit;
        final ToDoubleFunction<Sample> value;

        Metric(String label, String unit, ToDoubleFunction<Sample> value) {
            this.label = label;
            this.unit = unit;
            this.value = value;
        }

        /** The samples that have this resource (the heap is known only from the server's first report on). */
        List<Sample> known(List<Sample> samples) {
            return samples.stream().filter(s -> value.applyAsDouble(s) >= 0).toList();
        }
    }

    void write(Path dir, String name) throws IOException {
        List<Sample> fitted = fitted();
        StringBuilder md = new StringBuilder("# tfo4j bench soak\n\n");
        md.append(String.format(Locale.ROOT, "tfo4j serve's file server (FastOpenFileServer, Fast Open queue 256, early"
                        + " data WAIT) in its own JVM (`tfo4j peer serve`), loaded at %d requests/s, each on a new Fast Open"
                        + " connection (three GETs of a %d-byte page, then a POST /echo), across an emulated link of %s ms"
                        + " RTT, for %s s. The server is sampled every %s s: VmRSS and Threads from /proc/PID/status, the"
                        + " entries of /proc/PID/fd, and its heap after a full GC (System.gc(), which the server runs and"
                        + " prints itself at that interval). Growth is the least-squares slope over the samples after the"
                        + " first %d s.%n%n", rate, BenchSite.PAGE.length(), BenchReport.number(rttMs),
                BenchReport.number(Math.round(seconds)), samples.size() < 2 ? "?"
                        : BenchReport.number(Math.round(samples.get(1).seconds() - samples.get(0).seconds())), warmupSeconds));
        md.append("Machine: ").append(machine).append(".\n\n");
        List<Long> ttfb = ttfbMicros.stream().sorted().toList();
        double cpu = samples.isEmpty() ? 0 : samples.getLast().cpuSeconds();
        md.append(String.format(Locale.ROOT, "Requests answered: %d (%.1f/s), errors: %d, SYN data accepted: %d of %d"
                        + " (%.1f%%); time to first byte p50 %.2f ms, p99 %.2f ms; server CPU %.2f ms per request.%n%n",
                requests, requests / seconds, errors, synData, requests, requests == 0 ? 0 : 100.0 * synData / requests,
                percentile(ttfb, 50) / 1000.0, percentile(ttfb, 99) / 1000.0, requests == 0 ? 0 : cpu * 1000 / requests));
        md.append("| resource | at start of fit | at end | min | max | growth per minute | growth over the fit |\n");
        md.append("|---|---:|---:|---:|---:|---:|---:|\n");
        StringBuilder csvSummary = new StringBuilder();
        for (Metric metric : Metric.values()) {
            List<Sample> known = metric.known(fitted);
            double[] xs = known.stream().mapToDouble(s -> s.seconds() / 60).toArray();
            double[] ys = known.stream().mapToDouble(metric.value).toArray();
            double slope = slope(xs, ys);
            double min = metric.known(samples).stream().mapToDouble(metric.value).min().orElse(Double.NaN);
            double max = metric.known(samples).stream().mapToDouble(metric.value).max().orElse(Double.NaN);
            String unit = metric.unit.isEmpty() ? "" : " " + metric.unit;
            md.append(String.format(Locale.ROOT, "| %s | %s%s | %s%s | %s | %s | %+.3f%s | %+.3f%s |%n", metric.label,
                    decimal(ys.length == 0 ? Double.NaN : ys[0]), unit, decimal(ys.length == 0 ? Double.NaN : ys[ys.length - 1]),
                    unit, decimal(min), decimal(max), slope, unit,
                    xs.length < 2 ? Double.NaN : slope * (xs[xs.length - 1] - xs[0]), unit));
            csvSummary.append(String.format(Locale.ROOT, "# %s growth per minute: %.4f%s%n", metric.label, slope, unit));
        }
        if (!errorKinds.isEmpty()) {
            md.append("\nErrors (first 20):\n\n");
            errorKinds.forEach(e -> md.append("- ").append(e.replace("|", "/")).append('\n'));
        }
        StringBuilder csv = new StringBuilder("seconds,requests,errors,rss_kib,heap_after_gc_kib,fds,threads,server_cpu_s\n");
        for (Sample s : samples) {
            csv.append(String.format(Locale.ROOT, "%.1f,%d,%d,%d,%d,%d,%d,%.2f%n", s.seconds(), s.requests(), s.errors(),
                    s.rssKib(), s.heapAfterGcKib(), s.fds(), s.threads(), s.cpuSeconds()));
        }
        Files.writeString(dir.resolve(name + ".md"), md);
        Files.writeString(dir.resolve(name + ".csv"), csv.append(csvSummary));
        Files.writeString(dir.resolve(name + ".svg"), chart());
    }

    /** The samples the growth is fitted over: those after the warm-up. */
    private List<Sample> fitted() {
        return samples.stream().filter(s -> s.seconds() >= warmupSeconds).toList();
    }

    /** The least-squares slope of y over x; NaN for fewer than two points. */
    static double slope(double[] xs, double[] ys) {
        int n = xs.length;
        if (n < 2) {
            return Double.NaN;
        }
        double mx = 0;
        double my = 0;
        for (int i = 0; i < n; i++) {
            mx += xs[i] / n;
            my += ys[i] / n;
        }
        double sxy = 0;
        double sxx = 0;
        for (int i = 0; i < n; i++) {
            sxy += (xs[i] - mx) * (ys[i] - my);
            sxx += (xs[i] - mx) * (xs[i] - mx);
        }
        return sxx == 0 ? Double.NaN : sxy / sxx;
    }

    /** Four panels, one per resource, over minutes; the warm-up shaded, the fitted line dashed. */
    private String chart() {
        int width = 760;
        int panel = 150;
        int left = 70;
        int plotWidth = width - left - 30;
        StringBuilder svg = new StringBuilder();
        svg.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
                + " font-family=\"sans-serif\" font-size=\"12\">%n", width, 60 + Metric.values().length * (panel + 30)));
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"22\" font-size=\"15\">tfo4j bench soak: %d requests/s for %s"
                + " min, %d errors</text>%n", left, rate, BenchReport.number(Math.round(seconds / 6) / 10.0), errors));
        double maxMinutes = Math.max(1e-9, samples.isEmpty() ? 1 : samples.getLast().seconds() / 60);
        List<Sample> fitted = fitted();
        int top = 40;
        for (Metric metric : Metric.values()) {
            double max = metric.known(samples).stream().mapToDouble(metric.value).max().orElse(1);
            double yMax = max <= 0 ? 1 : niceCeiling(max * 1.1);
            double warmX = left + Math.min(1, warmupSeconds / 60.0 / maxMinutes) * plotWidth;
            svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#eee\"/>%n",
                    left, top, warmX - left, panel));
            svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\""
                    + " stroke=\"#888\"/>%n", left, top, plotWidth, panel));
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%s%s</text>%n", left, top - 5,
                    BenchReport.escape(metric.label), metric.unit.isEmpty() ? "" : " (" + metric.unit + ")"));
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>%n", left - 5,
                    top + 10, decimal(yMax)));
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>%n", left - 5, top + panel));
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">0 min</text>%n", left, top + panel + 14));
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s min</text>%n",
                    left + plotWidth, top + panel + 14, decimal(Math.round(maxMinutes * 10) / 10.0)));
            StringBuilder points = new StringBuilder();
            for (Sample s : metric.known(samples)) {
                points.append(String.format(Locale.ROOT, "%.1f,%.1f ", left + s.seconds() / 60 / maxMinutes * plotWidth,
                        top + panel - metric.value.applyAsDouble(s) / yMax * panel));
            }
            svg.append(String.format(Locale.ROOT, "<polyline points=\"%s\" fill=\"none\" stroke=\"#1f77b4\""
                    + " stroke-width=\"1.5\"/>%n", points.toString().trim()));
            double[] xs = metric.known(fitted).stream().mapToDouble(s -> s.seconds() / 60).toArray();
            double[] ys = metric.known(fitted).stream().mapToDouble(metric.value).toArray();
            double slope = slope(xs, ys);
            if (!Double.isNaN(slope)) {
                double mx = java.util.Arrays.stream(xs).average().orElse(0);
                double my = java.util.Arrays.stream(ys).average().orElse(0);
                double x0 = xs[0];
                double x1 = xs[xs.length - 1];
                svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#d62728\""
                                + " stroke-dasharray=\"5 4\"/>%n", left + x0 / maxMinutes * plotWidth,
                        top + panel - (my + slope * (x0 - mx)) / yMax * panel, left + x1 / maxMinutes * plotWidth,
                        top + panel - (my + slope * (x1 - mx)) / yMax * panel));
                svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" fill=\"#d62728\">%+.3f%s"
                        + " per minute</text>%n", left + plotWidth, top - 5, slope, metric.unit.isEmpty() ? "" : " " + metric.unit));
            }
            top += panel + 30;
        }
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">minutes (shaded: warm-up, not fitted; dashed:"
                + " least-squares fit)</text>%n", left, top + 8));
        svg.append("</svg>\n");
        return svg.toString();
    }

    private static double niceCeiling(double value) {
        double magnitude = Math.pow(10, Math.floor(Math.log10(value)));
        for (double step : new double[] {1, 2, 2.5, 5, 10}) {
            if (step * magnitude >= value) {
                return step * magnitude;
            }
        }
        return 10 * magnitude;
    }

    private static String decimal(double value) {
        return Double.isNaN(value) ? "n/a" : value == Math.rint(value) && Math.abs(value) < 1e15
                ? Long.toString((long) value) : String.format(Locale.ROOT, "%.1f", value);
    }

    private static double percentile(List<Long> sorted, double percent) {
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(percent / 100 * sorted.size());
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
    }
}
