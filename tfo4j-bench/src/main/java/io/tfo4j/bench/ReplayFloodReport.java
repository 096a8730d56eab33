package io.tfo4j.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/** The report of {@code tfo4j bench replay-flood}: NAME.md and NAME.csv. */
final class ReplayFloodReport {

    /** What the command was asked to do. */
    record Settings(double rttMs, int rounds, int requests, int copies, int queue) {
    }

    /** One real client's round: its times to first byte (answered requests only), SYN data accepted, failures. */
    record Client(String method, List<Double> ttfbMs, int synData, List<String> errors) {
        int sent() {
            return ttfbMs.size() + errors.size();
        }
    }

    /**
     * One round on a fresh listener.
     *
     * @param replayed       POST SYNs the link replayed
     * @param listenOverflow the server kernel's TCPFastOpenListenOverflow over the round
     * @param dropped        requests the early-data handler dropped (replays that reached it)
     * @param postExecutions POSTs the server ran (access log lines with 200)
     */
    record Round(int pair, boolean flood, Client get, Client post, long replayed, long listenOverflow, long dropped,
                 long postExecutions) {
        /** Every real request answered right, and each POST ran exactly once. */
        boolean clean() {
            return get.errors().isEmpty() && post.errors().isEmpty() && postExecutions == post.sent();
        }
    }

    private ReplayFloodReport() {
    }

    static void write(Path dir, String name, List<Round> rounds, Settings settings, double seconds) throws IOException {
        StringBuilder md = new StringBuilder("# tfo4j bench replay-flood\n\n");
        md.append(String.format(Locale.ROOT, "tfo4j serve (Fast Open queue %d, early-data policy WAIT) across an emulated"
                        + " link of %s ms RTT. In each round a fresh listener takes %d GETs (of a %d-byte page) from one real"
                        + " client and %d POSTs (to /echo) from another, both with Fast Open, each on a new connection. In a"
                        + " flood round an attacker on the path replays every POST SYN %d times from other source ports;"
                        + " %d pairs of rounds, baseline and flood in ABBA order. Time to first byte is from the dial to the"
                        + " first response byte.%n%n", settings.queue(), BenchReport.number(settings.rttMs()),
                settings.requests(), BenchSite.PAGE.length(), settings.requests(), settings.copies(), settings.rounds()));
        md.append("Machine: ").append(BenchReport.machine()).append(". Took ").append(BenchReport.number(Math.round(seconds)))
                .append(" s.\n\n");
        md.append("| client | baseline p50 ms | flood p50 ms | p50 ratio | baseline p99 ms | flood p99 ms | p99 ratio |"
                + " median of round ratios (p50) | SYN data accepted, baseline | SYN data accepted, flood |\n");
        md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (String method : List.of("GET", "POST")) {
            Function<Round, Client> of = r -> method.equals("GET") ? r.get() : r.post();
            List<Double> base = pooled(rounds, false, of);
            List<Double> flood = pooled(rounds, true, of);
            md.append(String.format(Locale.ROOT, "| %s | %.1f | %.1f | %s | %.1f | %.1f | %s | %s | %s | %s |%n", method,
                    percentile(base, 50), percentile(flood, 50), ratio(percentile(flood, 50), percentile(base, 50)),
                    percentile(base, 99), percentile(flood, 99), ratio(percentile(flood, 99), percentile(base, 99)),
                    medianPairRatio(rounds, of), synData(rounds, false, of), synData(rounds, true, of)));
        }
        long posts = rounds.stream().mapToLong(r -> r.post().sent()).sum();
        long executions = rounds.stream().mapToLong(Round::postExecutions).sum();
        long replayed = rounds.stream().mapToLong(Round::replayed).sum();
        long dropped = rounds.stream().mapToLong(Round::dropped).sum();
        long errors = rounds.stream().mapToLong(r -> r.get().errors().size() + r.post().errors().size()).sum();
        md.append(String.format(Locale.ROOT, "%nOver all rounds: %d POSTs sent, %d executed (extra executions: %d);"
                        + " %d replayed POST SYNs, of which %d reached the server's early-data handler and were dropped"
                        + " there unanswered; %d real requests failed.%n%n", posts, executions, executions - posts, replayed,
                dropped, errors));
        md.append("What the flood does: each replayed copy that the server's kernel takes as a Fast Open connection ends"
                + " in a reset from the client's host (its SYN-ACK reaches a port where nothing listens), and Linux keeps a"
                + " reset Fast Open connection's queue slot for 60 s, a defence against spoofed SYN data; so the copies fill"
                + " the listener's Fast Open queue (\"dropped replays\": the copies taken before it filled, whose requests"
                + " the early-data handler held and dropped when the reset came), and from then on the kernel refuses the"
                + " copies' data (\"listen overflow\"). A real client's SYN, which comes before its copies, takes the slot"
                + " the previous real connection freed when its handshake completed; a real SYN that finds the slot taken"
                + " falls back to a plain handshake and pays one more round trip (\"SYN data accepted\"). No replay runs:"
                + " WAIT holds a request until its handshake completes, which a replay's never does.\n\n");
        md.append("| round | condition | GET p50 ms | GET p99 ms | POST p50 ms | POST p99 ms | SYN data accepted (GET, POST)"
                + " | replayed SYNs | listen overflow | dropped replays | POSTs run / sent | failed |\n");
        md.append("|---:|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|\n");
        StringBuilder csv = new StringBuilder("pair,condition,client,n,p50_ms,p99_ms,syn_data_accepted,failed,replayed_syns,"
                + "listen_overflow,dropped_replays,post_executions,posts_sent\n");
        for (Round round : rounds) {
            md.append(String.format(Locale.ROOT, "| %d | %s | %.1f | %.1f | %.1f | %.1f | %d, %d | %d | %d | %d | %d / %d | %d |%n",
                    round.pair() + 1, round.flood() ? "flood" : "baseline", percentile(round.get().ttfbMs(), 50),
                    percentile(round.get().ttfbMs(), 99), percentile(round.post().ttfbMs(), 50),
                    percentile(round.post().ttfbMs(), 99), round.get().synData(), round.post().synData(), round.replayed(),
                    round.listenOverflow(), round.dropped(), round.postExecutions(), round.post().sent(),
                    round.get().errors().size() + round.post().errors().size()));
            for (Client client : List.of(round.get(), round.post())) {
                csv.append(String.format(Locale.ROOT, "%d,%s,%s,%d,%.3f,%.3f,%d,%d,%d,%d,%d,%d,%d%n", round.pair() + 1,
                        round.flood() ? "flood" : "baseline", client.method(), client.ttfbMs().size(),
                        percentile(client.ttfbMs(), 50), percentile(client.ttfbMs(), 99), client.synData(),
                        client.errors().size(), round.replayed(), round.listenOverflow(), round.dropped(),
                        round.postExecutions(), round.post().sent()));
            }
        }
        List<String> failures = rounds.stream().flatMap(r -> java.util.stream.Stream.concat(r.get().errors().stream(),
                r.post().errors().stream())).distinct().limit(10).toList();
        if (!failures.isEmpty()) {
            md.append("\nFailures (first 10 kinds):\n\n");
            failures.forEach(f -> md.append("- ").append(f.replace("|", "/")).append('\n'));
        }
        Files.writeString(dir.resolve(name + ".md"), md);
        Files.writeString(dir.resolve(name + ".csv"), csv);
    }

