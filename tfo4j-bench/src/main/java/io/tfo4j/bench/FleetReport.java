package io.tfo4j.bench;

import io.tfo4j.FastOpenCounters;
import io.tfo4j.bench.FleetRun.Connection;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The files {@code bench fleet} writes: NAME.md (the table and the goals), NAME.csv (every connection), NAME.svg. */
final class FleetReport {
    private static final String ACCEPTED = "#1b6ca8";
    private static final String PER_BACKEND = "#9bbfe0";

    private FleetReport() {
    }

    static void write(Path dir, String name, List<FleetRun> runs, int backends, double rttMs, double seconds)
            throws IOException {
        Files.writeString(dir.resolve(name + ".md"), markdown(runs, backends, rttMs, seconds));
        Files.writeString(dir.resolve(name + ".csv"), csv(runs, rttMs));
        Files.writeString(dir.resolve(name + ".svg"), chart(runs, backends, rttMs));
    }

    private static String markdown(List<FleetRun> runs, int backends, double rttMs, double seconds) {
        StringBuilder md = new StringBuilder("# tfo4j bench fleet\n\n");
        md.append("A fleet behind one address (tfo4j-lab's FleetLab): a client host (`tcp_fastopen=1`), a ")
                .append(BenchReport.number(rttMs)).append(" ms RTT delay line to a router whose multipath route to the")
                .append(" virtual address is hashed on ports, and ").append(backends).append(" backend hosts")
                .append(" (`tcp_fastopen=3`) that each hold that address and run what `tfo4j serve --fastopen` runs,")
                .append(" bound to it. In each scenario the client's cookies are forgotten first, then it makes its")
                .append(" requests one after another, each a GET on a new connection from a new source port, the request")
                .append(" offered in the SYN (tfo4j's dialer). \"SYN data\" means the client's kernel saw the SYN's data")
                .append(" acknowledged (TCP_INFO); each backend's page is its name, so the answer says which backend")
                .append(" took the connection. The counters are the backends' kernels' (`/proc/net/netstat`), summed.")
                .append(" Times to first byte are from the dial to the first byte of the answer, in RTTs (1.0 is a")
                .append(" request that rode in the SYN, 2.0 one that waited for the handshake).\n\n");
        md.append("Machine: ").append(BenchReport.machine()).append(". Took ")
                .append(BenchReport.number(Math.round(seconds))).append(" s.\n\n");
        md.append("| scenario | repeat connections with SYN data |");
        for (int b = 1; b <= backends; b++) {
            md.append(" backend").append(b).append(" |");
        }
        md.append(" first connection | p50 TTFB of repeats | PassiveFail | PassiveAltKey | CookieReqd |\n|---|---:|");
        md.append("---:|".repeat(backends)).append("---|---:|---:|---:|---:|\n");
        for (FleetRun run : runs) {
            List<Connection> repeats = run.repeats();
            md.append("| ").append(run.scenario().label()).append(" | ").append(share(repeats)).append(" |");
            Map<String, List<Connection>> byBackend = byBackend(repeats, backends);
            for (List<Connection> reached : byBackend.values()) {
                md.append(' ').append(count(reached)).append(" |");
            }
            if (run.connections().isEmpty()) {
                md.append(" none |");
            } else {
                Connection first = run.connections().getFirst();
                md.append(first.synData() ? " SYN data, " : " no SYN data, ")
                        .append(rtts(first.ttfbMs(), rttMs)).append(" RTT |");
            }
            md.append(' ').append(repeats.isEmpty() ? "-" : rtts(median(repeats), rttMs) + " RTT").append(" | ")
                    .append(run.total(FastOpenCounters::passiveFail)).append(" | ")
                    .append(run.total(FastOpenCounters::passiveAltKey)).append(" | ")
                    .append(run.total(FastOpenCounters::cookieReqd)).append(" |\n");
        }
        md.append("\nEach backend column: of the repeat connections that reached it, how many had SYN data.\n");
        for (FleetRun run : runs) {
            if (run.error() != null) {
                md.append("\n**").append(run.scenario().label()).append(" stopped early:** ").append(run.error()).append('\n');
            }
        }
        md.append("\n## Against the goals of issue 11\n\n");
        for (FleetRun run : runs) {
            md.append("- ").append(goal(run, backends, rttMs)).append('\n');
        }
        md.append("\n## The scenarios\n\n");
        for (FleetRun run : runs) {
            md.append("- **").append(run.scenario().label()).append("**: ").append(run.scenario().setup()).append(".\n");
            if (run.connections().stream().anyMatch(c -> !c.phase().isEmpty())) {
                md.append("\n  | after | connections | with SYN data |\n  |---|---:|---:|\n");
                Map<String, List<Connection>> byPhase = new LinkedHashMap<>();
                run.connections().forEach(c -> byPhase.computeIfAbsent(c.phase(), p -> new ArrayList<>()).add(c));
                byPhase.forEach((phase, connections) -> md.append("  | ").append(phase).append(" | ")
                        .append(connections.size()).append(" | ").append(connections.stream().filter(Connection::synData).count())
                        .append(" |\n"));
                md.append('\n');
            }
        }
        return md.toString();
    }

