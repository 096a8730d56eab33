package io.tfo4j.bench;

import io.tfo4j.FastOpenCounters;
import io.tfo4j.bench.FleetRun.Connection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fleet report judges each scenario against its goal from what was measured, not from the scenario's name. */
class FleetReportTest {
    private static final double RTT = 50;

    @Test
    void aGoalIsMetOnlyWhenTheConnectionsMeetIt(@TempDir Path dir) throws Exception {
        List<FleetRun> runs = List.of(
                run(FleetScenario.OWN_KEYS, 1, 9, 0),
                run(FleetScenario.SHARED_KEY_FILE, 10, 0, 0),
                run(FleetScenario.ROTATION, 9, 1, 0),
                run(FleetScenario.PROMOTED_EARLY, 10, 0, 0),
                run(FleetScenario.NO_COOKIE, 10, 0, 1.2));
        FleetReport.write(dir, "fleet", runs, 3, RTT, 1);
        String md = Files.readString(dir.resolve("fleet.md"));
        assertTrue(md.contains("own keys: about 1/3 of repeat connections with SYN data (the chance of reaching the"
                + " backend that made the cookie): 0.10, NOT met"), md);
        assertTrue(md.contains("shared key file: 100% of repeat connections with SYN data: met"), md);
        assertTrue(md.contains("rotation in order: 100% of repeat connections with SYN data: NOT met (9 of 10 (90%))"), md);
        assertTrue(md.contains("promoted before staged: failures (PassiveFail > 0): NO failure seen"), md);
        assertTrue(md.contains("no-cookie mode: 100% with SYN data including the first connection, which takes at most"
                + " 1.05 RTT: NOT met (11 of 11 (100%), first connection 1.200 RTT)"), md);
        String svg = Files.readString(dir.resolve("fleet.svg"));
        assertTrue(svg.startsWith("<svg") && svg.contains("rotation in order") && svg.endsWith("</svg>\n"), svg);
        assertTrue(Files.readString(dir.resolve("fleet.csv")).lines().count() == 1 + 5 * 11);
    }

    /**
     * Eleven connections spread over three backends: the first without SYN data (it asks for the cookie) unless
     * {@code firstRtts} is set, then {@code withSynData} of the ten repeats with it, each at 1 RTT, the rest at 2.
     */
    private static FleetRun run(FleetScenario scenario, int withSynData, long passiveFail, double firstRtts) {
        List<Connection> connections = new ArrayList<>();
        boolean firstSynData = firstRtts > 0;
        connections.add(new Connection(1, "", "backend1", firstSynData, (firstSynData ? firstRtts : 2) * RTT));
        for (int i = 0; i < 10; i++) {
            boolean synData = i < withSynData;
            connections.add(new Connection(i + 2, "", "backend" + (1 + i % 3), synData, (synData ? 1.02 : 2.03) * RTT));
        }
        FastOpenCounters counters = new FastOpenCounters(0, 0, withSynData, passiveFail, 0, 1, 0, 0);
        return new FleetRun(scenario, connections, List.of(counters, counters, counters), null);
    }
}
