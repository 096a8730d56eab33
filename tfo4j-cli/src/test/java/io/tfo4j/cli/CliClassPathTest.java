package io.tfo4j.cli;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CLI a user installs carries what its commands need and nothing of the benchmarks (tfo4j-bench): no
 * Netty, HdrHistogram or JMH on its class path, and its help still points at {@code ./tfo4j bench}.
 */
class CliClassPathTest {
    @Test
    void noBenchmarkLibrariesOnTheClassPath() {
        for (String name : List.of("io.netty.channel.epoll.Epoll", "org.HdrHistogram.Histogram", "org.openjdk.jmh.Main",
                "io.tfo4j.bench.BenchMain")) {
            assertFalse(loadable(name), name + " is on the CLI's class path");
        }
        assertTrue(loadable("picocli.CommandLine"), "the check itself can find a class");
    }

    @Test
    void theHelpNamesBench() {
        String usage = Main.commandLine().getUsageMessage();
        assertTrue(usage.contains("./tfo4j bench latency|throughput|agent-cost|cold-start"), usage);
    }

    private static boolean loadable(String name) {
        try {
            Class.forName(name, false, CliClassPathTest.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }
}
