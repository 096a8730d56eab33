package io.tfo4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code tfo4j} command: TCP Fast Open tools on top of tfo4j-core. */
@Command(name = "tfo4j", mixinStandardHelpOptions = true, version = "tfo4j 0.1.0",
        description = {"TCP Fast Open for the JVM: probe this host, test it end to end, talk TCP and HTTP with Fast Open.",
                "./tfo4j run [--listen PORTS] [--connect PORTS|all] -- COMMAND runs a program with the tfo4j agent"
                        + " (./tfo4j run --help).",
                "./tfo4j bench latency|throughput|agent-cost|cold-start measures Fast Open against the tools users would pick"
                        + " instead (./tfo4j bench --help; module tfo4j-bench)."},
        subcommands = {DemoCommand.class, ProbeCommand.class, SelftestCommand.class, NcCommand.class, GetCommand.class,
                ServeCommand.class, KeysCommand.class, AgentCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command line with its handler for failures at run time: one line naming the cause, exit code 1. */
    static CommandLine commandLine() {
        CommandLine commandLine = new CommandLine(new Main());
        commandLine.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("tfo4j " + cmd.getCommandName() + ": " + e.getMessage());
            return 1;
        });
        return commandLine;
    }
}
