package io.tfo4j.bench;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code tfo4j bench}: measurements against the tools users would pick instead. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure Fast Open against the tools users would pick instead.",
        subcommands = {LatencyCommand.class, ThroughputCommand.class, AgentCostCommand.class, ColdStartCommand.class,
                FleetCommand.class, ReplayFloodCommand.class, SoakCommand.class})
final class BenchCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
