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

/** {@code bench soak} runs whole for a few seconds against tfo4j serve in its own JVM, and refuses bad settings. */
class SoakCommandTest {

    @Test
    void aShortSoakSamplesTheServerAndCountsNoErrors(@TempDir Path out) throws Exception {
        assumeTrue(WanLab.unavailableReason().isEmpty(), () -> "skipped: " + WanLab.unavailableReason().orElse(""));
        StringWriter err = new StringWriter();
        CommandLine commandLine = BenchMain.commandLine();
        commandLine.setErr(new PrintWriter(err));
        int exit = commandLine.execute("bench", "soak", "--minutes", "0.2", "--rate", "40", "--sample", "1",
                "--warmup", "3", "--out", out.toString());
        String md = Files.readString(out.resolve("soak.md"));
        assertEquals(0, exit, err + md);
        List<String[]> samples = Files.readAllLines(out.resolve("soak.csv")).stream().skip(1)
                .filter(l -> !l.startsWith("#")).map(l -> l.split(",")).toList();
        assertTrue(samples.size() >= 8, "a sample a second for 12 s: " + samples.size());
        String[] last = samples.getLast();
        // seconds,requests,errors,rss_kib,heap_after_gc_kib,fds,threads,server_cpu_s
        assertEquals("0", last[2], "no errors: " + md);
        assertTrue(Long.parseLong(last[1]) >= 40 * 12 * 9 / 10, "about 40 requests a second: " + String.join(",", last));
        assertTrue(Long.parseLong(last[3]) > 10_000 && Long.parseLong(last[4]) > 1_000 && Long.parseLong(last[5]) > 5
                && Long.parseLong(last[6]) > 5, "RSS, heap, descriptors and threads read: " + String.join(",", last));
        // Kernel facts from each connection's TCP_INFO: the server took the SYN data.
        assertTrue(md.matches("(?s).*SYN data accepted: [1-9]\\d* of \\d+.*"), md);
        assertTrue(Files.readString(out.resolve("soak.svg")).contains("<polyline"), "a chart");
        assertTrue(md.contains("| open descriptors |") && md.contains("growth per minute"), md);
    }

    @Test
    void settingsItCannotMeasureAreUsageErrors() {
        StringWriter err = new StringWriter();
        CommandLine commandLine = BenchMain.commandLine();
        commandLine.setErr(new PrintWriter(err));
        assertEquals(2, commandLine.execute("bench", "soak", "--minutes", "0"));
        assertTrue(err.toString().contains("--minutes must be more than 0 and at most 1440, got 0.0"), err.toString());
        assertEquals(2, commandLine.execute("bench", "soak", "--minutes", "1", "--warmup", "40"));
        assertTrue(err.toString().contains("--warmup must be 0 or more and at most half of --minutes (30 s), got 40 s"),
                err.toString());
        assertEquals(2, commandLine.execute("bench", "soak", "--rate", "0"));
        assertTrue(err.toString().contains("--rate must be 1 to 5000 requests per second, got 0"), err.toString());
    }
}
