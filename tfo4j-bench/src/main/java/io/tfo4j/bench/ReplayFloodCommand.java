package io.tfo4j.bench;

import io.tfo4j.FastOpenCounters;
import io.tfo4j.FastOpenDialer;
import io.tfo4j.http.FastOpenFileServer;
import io.tfo4j.lab.DelayLine;
import io.tfo4j.lab.LinkProfile;
import io.tfo4j.lab.Packets;
import io.tfo4j.lab.WanLab;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code tfo4j bench replay-flood}: what a replay flood costs the real clients of {@code tfo4j serve} (Fast
 * Open, early-data policy WAIT). In each round a fresh server takes, over an emulated link, {@code --requests}
 * GETs from one real client and as many POSTs from another, both with Fast Open, each on a new connection. In a
 * flood round the link (an attacker on the path) also delivers every POST SYN {@code --copies} more times from
 * other source ports; in a baseline round it does not. Rounds alternate baseline and flood (ABBA), each on a
 * new listener so that one round's flood leaves the next no full Fast Open queue. Reports each real client's
 * p50 and p99 time to first byte with and without the flood and their ratios, how many SYNs carried accepted
 * data, and what the server ran: POST executions against POSTs sent (goal: equal) and the replays its
 * handler dropped. Writes NAME.md and NAME.csv.
 */
@Command(name = "replay-flood", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Real clients' time to first byte from tfo4j serve with and without a replay flood of their POST SYNs.",
                "Needs root (network namespaces), iproute2 and /dev/net/tun."})
final class ReplayFloodCommand implements Callable<Integer> {
    private static final String SERVER = WanLab.SERVER_ADDRESS;

    @Spec
    CommandSpec spec;