    /** The scenario's goal from the issue, and whether this run met it. */
    private static String goal(FleetRun run, int backends, double rttMs) {
        List<Connection> repeats = run.repeats();
        double share = repeats.isEmpty() ? 0 : (double) repeats.stream().filter(Connection::synData).count() / repeats.size();
        String label = run.scenario().label();
        return switch (run.scenario()) {
            case OWN_KEYS -> String.format(Locale.ROOT, "%s: about 1/%d of repeat connections with SYN data (the chance"
                            + " of reaching the backend that made the cookie): %.2f, %s", label, backends, share,
                    Math.abs(share - 1.0 / backends) <= 0.15 ? "met (within 0.15)" : "NOT met (more than 0.15 away)");
            case SHARED_KEY_FILE, ROTATION -> String.format(Locale.ROOT, "%s: 100%% of repeat connections with SYN data: %s",
                    label, share == 1.0 && run.total(FastOpenCounters::passiveFail) == 0 && !repeats.isEmpty() ? "met"
                            : "NOT met (" + share(repeats) + ")");
            case PROMOTED_EARLY -> String.format(Locale.ROOT, "%s: failures (PassiveFail > 0): %s", label,
                    run.total(FastOpenCounters::passiveFail) > 0 ? "yes, " + run.total(FastOpenCounters::passiveFail)
                            : "NO failure seen");
            case NO_COOKIE -> {
                boolean all = !run.connections().isEmpty() && run.connections().stream().allMatch(Connection::synData);
                double first = run.connections().isEmpty() ? Double.NaN : run.connections().getFirst().ttfbMs() / rttMs;
                yield String.format(Locale.ROOT, "%s: 100%% with SYN data including the first connection, which takes at"
                                + " most 1.05 RTT: %s (%s, first connection %.3f RTT)", label,
                        all && first <= 1.05 ? "met" : "NOT met", share(run.connections()), first);
            }
        };
    }

    private static String csv(List<FleetRun> runs, double rttMs) {
        StringBuilder csv = new StringBuilder("scenario,connection,phase,backend,syn_data,ttfb_ms,ttfb_rtt\n");
        for (FleetRun run : runs) {
            for (Connection c : run.connections()) {
                csv.append(BenchReport.csvField(run.scenario().label())).append(',').append(c.index()).append(',')
                        .append(BenchReport.csvField(c.phase())).append(',').append(c.backend()).append(',')
                        .append(c.synData()).append(',').append(String.format(Locale.ROOT, "%.3f,%.4f", c.ttfbMs(),
                                c.ttfbMs() / rttMs)).append('\n');
            }
        }
        return csv.toString();
    }

