package io.tfo4j.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.tfo4j.FastOpenCounters;
import io.tfo4j.lab.Listening;
import io.tfo4j.lab.NetNamespace;
import io.tfo4j.lab.Nginx;
import io.tfo4j.lab.Processes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/**
 * {@code tfo4j bench throughput}: connection-per-request rate on loopback, inside a private namespace with
 * {@code tcp_fastopen=3}, for {@code tfo4j serve} with and without Fast Open, nginx (Fast Open, one worker),
 * Netty epoll (Fast Open) and the JDK HttpServer (Fast Open through tfo4j), all serving the same page and all
 * driven by the same load generator ({@code tfo4j peer load}: tfo4j's dialer, Fast Open on). Each server is
 * a separate process pinned to CPU 1 and the load generator to CPU 0 (where there are two). Targets are
 * interleaved over rounds, so slow drifts of the machine spread over all of them. Beside the rate, each
 * server's CPU time per request over the measured seconds (its process tree's utime + stime, as the kernel
 * charged them), which other work on the machine moves far less than the rate. Writes throughput.md,
 * throughput.csv and throughput.svg.
 */
@Command(name = "throughput", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Connection-per-request rate on loopback: tfo4j serve, nginx, Netty epoll, the JDK HttpServer.",
                "Needs root (a network namespace) and iproute2; nginx where installed."})
final class ThroughputCommand implements Callable<Integer> {
    private static final int FIRST_PORT = 8090;

