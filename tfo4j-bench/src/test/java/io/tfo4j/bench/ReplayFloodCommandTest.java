package io.tfo4j.bench;

import io.tfo4j.lab.WanLab;
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

/** {@code bench replay-flood} runs whole on one small pair of rounds, and refuses bad settings. */
class ReplayFloodCommandTest {

    @Test
    void onePairOfRoundsReplaysThePostSynsAndRunsEachPostOnce(@TempDir Path out) throws Exception {
        assumeTrue(WanLab.unavailableReason().isEmpty(), () -> "skipped: " + WanLab.unavailableReason().orElse(""));
        StringWriter err = new StringWriter();
        CommandLine commandLine = BenchMain.commandLine();
        commandLine.setErr(new PrintWriter(err));
        int exit = commandLine.execute("bench", "replay-flood", "--rounds", "1", "--requests", "8", "--copies", "5",
                "--queue", "8", "--rtt", "20ms", "--out", out.toString());
        String md = Files.readString(out.resolve("replay-flood.md"));
        assertEquals(0, exit, err + md);
        // pair,condition,client,n,p50_ms,p99_ms,syn_data_accepted,failed,replayed_syns,listen_overflow,dropped_replays,post_executions,posts_sent
        List<String[]> rows = Files.readAllLines(out.resolve("replay-flood.csv")).stream().skip(1).map(l -> l.split(",")).toList();
        assertEquals(4, rows.size(), "baseline and flood, GET and POST: " + rows.size());
        for (String[] row : rows) {
            assertEquals("8", row[3], "every request answered: " + String.join(",", row));
            assertEquals(row[12], row[11], "each POST ran once: " + String.join(",", row));
            boolean flood = row[1].equals("flood");
            assertEquals(flood ? "40" : "0", row[8], "5 copies of each of 8 POST SYNs in the flood: " + String.join(",", row));
        }
        assertTrue(md.contains("(extra executions: 0)"), md);
    }

    @Test
    void settingsItCannotMeasureAreUsageErrors() {
        StringWriter err = new StringWriter();
        CommandLine commandLine = BenchMain.commandLine();
        commandLine.setErr(new PrintWriter(err));
        assertEquals(2, commandLine.execute("bench", "replay-flood", "--copies", "0"));
        assertTrue(err.toString().contains("--copies must be 1 to 1000 and --queue 1 to 65535"), err.toString());
        assertEquals(2, commandLine.execute("bench", "replay-flood", "--rtt", "5s"));
        assertTrue(err.toString().contains("--rtt must be 1ms to 2s, got 5000ms"), err.toString());
    }
}