    /**
     * For each scenario a group of bars: the share of repeat connections with SYN data over all backends (dark),
     * then per backend (light), with the p50 time to first byte under the group.
     */
    static String chart(List<FleetRun> runs, int backends, double rttMs) {
        int barWidth = 22;
        int gap = 4;
        int groupWidth = Math.max(150, (backends + 1) * (barWidth + gap) + 40);
        int left = 60;
        int top = 76;
        int plotHeight = 240;
        int width = Math.max(760, left + runs.size() * groupWidth + 20);
        int height = top + plotHeight + 96;
        StringBuilder svg = new StringBuilder();
        svg.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
                + " font-family=\"sans-serif\" font-size=\"12\">%n", width, height));
        svg.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", width, height));
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"22\" font-size=\"15\">Repeat connections whose SYN data"
                + " was accepted: %d backends behind one address, %s ms RTT</text>%n", left, backends,
                BenchReport.number(rttMs)));
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"42\" fill=\"#555\">dark: all backends; light: backend1"
                + " to backend%d; under each group: p50 time to first byte of the repeats,</text>%n", left, backends));
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"58\" fill=\"#555\">and the first connection's"
                + " (which has no cookie yet)</text>%n", left));
        for (int percent = 0; percent <= 100; percent += 25) {
            double y = top + plotHeight - plotHeight * percent / 100.0;
            svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>%n",
                    left, width - 20, y, y));
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%d%%</text>%n",
                    left - 6, y + 4, percent));
        }
        for (int g = 0; g < runs.size(); g++) {
            FleetRun run = runs.get(g);
            int x = left + g * groupWidth + 18;
            List<Connection> repeats = run.repeats();
            List<List<Connection>> bars = new ArrayList<>();
            bars.add(repeats);
            bars.addAll(byBackend(repeats, backends).values());
            for (int b = 0; b < bars.size(); b++) {
                List<Connection> bar = bars.get(b);
                double share = bar.isEmpty() ? 0 : (double) bar.stream().filter(Connection::synData).count() / bar.size();
                double h = plotHeight * share;
                int bx = x + b * (barWidth + gap);
                svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" fill=\"%s\"/>%n",
                        bx, top + plotHeight - h, barWidth, h, b == 0 ? ACCEPTED : PER_BACKEND));
                svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"10\">%s</text>%n",
                        bx + barWidth / 2, top + plotHeight - h - 4, bar.isEmpty() ? "-" : Math.round(share * 100) + ""));
            }
            int center = x + (bars.size() * (barWidth + gap)) / 2;
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>%n",
                    center, top + plotHeight + 18, BenchReport.escape(run.scenario().label())));
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#555\">p50 %s RTT</text>%n",
                    center, top + plotHeight + 36, repeats.isEmpty() ? "-" : rtts(median(repeats), rttMs)));
            if (!run.connections().isEmpty()) {
                Connection first = run.connections().getFirst();
                svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#555\">first %s RTT</text>%n",
                        center, top + plotHeight + 54, rtts(first.ttfbMs(), rttMs)));
                svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#555\">(%s)</text>%n",
                        center, top + plotHeight + 70, first.synData() ? "SYN data" : "no SYN data"));
            }
        }
        svg.append("</svg>\n");
        return svg.toString();
    }

    /** The repeat connections by the backend that answered, backend1 first, every backend present. */
    private static Map<String, List<Connection>> byBackend(List<Connection> connections, int backends) {
        Map<String, List<Connection>> byBackend = new LinkedHashMap<>();
        for (int b = 1; b <= backends; b++) {
            byBackend.put("backend" + b, new ArrayList<>());
        }
        connections.forEach(c -> byBackend.computeIfAbsent(c.backend(), k -> new ArrayList<>()).add(c));
        return byBackend;
    }

    private static String share(List<Connection> connections) {
        long with = connections.stream().filter(Connection::synData).count();
        return connections.isEmpty() ? "none" : String.format(Locale.ROOT, "%d of %d (%.0f%%)", with, connections.size(),
                100.0 * with / connections.size());
    }

    private static String count(List<Connection> connections) {
        return connections.stream().filter(Connection::synData).count() + " of " + connections.size();
    }

    private static double median(List<Connection> connections) {
        double[] sorted = connections.stream().mapToDouble(Connection::ttfbMs).sorted().toArray();
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static String rtts(double millis, double rttMs) {
        return String.format(Locale.ROOT, "%.3f", millis / rttMs);
    }
}
