package io.tfo4j.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.tfo4j.lab.NetNamespace;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code tfo4j bench agent-cost}: what the agent's hooks cost connections that do not use Fast Open. The same
 * JVM ({@code tfo4j peer connect-loop}: plain JDK channels, short connections on loopback) runs without the
 * agent and with it, the agent told {@code listen=1,connect=1} so that every hook is in place (bind, connect,
 * accept, read, write) but no connection of the loop is on a listed port. Rounds alternate the order
 * (plain, agent, agent, plain, ...), and each run is pinned to one CPU where there are two or more (with two
 * threads on two CPUs, whether they share one moved a run's rate by a third). Reported, as medians over
 * rounds and agent/plain ratios: connections
 * per second; the CPU time per connection of the loop's two threads, where the hooks run (the steadiest
 * figure on a shared machine); and of the whole process (with the JIT, the GC and the agent's own threads). Runs in a private network namespace
 * when one can be made (root), else on this host's loopback. Writes agent-cost.md and agent-cost.csv.
 */
@Command(name = "agent-cost", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"What the agent's hooks cost plain connections: the same JVM with and without -javaagent.",
                "Loopback only; in a private network namespace when run as root."})
final class AgentCostCommand implements Callable<Integer> {
    /** Ports nothing in the loop uses: every hook is installed, none acts. */
    static final String AGENT_OPTIONS = "listen=1,connect=1";

