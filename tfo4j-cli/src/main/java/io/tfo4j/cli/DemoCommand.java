package io.tfo4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.tfo4j.http.FastOpenFileServer;
import io.tfo4j.http.TlsIdentity;
import io.tfo4j.lab.LinkProfile;
import io.tfo4j.lab.ServerWarmUp;
import io.tfo4j.lab.WanLab;
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
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * {@code tfo4j demo}: the round trip Fast Open saves, on this machine. Builds a {@link WanLab} (two hosts
 * joined by an emulated link with the given round-trip time), runs a {@link FastOpenFileServer} with Fast
 * Open on the server host, and runs {@code tfo4j get} on the client host twice: plain TCP, then Fast Open.
 * Prints each request's outcome, time to first byte and round trips, and what Fast Open saved on repeat
 * requests. With {@code --tls} the same over HTTPS, where a new connection takes three round trips to its
 * first byte without Fast Open and two with it. Needs what a {@link WanLab} needs (root, iproute2, /dev/net/tun).
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"See the round trip Fast Open saves: two emulated hosts, plain TCP then Fast Open.",
                "Needs root (network namespaces), iproute2 and /dev/net/tun."})
final class DemoCommand implements Callable<Integer> {
    private static final int PORT = 8080;
    private static final String PAGE = "<!doctype html><title>tfo4j demo</title>\n<p>This page came over an emulated"
            + " wide-area link.</p>\n";

    @Spec
    CommandSpec spec;

    @Option(names = "--rtt", paramLabel = "TIME", defaultValue = "50ms", converter = MillisConverter.class,
            description = "Round-trip time of the emulated link (default 50ms; e.g. 10ms, 0.15s).")
    Duration rtt;

    @Option(names = "--requests", paramLabel = "N", defaultValue = "5",
            description = "Requests per run, each on a new connection (default 5, at least 2).")
    int requests;

    @Option(names = "--tls", description = "Over HTTPS (TLS 1.3, a self-signed certificate made for the run):"
            + " the SYN carries the TLS ClientHello; plain about 3 round trips, Fast Open about 2.")
    boolean tls;

    /** Warm-up requests over TLS: each is a full handshake, about ten times the CPU of a plain one. */
    private static final int TLS_WARM_UP_REQUESTS = 400;

    @Override
    public Integer call() throws Exception {
        if (requests < 2 || requests > 100) {
            throw new ParameterException(spec.commandLine(), "--requests must be 2 to 100, got " + requests);
        }
        if (rtt.compareTo(Duration.ofMillis(1)) < 0 || rtt.compareTo(Duration.ofSeconds(2)) > 0) {
            throw new ParameterException(spec.commandLine(), "--rtt must be 1ms to 2s, got " + rtt.toMillis() + "ms");
        }
        Optional<String> problem = WanLab.unavailableReason();
        if (problem.isPresent()) {
            System.err.println("tfo4j demo: cannot build the emulated network here: " + problem.get());
            return 2;
        }
        double rttMillis = rtt.toNanos() / 1e6;
        Path site = Files.createTempDirectory("tfo4j-demo");
        Files.writeString(site.resolve("index.html"), PAGE);
        List<String> accessLog = new CopyOnWriteArrayList<>();
        TlsIdentity identity = tls ? TlsIdentity.selfSigned(List.of(WanLab.SERVER_ADDRESS)) : null;
        Path caFile = Files.createTempFile("tfo4j-demo", ".pem");
        try (WanLab lab = WanLab.create(LinkProfile.rtt(rtt));
             FastOpenFileServer server = lab.server().call(() -> FastOpenFileServer.builder(site)
                     .bind(WanLab.SERVER_ADDRESS).port(PORT).fastOpen(256).tls(identity).accessLog(accessLog::add).start())) {
            String url = (tls ? "https://" : "http://") + WanLab.SERVER_ADDRESS + ":" + PORT + "/";
            List<String> trust = List.of();
            if (tls) {
                Files.writeString(caFile, identity.certificatePem());
                trust = List.of("--cacert", caFile.toString());
            }
            System.out.printf(Locale.ROOT, "tfo4j demo: a client host (%s) and a server host (%s), %s ms round trip%n",
                    WanLab.CLIENT_ADDRESS, WanLab.SERVER_ADDRESS, format(rttMillis));
            System.out.println("  (network namespaces joined by a user-space delay line; this machine's own settings are untouched)");
            System.out.println("  server: tfo4j serve --fastopen" + (tls ? " --tls" : "") + " at " + url + " (Fast Open "
                    + (server.fastOpenStatus().active() ? "on" : "NOT active: " + server.fastOpenStatus().reason()) + ")");

            Progress.say("warming the server up...");
            if (tls) {
                lab.server().call(() -> ServerWarmUp.run(url, identity.clientContext(), TLS_WARM_UP_REQUESTS));
            } else {
                lab.server().call(() -> ServerWarmUp.run(url));
            }
            accessLog.clear();
            List<Row> plain = run(lab, url, false, trust, accessLog);
            List<Row> fastOpen = run(lab, url, true, trust, accessLog);
            String getCommand = tls ? "tfo4j get --cacert CERT" : "tfo4j get";
            print("plain TCP: " + getCommand + " --no-fastopen", plain, rttMillis);
            print("Fast Open: " + getCommand, fastOpen, rttMillis);

            double plainRepeat = meanTtfb(plain.subList(1, plain.size()));
            double fastOpenRepeat = meanTtfb(fastOpen.subList(1, fastOpen.size()));
            double saved = plainRepeat - fastOpenRepeat;
            System.out.println();
            System.out.printf(Locale.ROOT, "Fast Open saved %.1f ms per request (%.0f%%) at %s ms RTT%s%n",
                    saved, 100 * saved / plainRepeat, format(rttMillis), tls ? " over HTTPS" : "");
            System.out.printf(Locale.ROOT, "  (mean time to first byte of requests 2 to %d: %.1f ms plain, %.1f ms with Fast Open;"
                    + " request 1 of the Fast Open run fetched the cookie)%n", requests, plainRepeat, fastOpenRepeat);
            if (tls) {
                System.out.println("  (over HTTPS the SYN carried the TLS ClientHello, never the request: \"syn-clienthello\")");
            }
            return 0;
        } finally {
            deleteTree(site);
            Files.deleteIfExists(caFile);
        }
    }

