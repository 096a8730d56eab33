package io.tfo4j.bench;

import io.tfo4j.FastOpenKey;
import io.tfo4j.lab.FleetLab;
import io.tfo4j.lab.LinkProfile;
import io.tfo4j.lab.NetNamespace;
import io.tfo4j.lab.ServerWarmUp;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code tfo4j bench fleet}: how many repeat connections keep Fast Open when several backends serve one address,
 * for each way of keying them ({@link FleetScenario}), on a {@link FleetLab}. Writes NAME.md, NAME.csv and
 * NAME.svg, fleet.* by default.
 */
@Command(name = "fleet", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Fast Open across backends behind one address: own keys, a shared key file, a rotation,"
                + " a key promoted too early, no-cookie mode.",
                "Needs root (network namespaces), iproute2 and /dev/net/tun."})
final class FleetCommand implements Callable<Integer> {
    /** Requests that warm this JVM's client and servers up before anything is measured, per backend. */
    private static final int WARM_UP_REQUESTS = 1500;

    @Spec
    CommandSpec spec;

    @Option(names = "--backends", paramLabel = "N", defaultValue = "3",
            description = "Backends behind the address (default 3, at most 8).")
    int backends;

    @Option(names = "--connections", paramLabel = "N", defaultValue = "60",
            description = "Connections per scenario, one after another (default 60).")
    int connections;

    @Option(names = "--rtt", paramLabel = "TIME", defaultValue = "50ms", converter = MillisConverter.class,
            description = "Round-trip time between the client and the fleet (default 50ms).")
    Duration rtt;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "bench-report",
            description = "Where to write the report (default ./bench-report).")
    Path out;

    @Option(names = "--name", paramLabel = "NAME", defaultValue = "fleet",
            description = "The report's file names: NAME.md, NAME.csv and NAME.svg (default fleet).")
    String name;

    @Override
    public Integer call() throws Exception {
        if (backends < 2 || backends > 8) {
            throw new ParameterException(spec.commandLine(), "--backends must be 2 to 8, got " + backends);
        }
        // The rotation changes a key file 3 times per backend; each change needs connections after it.
        int least = 2 * (3 * backends + 1);
        if (connections < least || connections > 10_000) {
            throw new ParameterException(spec.commandLine(), "--connections must be " + least + " to 10000 with "
                    + backends + " backends (two per step of the rotation), got " + connections);
        }
        if (rtt.compareTo(Duration.ofMillis(1)) < 0 || rtt.compareTo(Duration.ofSeconds(2)) > 0) {
            throw new ParameterException(spec.commandLine(), "--rtt must be 1ms to 2s, got " + rtt.toMillis() + "ms");
        }
        if (!name.matches("[A-Za-z0-9._-]+")) {
            throw new ParameterException(spec.commandLine(), "--name must be a file name without a directory, got '" + name + "'");
        }
        Optional<String> problem = FleetLab.unavailableReason();
        if (problem.isPresent()) {
            System.err.println("tfo4j bench fleet: cannot build the emulated network here: " + problem.get());
            return 2;
        }
        Files.createDirectories(out);
        long started = System.nanoTime();
        double rttMillis = rtt.toNanos() / 1e6;
        List<FleetRun> runs = new ArrayList<>();
        Path sitesDir = Files.createTempDirectory("tfo4j-bench-fleet-sites");
        Path keyDir = FleetServers.keyDirectory();
        try (FleetLab lab = FleetLab.create(LinkProfile.rtt(rtt), backends)) {
            List<Path> sites = new ArrayList<>();
            for (int i = 1; i <= backends; i++) {
                sites.add(FleetServers.site(sitesDir, i));
            }
            warmUp(lab, sites);
            FastOpenKey old = FastOpenKey.random();
            FastOpenKey fresh = FastOpenKey.random();
            FleetScenario[] scenarios = FleetScenario.values();
            for (int s = 0; s < scenarios.length; s++) {
                Progress.say(String.format(Locale.ROOT, "[%d/%d] %s: %d connections", s + 1, scenarios.length,
                        scenarios[s].label(), connections));
                runs.add(FleetRun.measure(lab, scenarios[s], connections, sites, keyDir, old, fresh));
            }
        } finally {
            BenchReport.deleteTree(sitesDir);
            BenchReport.deleteTree(keyDir);
        }
        Progress.done();
        FleetReport.write(out, name, runs, backends, rttMillis, (System.nanoTime() - started) / 1e9);
        System.out.print(Files.readString(out.resolve(name + ".md")));
        System.out.println();
        System.out.println("written: " + out.resolve(name + ".md") + ", " + name + ".csv, " + name + ".svg");
        return runs.stream().anyMatch(r -> r.error() != null) ? 1 : 0;
    }

    /**
     * Compiles the servers' and the client's request paths before anything is measured: servers on every
     * backend, requested from their own hosts; the client's dialer from backend1's host to the address it holds
     * (no cookie of the client's host is made).
     */
    private static void warmUp(FleetLab lab, List<Path> sites) throws Exception {
        Progress.say("warming up the servers and the client");
        List<Path> noKeyFiles = Collections.nCopies(sites.size(), null);
        try (FleetServers servers = FleetServers.start(lab, sites, noKeyFiles, false)) {
            for (NetNamespace backend : lab.backends()) {
                backend.call(() -> ServerWarmUp.run("http://" + FleetLab.VIRTUAL_ADDRESS + ":" + FleetServers.PORT
                        + FleetServers.PAGE, null, WARM_UP_REQUESTS));
            }
            FleetClient client = new FleetClient(new InetSocketAddress(FleetLab.VIRTUAL_ADDRESS,
                    FleetServers.PORT), false);
            lab.backends().getFirst().call(() -> {
                for (int i = 0; i < WARM_UP_REQUESTS; i++) {
                    client.get();
                }
                return null;
            });
        }
    }
}
