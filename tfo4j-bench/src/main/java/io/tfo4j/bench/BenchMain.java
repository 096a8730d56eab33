package io.tfo4j.bench;

import io.tfo4j.bench.peer.PeerCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code tfo4j bench} and {@code tfo4j peer}: the {@code ./tfo4j} launcher runs this for those two commands
 * and the user CLI ({@code io.tfo4j.cli.Main}) for every other, so the CLI a user installs carries no Netty,
 * JMH or HdrHistogram. The benchmarks run the CLI's own {@code tfo4j get} and {@code tfo4j serve} as child
 * JVMs on the class path the launcher names with {@code -Dtfo4j.cliClasspath} ({@link ChildJvm}).
 */
@Command(name = "tfo4j", mixinStandardHelpOptions = true, version = "tfo4j 0.1.0",
        description = "tfo4j's benchmarks: ./tfo4j bench latency|throughput|agent-cost|cold-start (./tfo4j --help for the rest).",
        subcommands = {BenchCommand.class, PeerCommand.class, CommandLine.HelpCommand.class})
public final class BenchMain implements Runnable {
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
        CommandLine commandLine = new CommandLine(new BenchMain());
        commandLine.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("tfo4j " + cmd.getCommandName() + ": " + e.getMessage());
            return 1;
        });
        return commandLine;
    }
}
