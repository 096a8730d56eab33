package io.tfo4j.bench;

import io.tfo4j.FastOpenCounters;
import io.tfo4j.FastOpenKey;
import io.tfo4j.FastOpenKeyFile;
import io.tfo4j.FastOpenKeys;
import io.tfo4j.bench.peer.JitQuiet;
import io.tfo4j.lab.FleetLab;
import io.tfo4j.lab.NetNamespace;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * One scenario of {@code bench fleet}: key files written, servers started on every backend, the client's
 * cookies forgotten, then {@code connections} requests one after another from new source ports, the
 * scenario's key-file changes made between them; each backend's kernel counters taken before and after.
 *
 * @param scenario    what was measured
 * @param connections every connection in order (the first is the one that, with cookies, asks for one)
 * @param counters    each backend's Fast Open counters over the run, backend1 first
 * @param error       why the run stopped early, or null
 */
record FleetRun(FleetScenario scenario, List<Connection> connections, List<FastOpenCounters> counters, String error) {

    /** One connection: in which phase of the scenario, which backend answered, SYN data, time to first byte. */
    record Connection(int index, String phase, String backend, boolean synData, double ttfbMs) {
    }

    private static final Duration KEYS_APPLIED_WITHIN = Duration.ofSeconds(10);

    static FleetRun measure(FleetLab lab, FleetScenario scenario, int connections, List<Path> sites, Path keyDirectory,
                            FastOpenKey old, FastOpenKey fresh) throws IOException {
        int backends = lab.backends().size();
        List<FastOpenKeys> initial = scenario.initialKeys(backends, old, fresh);
        List<Path> keyFiles = new ArrayList<>();
        for (int i = 0; i < backends; i++) {
            Path file = null;
            if (initial.get(i) != null) {
                // One file for all when they share it, as a fleet would mount one Secret.
                file = keyDirectory.resolve(scenario == FleetScenario.SHARED_KEY_FILE ? scenario.name() + ".keys"
                        : scenario.name() + "-backend" + (i + 1) + ".keys");
                FastOpenKeyFile.writeAtomically(file, FastOpenKeyFile.format(initial.get(i)));
            }
            keyFiles.add(file);
        }
        List<FleetScenario.Step> steps = scenario.steps(backends, old, fresh);
        List<Connection> done = new ArrayList<>();
        lab.forgetClientCookies();
        try (FleetServers servers = FleetServers.start(lab, sites, keyFiles, scenario.noCookie())) {
            JitQuiet.await(Duration.ofSeconds(20));
            List<FastOpenCounters> before = counters(lab);
            FleetClient client = new FleetClient(new InetSocketAddress(FleetLab.VIRTUAL_ADDRESS, FleetServers.PORT),
                    scenario.noCookie());
            String error = null;
            int applied = 0;
            String phase = steps.isEmpty() ? "" : "all on the old key";
            for (int c = 0; c < connections && error == null; c++) {
                int phaseOfConnection = c * (steps.size() + 1) / connections;
                try {
                    while (applied < phaseOfConnection) {
                        FleetScenario.Step step = steps.get(applied);
                        FastOpenKeyFile.writeAtomically(keyFiles.get(step.backend()), FastOpenKeyFile.format(step.keys()));
                        servers.awaitKeys(step.backend(), step.keys(), KEYS_APPLIED_WITHIN);
                        phase = step.label();
                        applied++;
                    }
                    FleetClient.Exchange exchange = lab.client().call(client::get);
                    done.add(new Connection(c + 1, phase, exchange.backend(), exchange.synData(),
                            exchange.ttfbNanos() / 1e6));
                } catch (IOException e) {
                    error = "connection " + (c + 1) + ": " + e.getMessage();
                }
            }
            List<FastOpenCounters> after = counters(lab);
            List<FastOpenCounters> delta = new ArrayList<>();
            for (int i = 0; i < backends; i++) {
                delta.add(after.get(i).minus(before.get(i)));
            }
            if (error == null && !servers.problems().isEmpty()) {
                error = String.join("; ", servers.problems());
            }
            return new FleetRun(scenario, done, delta, error);
        }
    }

    private static List<FastOpenCounters> counters(FleetLab lab) throws IOException {
        List<FastOpenCounters> counters = new ArrayList<>();
        for (NetNamespace backend : lab.backends()) {
            counters.add(backend.call(FastOpenCounters::read));
        }
        return counters;
    }

    /** The connections after the first: those that can carry a cookie. */
    List<Connection> repeats() {
        return connections.size() <= 1 ? List.of() : connections.subList(1, connections.size());
    }

    /** One counter summed over every backend. */
    long total(ToLongFunction<FastOpenCounters> counter) {
        return counters.stream().mapToLong(counter).sum();
    }
}