    private static List<Double> pooled(List<Round> rounds, boolean flood, Function<Round, Client> of) {
        return rounds.stream().filter(r -> r.flood() == flood).flatMap(r -> of.apply(r).ttfbMs().stream()).toList();
    }

    private static String synData(List<Round> rounds, boolean flood, Function<Round, Client> of) {
        long accepted = rounds.stream().filter(r -> r.flood() == flood).mapToLong(r -> of.apply(r).synData()).sum();
        long sent = rounds.stream().filter(r -> r.flood() == flood).mapToLong(r -> of.apply(r).sent()).sum();
        return accepted + " of " + sent;
    }

    /** The median over pairs of rounds of flood p50 / baseline p50. */
    private static String medianPairRatio(List<Round> rounds, Function<Round, Client> of) {
        List<Double> ratios = new ArrayList<>();
        for (int pair = 0; ; pair++) {
            int p = pair;
            List<Round> both = rounds.stream().filter(r -> r.pair() == p).toList();
            if (both.isEmpty()) {
                break;
            }
            double base = both.stream().filter(r -> !r.flood()).mapToDouble(r -> percentile(of.apply(r).ttfbMs(), 50)).findFirst().orElse(Double.NaN);
            double flood = both.stream().filter(Round::flood).mapToDouble(r -> percentile(of.apply(r).ttfbMs(), 50)).findFirst().orElse(Double.NaN);
            ratios.add(flood / base);
        }
        return ratios.isEmpty() ? "n/a" : String.format(Locale.ROOT, "%.2f", percentile(ratios, 50));
    }

    private static String ratio(double value, double base) {
        return Double.isNaN(value) || Double.isNaN(base) || base == 0 ? "n/a" : String.format(Locale.ROOT, "%.2f", value / base);
    }

    /** The nearest-rank percentile, NaN for no values. */
    static double percentile(Collection<Double> values, double percent) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        List<Double> sorted = values.stream().sorted().toList();
        int rank = (int) Math.ceil(percent / 100 * sorted.size());
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
    }
}
