package io.tfo4j.bench;

import io.tfo4j.lab.FleetLab;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@code bench fleet} runs whole on a small fleet, and refuses settings it cannot measure. */
class FleetCommandTest {

    @Test
    void aSmallFleetRunsEveryScenarioAndSharedKeysKeepFastOpenWhereOwnKeysLoseIt(@TempDir Path out) throws Exception {
        assumeTrue(FleetLab.unavailableReason().isEmpty(), () -> "skipped: " + FleetLab.unavailableReason().orElse(""));
        StringWriter err = new StringWriter();
        CommandLine commandLine = BenchMain.commandLine();
        commandLine.setErr(new PrintWriter(err));
        int exit = commandLine.execute("bench", "fleet", "--backends", "2", "--connections", "14", "--rtt", "5ms",
                "--out", out.toString());
        String md = Files.readString(out.resolve("fleet.md"));
        assertEquals(0, exit, err + md);
        assertTrue(md.contains("shared key file: 100% of repeat connections with SYN data: met"), md);
        assertTrue(md.contains("rotation in order: 100% of repeat connections with SYN data: met"), md);
        List<String[]> ownKeys = Files.readAllLines(out.resolve("fleet.csv")).stream().skip(1)
                .map(line -> line.split(",")).filter(f -> f[0].equals("own keys")).toList();
        assertEquals(14, ownKeys.size());
        // 13 repeats over 2 backends, each reaching the other backend than the one before with probability 1/2.
        assertTrue(ownKeys.stream().skip(1).anyMatch(f -> f[4].equals("false")), "own keys lose Fast Open: " + md);
        List<String[]> noCookie = Files.readAllLines(out.resolve("fleet.csv")).stream().skip(1)
                .map(line -> line.split(",")).filter(f -> f[0].equals("no-cookie mode")).toList();
        assertTrue(noCookie.stream().allMatch(f -> f[4].equals("true")), "no-cookie: every connection, the first too: " + md);
    }

    @Test
    void settingsItCannotMeasureAreUsageErrors() {
        StringWriter err = new StringWriter();
        CommandLine commandLine = BenchMain.commandLine();
        commandLine.setErr(new PrintWriter(err));
        assertEquals(2, commandLine.execute("bench", "fleet", "--backends", "1"));
        assertTrue(err.toString().contains("--backends must be 2 to 8, got 1"), err.toString());
        assertEquals(2, commandLine.execute("bench", "fleet", "--backends", "3", "--connections", "10"));
        assertTrue(err.toString().contains("--connections must be 20 to 10000 with 3 backends (two per step of the"
                + " rotation), got 10"), err.toString());
        assertEquals(2, commandLine.execute("bench", "fleet", "--rtt", "5s"));
        assertTrue(err.toString().contains("--rtt must be 1ms to 2s, got 5000ms"), err.toString());
    }
}