    /** One request as the client and the server saw it. */
    private record Row(int request, String outcome, double ttfbMs, String serverSaw) {
    }

    private List<Row> run(WanLab lab, String url, boolean fastOpen, List<String> trust, List<String> accessLog)
            throws IOException {
        int logged = accessLog.size();
        List<String> args = new ArrayList<>(List.of("get", "--json", "--count", Integer.toString(requests)));
        args.addAll(trust);
        if (!fastOpen) {
            args.add("--no-fastopen");
        }
        args.add(url);
        Progress.say(fastOpen ? "running tfo4j get (Fast Open)..." : "running tfo4j get --no-fastopen...");
        List<JsonNode> lines = ChildJvm.jsonLines(lab.client(), 60 + requests * 5, args.toArray(String[]::new));
        Progress.done();
        List<Row> rows = new ArrayList<>();
        for (JsonNode line : lines) {
            if (line.has("error")) {
                throw new IOException("request " + line.get("request") + " failed: " + line.get("error").asText());
            }
            int index = logged + rows.size();
            String serverSaw = index < accessLog.size()
                    ? accessLog.get(index).substring(accessLog.get(index).lastIndexOf("fastopen=") + 9) : "?";
            rows.add(new Row(line.get("request").asInt(), line.path("fastOpen").path("outcome").asText(),
                    line.get("ttfbMs").asDouble(), serverSaw));
        }
        if (rows.size() != requests) {
            throw new IOException("tfo4j get reported " + rows.size() + " of " + requests + " requests");
        }
        return rows;
    }

    private static void print(String title, List<Row> rows, double rttMillis) {
        System.out.println();
        System.out.println(title);
        System.out.printf("  %-8s %-18s %-16s %20s %12s%n", "request", "client outcome", "server saw",
                "time to first byte", "round trips");
        for (Row row : rows) {
            System.out.printf(Locale.ROOT, "  %-8d %-18s %-16s %17.1f ms %12.2f%n", row.request(), row.outcome(),
                    row.serverSaw(), row.ttfbMs(), row.ttfbMs() / rttMillis);
        }
    }

    private static double meanTtfb(List<Row> rows) {
        return rows.stream().mapToDouble(Row::ttfbMs).average().orElse(Double.NaN);
    }

    private static void deleteTree(Path root) throws IOException {
        try (var paths = Files.walk(root)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }

    private static String format(double millis) {
        return millis == Math.rint(millis) ? Long.toString((long) millis) : String.format(Locale.ROOT, "%.1f", millis);
    }

}