    @Spec
    CommandSpec spec;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "6", description = "Rounds of each (default 6).")
    int rounds;

    @Option(names = "--connections", paramLabel = "N", defaultValue = "20000",
            description = "Measured connections per run (default 20000).")
    int connections;

    /**
     * 60000 rather than 20000: the agent's start (the class-file API reading and rewriting JDK classes) leaves
     * the JIT compiling for a few seconds; after 20000 connections that still cost the agent's JVM about 7%
     * more process CPU in most runs, and nothing after 60000.
     */
    @Option(names = "--warmup", paramLabel = "N", defaultValue = "60000",
            description = "Connections before those in each run (default 60000: the JIT finishes with the agent's own start).")
    int warmup;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "bench-report",
            description = "Where to write agent-cost.md and agent-cost.csv (default ./bench-report).")
    Path out;

    /** One run of the loop. */
    record Run(String variant, int round, long connections, double seconds, double cpuSeconds,
               double loopCpuSeconds, long startMillis, double startCpuSeconds) {
        double rate() {
            return connections / seconds;
        }

        double cpuMicrosPerConnection() {
            return cpuSeconds * 1e6 / connections;
        }

        double loopCpuMicrosPerConnection() {
            return loopCpuSeconds * 1e6 / connections;
        }
    }

    @Override
    public Integer call() throws Exception {
        if (rounds < 1 || rounds > 100 || connections < 100 || warmup < 0) {
            throw new ParameterException(spec.commandLine(), "--rounds must be 1 to 100, --connections at least 100");
        }
        Optional<String> noAgent = BuiltJars.agentMissing();
        if (noAgent.isPresent()) {
            System.err.println("tfo4j bench agent-cost: " + noAgent.get());
            return 2;
        }
        Files.createDirectories(out);
        boolean pin = Runtime.getRuntime().availableProcessors() >= 2 && Files.isExecutable(Path.of("/usr/bin/taskset"));
        NetNamespace namespace = NetNamespace.unavailableReason().isEmpty() ? NetNamespace.create(1) : null;
        List<Run> runs = new ArrayList<>();
        try {
            for (int round = 1; round <= rounds; round++) {
                boolean agentFirst = round % 2 == 0;
                for (int i = 0; i < 2; i++) {
                    boolean agent = agentFirst == (i == 0);
                    Progress.say(String.format(Locale.ROOT, "round %d/%d: %s", round, rounds, agent ? "agent" : "plain"));
                    runs.add(run(namespace, agent, round, pin));
                }
            }
        } finally {
            if (namespace != null) {
                namespace.close();
            }
        }
        Progress.done();
        String report = report(runs, namespace != null, pin);
        Files.writeString(out.resolve("agent-cost.md"), report);
        StringBuilder csv = new StringBuilder("variant,round,connections,seconds,cpu_seconds,loop_cpu_seconds,rate,"
                + "loop_cpu_us_per_connection,cpu_us_per_connection,start_ms,start_cpu_seconds\n");
        for (Run run : runs) {
            csv.append(String.format(Locale.ROOT, "%s,%d,%d,%.6f,%.6f,%.6f,%.1f,%.2f,%.2f,%d,%.3f%n", run.variant(),
                    run.round(), run.connections(), run.seconds(), run.cpuSeconds(), run.loopCpuSeconds(), run.rate(),
                    run.loopCpuMicrosPerConnection(), run.cpuMicrosPerConnection(), run.startMillis(),
                    run.startCpuSeconds()));
        }
        Files.writeString(out.resolve("agent-cost.csv"), csv);
        System.out.print(report);
        System.out.println("\nwritten: " + out.resolve("agent-cost.md") + ", agent-cost.csv");
        return 0;
    }

    private Run run(NetNamespace namespace, boolean agent, int round, boolean pin) throws IOException {
        List<String> jvmOptions = agent ? List.of(BuiltJars.javaagent(AGENT_OPTIONS)) : List.of();
        List<String> command = new ArrayList<>(pin ? List.of("taskset", "-c", "1") : List.of());
        command.addAll(ChildJvm.command(jvmOptions, "peer", "connect-loop", "--connections",
                Integer.toString(connections), "--warmup", Integer.toString(warmup)));
        List<JsonNode> lines = namespace != null ? ChildJvm.jsonLines(namespace, 600, command)
                : ChildJvm.jsonLines(command, 600);
        if (lines.size() != 1) {
            throw new IOException("tfo4j peer connect-loop printed " + lines.size() + " JSON lines");
        }
        JsonNode line = lines.get(0);
        return new Run(agent ? "agent" : "plain", round, line.get("connections").asLong(),
                line.get("seconds").asDouble(), line.get("cpuSeconds").asDouble(), line.get("loopCpuSeconds").asDouble(),
                line.get("startMillis").asLong(), line.get("startCpuSeconds").asDouble());
    }

    static String report(List<Run> runs, boolean namespace, boolean pinned) {
        double plainRate = median(runs, "plain", Run::rate);
        double agentRate = median(runs, "agent", Run::rate);
        double plainCpu = median(runs, "plain", Run::cpuMicrosPerConnection);
        double agentCpu = median(runs, "agent", Run::cpuMicrosPerConnection);
        double plainLoop = median(runs, "plain", Run::loopCpuMicrosPerConnection);
        double agentLoop = median(runs, "agent", Run::loopCpuMicrosPerConnection);
        StringBuilder md = new StringBuilder("# tfo4j bench agent-cost\n\n");
        md.append("What the agent's hooks cost connections on ports it was not asked about: `tfo4j peer connect-loop`")
                .append(" (plain JDK channels: connect, write 64 bytes, read 64, close, one at a time, on loopback")
                .append(namespace ? " in a private network namespace" : "").append(") without the agent and with")
                .append(" `-javaagent:tfo4j-agent.jar=").append(AGENT_OPTIONS).append("` (every hook installed, none")
                .append(" acting). Rounds alternate the order").append(pinned ? "; each run is pinned to CPU 1" : "")
                .append(".\n\n");
        md.append("Machine: ").append(BenchReport.machine()).append("\n\n");
        md.append("CPU: microseconds per connection; \"loop\" is the two threads of the loop (client and server, where")
                .append(" the hooks run), \"process\" all threads.\n\n");
        md.append("| round | plain conn/s | agent conn/s | plain loop CPU | agent loop CPU | plain process CPU |"
                + " agent process CPU |\n|---:|---:|---:|---:|---:|---:|---:|\n");
        int rounds = runs.stream().mapToInt(Run::round).max().orElse(0);
        for (int round = 1; round <= rounds; round++) {
            Run plain = find(runs, "plain", round);
            Run agent = find(runs, "agent", round);
            md.append(String.format(Locale.ROOT, "| %d | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f |%n", round,
                    plain.rate(), agent.rate(), plain.loopCpuMicrosPerConnection(), agent.loopCpuMicrosPerConnection(),
                    plain.cpuMicrosPerConnection(), agent.cpuMicrosPerConnection()));
        }
        md.append(String.format(Locale.ROOT, "| **median** | **%.0f** | **%.0f** | **%.2f** | **%.2f** | **%.2f** | **%.2f** |%n%n",
                plainRate, agentRate, plainLoop, agentLoop, plainCpu, agentCpu));
        md.append(String.format(Locale.ROOT, "Agent / plain: connection rate %.3fx; loop CPU per connection %.3fx;"
                + " process CPU per connection %.3fx.%n%n", agentRate / plainRate, agentLoop / plainLoop, agentCpu / plainCpu));
        md.append(String.format(Locale.ROOT, "Start (JVM uptime and process CPU when main begins, medians): plain %d ms"
                        + " and %.2f s, agent %d ms and %.2f s.%n",
                Math.round(median(runs, "plain", Run::startMillis)), median(runs, "plain", Run::startCpuSeconds),
                Math.round(median(runs, "agent", Run::startMillis)), median(runs, "agent", Run::startCpuSeconds)));
        return md.toString();
    }

    private static Run find(List<Run> runs, String variant, int round) {
        return runs.stream().filter(r -> r.variant().equals(variant) && r.round() == round).findFirst().orElseThrow();
    }

    private static double median(List<Run> runs, String variant, java.util.function.ToDoubleFunction<Run> value) {
        double[] values = runs.stream().filter(r -> r.variant().equals(variant)).mapToDouble(value).sorted().toArray();
        int n = values.length;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }
}