    @Spec
    CommandSpec spec;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "2", description = "Interleaved rounds (default 2).")
    int rounds;

    @Option(names = "--seconds", paramLabel = "S", defaultValue = "7", description = "Measured seconds per target and round (default 7).")
    int seconds;

    @Option(names = "--warmup", paramLabel = "S", defaultValue = "30",
            description = "Unmeasured seconds before those (default 30: a JVM server sharing one CPU with its JIT"
                    + " compiler threads was still compiling after 10).")
    int warmup;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "4",
            description = "Load generator threads (default 4: a 200 ms loopback retransmission stall then holds up a quarter of the load, not half).")
    int threads;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "bench-report",
            description = "Where to write throughput.md, throughput.csv and throughput.svg (default ./bench-report).")
    Path out;

    /**
     * One server under test: why it cannot run here (empty when it can), and how to start it in the
     * namespace on {@code port}, serving {@code site}.
     */
    private record Target(String name, Supplier<Optional<String>> missing, Launcher launcher) {
    }

    private interface Launcher {
        List<String> command(Path prefix, Path site, int port) throws IOException;
    }

    private static List<Target> targets() {
        return List.of(
                new Target("tfo4j serve (Fast Open)", Optional::empty, (prefix, site, port) ->
                        ChildJvm.command("serve", site.toString(), "--bind", "127.0.0.1", "--port", Integer.toString(port), "--fastopen")),
                new Target("tfo4j serve (plain TCP)", Optional::empty, (prefix, site, port) ->
                        ChildJvm.command("serve", site.toString(), "--bind", "127.0.0.1", "--port", Integer.toString(port))),
                new Target("nginx (Fast Open, 1 worker)", Nginx::unavailableReason, (prefix, site, port) ->
                        Nginx.command(prefix, "127.0.0.1", port, site)),
                new Target("Netty epoll (Fast Open)", Optional::empty, (prefix, site, port) ->
                        ChildJvm.command("peer", "netty-server", "--bind", "127.0.0.1", "--port", Integer.toString(port),
                                "--fastopen", "--body", site.resolve(BenchSite.PAGE_NAME).toString())),
                new Target("JDK HttpServer (Fast Open via tfo4j)", Optional::empty, (prefix, site, port) ->
                        ChildJvm.command("peer", "jdk-server", "--bind", "127.0.0.1", "--port", Integer.toString(port),
                                "--fastopen", "--body", site.resolve(BenchSite.PAGE_NAME).toString())));
    }

    @Override
    public Integer call() throws Exception {
        if (rounds < 1 || rounds > 20 || seconds < 1 || seconds > 300 || warmup < 0 || warmup > 60 || threads < 1 || threads > 64) {
            throw new ParameterException(spec.commandLine(),
                    "--rounds must be 1 to 20, --seconds 1 to 300, --warmup 0 to 60, --threads 1 to 64");
        }
        Optional<String> problem = NetNamespace.unavailableReason();
        if (problem.isPresent()) {
            System.err.println("tfo4j bench throughput: cannot make a network namespace here: " + problem.get());
            return 2;
        }
        boolean pin = Runtime.getRuntime().availableProcessors() >= 2 && Files.isExecutable(Path.of("/usr/bin/taskset"));
        Files.createDirectories(out);
        Path site = BenchSite.create();
        List<Target> targets = targets();
        List<BenchReport.ThroughputRow> rows = new ArrayList<>();
        long started = System.nanoTime();
        try (NetNamespace namespace = NetNamespace.create(3)) {
            // Connection per request leaves a TIME_WAIT socket per request: reuse them, and use every port.
            namespace.setSysctl("net/ipv4/tcp_tw_reuse", "1");
            namespace.setSysctl("net/ipv4/ip_local_port_range", "1024\t65535");
            for (int round = 1; round <= rounds; round++) {
                for (int t = 0; t < targets.size(); t++) {
                    Target target = targets.get(t);
                    Progress.say(String.format(Locale.ROOT, "round %d of %d: %s, %d s + %d s warm-up", round, rounds,
                            target.name(), seconds, warmup));
                    rows.add(measure(namespace, target, round, FIRST_PORT + t, site, pin));
                }
            }
        } finally {
            BenchReport.deleteTree(site);
        }
        Progress.done();
        BenchReport.writeThroughput(out, rows, seconds, warmup, threads, pin, (System.nanoTime() - started) / 1e9);
        System.out.print(Files.readString(out.resolve("throughput.md")));
        System.out.println();
        System.out.println("written: " + out.resolve("throughput.md") + ", throughput.csv, throughput.svg");
        return rows.stream().anyMatch(r -> r.error() != null) ? 1 : 0;
    }

    private BenchReport.ThroughputRow measure(NetNamespace namespace, Target target, int round, int port, Path site,
                                              boolean pin) throws IOException {
        Optional<String> missing = target.missing().get();
        if (missing.isPresent()) {
            return BenchReport.ThroughputRow.failed(target.name(), round, "skipped: " + missing.get());
        }
        Path prefix = Files.createTempDirectory("tfo4j-bench-server");
        List<String> command = new ArrayList<>(pin ? List.of("taskset", "-c", "1") : List.of());
        command.addAll(target.launcher().command(prefix, site, port));
        Process server = namespace.command(command.toArray(String[]::new)).redirectErrorStream(true)
                .redirectOutput(prefix.resolve("server.log").toFile()).start();
        try {
            Listening.await(namespace, "127.0.0.1", port, server);
            FastOpenCounters before = namespace.call(FastOpenCounters::read);
            List<String> load = new ArrayList<>(pin ? List.of("taskset", "-c", "0") : List.of());
            // ip netns exec and taskset exec what they run, so the process started is the server itself.
            load.addAll(ChildJvm.command("peer", "load", "--threads", Integer.toString(threads), "--warmup",
                    Integer.toString(warmup), "--seconds", Integer.toString(seconds), "--server-pid", Long.toString(server.pid()),
                    "http://127.0.0.1:" + port + "/" + BenchSite.PAGE_NAME));
            List<JsonNode> lines = ChildJvm.jsonLines(namespace, warmup + seconds + 60, load);
            long passive = namespace.call(FastOpenCounters::read).minus(before).passive();
            if (lines.isEmpty()) {
                return BenchReport.ThroughputRow.failed(target.name(), round, "the load generator reported nothing");
            }
            JsonNode result = lines.getFirst();
            return new BenchReport.ThroughputRow(target.name(), round, result.get("rps").asDouble(),
                    result.get("requests").asLong(), result.get("errors").asLong(), result.get("synData").asLong(),
                    passive, result.path("serverCpuMicros").asLong(-1), result.path("loadCpuMicros").asLong(-1),
                    result.get("errors").asLong() > 0 ? "errors: " + result.path("firstErrors") : null);
        } catch (IOException e) {
            String log = Files.exists(prefix.resolve("server.log")) ? Files.readString(prefix.resolve("server.log")).strip() : "";
            return BenchReport.ThroughputRow.failed(target.name(), round, e.getMessage() + (log.isEmpty() ? "" : "; server said: " + log));
        } finally {
            Processes.stop(server);
            BenchReport.deleteTree(prefix);
        }
    }
}