    @Option(names = "--rtt", paramLabel = "TIME", defaultValue = "50ms", converter = MillisConverter.class,
            description = "Round-trip time of the emulated link (default 50ms).")
    Duration rtt;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "4",
            description = "Pairs of rounds, one baseline and one flood each, in ABBA order (default 4).")
    int rounds;

    @Option(names = "--requests", paramLabel = "N", defaultValue = "40",
            description = "Requests per real client per round: N GETs and N POSTs (default 40).")
    int requests;

    @Option(names = "--copies", paramLabel = "N", defaultValue = "20",
            description = "Replayed copies of each POST SYN in a flood round (default 20).")
    int copies;

    @Option(names = "--queue", paramLabel = "QLEN", defaultValue = "256",
            description = "The server's Fast Open queue length, as tfo4j serve --fastopen (default 256).")
    int queue;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "bench-report",
            description = "Where to write the report (default ./bench-report).")
    Path out;

    @Option(names = "--name", paramLabel = "NAME", defaultValue = "replay-flood",
            description = "The report's file names: NAME.md and NAME.csv (default replay-flood).")
    String name;

    @Override
    public Integer call() throws Exception {
        if (rounds < 1 || rounds > 100 || requests < 5 || requests > 10_000) {
            throw new ParameterException(spec.commandLine(), "--rounds must be 1 to 100 and --requests 5 to 10000");
        }
        if (copies < 1 || copies > 1000 || queue < 1 || queue > 65535) {
            throw new ParameterException(spec.commandLine(), "--copies must be 1 to 1000 and --queue 1 to 65535");
        }
        if (rtt.compareTo(Duration.ofMillis(1)) < 0 || rtt.compareTo(Duration.ofSeconds(2)) > 0) {
            throw new ParameterException(spec.commandLine(), "--rtt must be 1ms to 2s, got " + rtt.toMillis() + "ms");
        }
        if (!name.matches("[A-Za-z0-9._-]+")) {
            throw new ParameterException(spec.commandLine(), "--name must be a file name without a directory, got '" + name + "'");
        }
        Optional<String> problem = WanLab.unavailableReason();
        if (problem.isPresent()) {
            System.err.println("tfo4j bench replay-flood: cannot build the emulated network here: " + problem.get());
            return 2;
        }
        Files.createDirectories(out);
        Path site = BenchSite.create();
        List<ReplayFloodReport.Round> measured = new ArrayList<>();
        long started = System.nanoTime();
        try (WanLab lab = WanLab.create(LinkProfile.rtt(rtt))) {
            Progress.say("warm-up round (fetches the cookie, warms the server's code), not measured");
            round(lab, site, -1, false);
            for (int r = 0; r < rounds; r++) {
                // ABBA: baseline first in even pairs, flood first in odd ones.
                for (boolean flood : r % 2 == 0 ? new boolean[] {false, true} : new boolean[] {true, false}) {
                    Progress.say(String.format(Locale.ROOT, "[%d/%d] %s: %d GETs and %d POSTs", measured.size() + 1,
                            2 * rounds, flood ? "flood (" + copies + " copies of each POST SYN)" : "baseline",
                            requests, requests));
                    measured.add(round(lab, site, r, flood));
                }
            }
        } finally {
            BenchReport.deleteTree(site);
        }
        Progress.done();
        ReplayFloodReport.write(out, name, measured, new ReplayFloodReport.Settings(rtt.toNanos() / 1e6, rounds,
                requests, copies, queue), (System.nanoTime() - started) / 1e9);
        System.out.print(Files.readString(out.resolve(name + ".md")));
        System.out.println();
        System.out.println("written: " + out.resolve(name + ".md") + ", " + name + ".csv");
        return measured.stream().allMatch(ReplayFloodReport.Round::clean) ? 0 : 1;
    }

    /** One round on a fresh listener: both real clients at once, the POST SYNs replayed when {@code flood}. */
    private ReplayFloodReport.Round round(WanLab lab, Path site, int pair, boolean flood) throws Exception {
        AtomicLong postExecutions = new AtomicLong();
        AtomicLong dropped = new AtomicLong();
        FastOpenFileServer server = lab.server().call(() -> FastOpenFileServer.builder(site).bind(SERVER).port(0)
                .fastOpen(queue).accessLog(line -> {
                    if (line.contains("\"POST /echo HTTP/1.1\" 200 ")) {
                        postExecutions.incrementAndGet();
                    } else if (line.contains("early-data=dropped")) {
                        dropped.incrementAndGet();
                    }
                }).start());
        try {
            InetSocketAddress address = new InetSocketAddress(SERVER, server.port());
            FastOpenCounters before = lab.server().call(FastOpenCounters::read);
            long replayedBefore = lab.line().packetsReplayed(DelayLine.Direction.A_TO_B);
            if (flood) {
                lab.line().replayFilter(DelayLine.Direction.A_TO_B,
                        packet -> Packets.isSynWithDataStartingWith(packet, "POST "), copies);
            }
            Future<ReplayFloodReport.Client> gets = lab.client().submit(() -> client(address, "GET", pair));
            Future<ReplayFloodReport.Client> posts = lab.client().submit(() -> client(address, "POST", pair));
            long timeout = 30 + requests * (10 + 4 * rtt.toMillis() / 1000);
            ReplayFloodReport.Client get = gets.get(timeout, TimeUnit.SECONDS);
            ReplayFloodReport.Client post = posts.get(timeout, TimeUnit.SECONDS);
            lab.line().replayFilter(DelayLine.Direction.A_TO_B, null);
            Thread.sleep(4 * rtt.toMillis()); // for the log lines of replays still in flight
            FastOpenCounters counted = lab.server().call(FastOpenCounters::read).minus(before);
            return new ReplayFloodReport.Round(pair, flood, get, post,
                    lab.line().packetsReplayed(DelayLine.Direction.A_TO_B) - replayedBefore, counted.listenOverflow(),
                    dropped.get(), postExecutions.get());
        } finally {
            lab.line().replayFilter(DelayLine.Direction.A_TO_B, null);
            server.close();
        }
    }

    /** One real client: {@code requests} GETs of the page, or POSTs to /echo each with its own body. */
    private ReplayFloodReport.Client client(InetSocketAddress address, String method, int pair) {
        FastOpenDialer dialer = FastOpenDialer.create().withConnectTimeout(Duration.ofSeconds(10));
        List<Double> ttfbMs = new ArrayList<>();
        int synData = 0;
        List<String> errors = new ArrayList<>();
        for (int i = 0; i < requests; i++) {
            String body = method.equals("POST") ? "round " + pair + " request " + i : null;
            byte[] request = TimedExchange.request(method, SERVER, body == null ? "/" + BenchSite.PAGE_NAME : "/echo", body);
            try {
                TimedExchange exchange = TimedExchange.run(dialer, address, request);
                String expected = body == null ? BenchSite.PAGE : body;
                if (exchange.status() != 200 || !exchange.body().equals(expected)) {
                    errors.add(method + " answered " + exchange.status() + " with " + exchange.body().length() + " bytes");
                    continue;
                }
                ttfbMs.add(exchange.ttfbNanos() / 1e6);
                synData += exchange.synData() ? 1 : 0;
            } catch (IOException e) {
                errors.add(method + ": " + e.getMessage());
            }
        }
        return new ReplayFloodReport.Client(method, ttfbMs, synData, errors);
    }

}
