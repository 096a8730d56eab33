package io.tfo4j.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tfo4j.FastOpenCounters;
import io.tfo4j.lab.LinkProfile;
import io.tfo4j.lab.Nginx;
import io.tfo4j.lab.WanLab;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * {@code bench cold-start}: what a user pays for the CLI's cold JVM. Two parts, each interleaved round by
 * round so that the machine's drift hits every variant alike:
 * <ol>
 *   <li>Repeat connections at an emulated RTT ({@link WanLab}, client {@code tcp_fastopen=1} as on a usual
 *       host, nginx with {@code fastopen=256} on the server host): after one warm-up connection that leaves a
 *       cookie in the client host's kernel, every round starts fresh processes of {@code tfo4j nc} and
 *       {@code tfo4j get} (launcher, cold JVM, one connection each; with the AOT cache and with
 *       {@code TFO4J_AOT=off}) and {@code curl --tcp-fastopen} as the anchor. Time to first byte as each
 *       client reports it (from the start of its connect), in RTTs, and whether the SYN carried data.</li>
 *   <li>The launcher's own start: wall and CPU time of whole {@code ./tfo4j probe} and
 *       {@code ./tfo4j --version} processes with and without the AOT cache, on this host.</li>
 * </ol>
 * Needs root (network namespaces), nginx, curl and GNU time ({@code /usr/bin/time}); whatever is missing is
 * named with the fix. Writes {@code OUT.md} and {@code OUT.csv}.
 */
@Command(name = "cold-start", mixinStandardHelpOptions = true,
        description = "Cold-JVM cost of tfo4j nc / get repeat connections at an emulated RTT (curl as anchor),"
                + " and ./tfo4j probe / --version wall time with and without the AOT cache.")
final class ColdStartCommand implements Callable<Integer> {
    private static final String REQUEST = "GET " + Nginx.OK_PATH + " HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n";
    private static final int PORT = 80;
    private static final Path TIME = Path.of("/usr/bin/time");
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The CLI's own switch for its loopback warm-up (ClientWarmUp), to show what the warm-up saves. */
    private static final Map<String, String> NO_WARM_UP = Map.of("TFO4J_JAVA_OPTS", "-Dtfo4j.warmUp=false");

    @Option(names = "--rtt", paramLabel = "MS", defaultValue = "40", description = "Emulated RTT (default ${DEFAULT-VALUE} ms).")
    int rttMillis;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "15",
            description = "Rounds; each starts every variant once (default ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--launcher", paramLabel = "PATH",
            description = "The tfo4j launcher (default: -Dtfo4j.launcher, else ./tfo4j).")
    Path launcher;

    @Option(names = "--baseline", paramLabel = "PATH",
            description = "Another tfo4j launcher (say, a checkout of the previous version) to run side by side,"
                    + " its variants marked [baseline].")
    Path baseline;

    @Option(names = "--out", paramLabel = "PREFIX", defaultValue = "bench-report/cold-start",
            description = "Writes PREFIX.md and PREFIX.csv (default ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--part", paramLabel = "PART", defaultValue = "all",
            description = "connect, start or all (default ${DEFAULT-VALUE}).")
    String part;

    /** One process of one variant in one round. */
    record Sample(String part, String variant, int round, Double ttfbMs, Boolean synData, Long kernelSynDataAcked,
                  double wallMs, Double cpuMs, String note) {
    }

    @Override
    public Integer call() throws Exception {
        Path tfo4j = launcher != null ? launcher : Path.of(System.getProperty("tfo4j.launcher", "./tfo4j"));
        if (!Files.isExecutable(tfo4j)) {
            System.err.println("cold-start: no tfo4j launcher at " + tfo4j.toAbsolutePath()
                    + ": run from the repository root or give --launcher PATH");
            return 2;
        }
        if (!Files.isExecutable(TIME)) {
            System.err.println("cold-start: GNU time is missing at " + TIME + " (it reports each process's CPU time):"
                    + " apt-get install time");
            return 2;
        }
        if (!List.of("all", "connect", "start").contains(part)) {
            System.err.println("cold-start: --part must be connect, start or all, not " + part);
            return 2;
        }
        if (baseline != null && !Files.isExecutable(baseline)) {
            System.err.println("cold-start: no launcher at --baseline " + baseline.toAbsolutePath());
            return 2;
        }
        tfo4j = tfo4j.toAbsolutePath();
        for (Path launcher : launchers(tfo4j)) {
            // The first use builds the CLI and makes the AOT cache: not something to time.
            run(List.of(launcher.toString(), "--version"), Map.of(), null, Duration.ofMinutes(10));
        }
        List<Sample> samples = new ArrayList<>();
        String connectProblem = null;
        if (!part.equals("start")) {
            connectProblem = unavailableReason();
            if (connectProblem == null) {
                samples.addAll(connections(tfo4j));
            } else {
                System.err.println("cold-start: skipping the connection part: " + connectProblem);
            }
        }
        if (!part.equals("connect")) {
            samples.addAll(starts(tfo4j));
        }
        ColdStartReport.write(out, samples, rttMillis, rounds, baseline == null ? null : baseline.toString(),
                connectProblem);
        System.err.println("cold-start: wrote " + out + ".md and " + out + ".csv");
        return 0;
    }

    private static String unavailableReason() {
        Optional<String> problem = WanLab.unavailableReason().or(Nginx::unavailableReason);
        if (problem.isPresent()) {
            return problem.get();
        }
        return Files.isExecutable(Path.of("/usr/bin/curl")) ? null : "curl is not installed (apt-get install curl)";
    }

    /** Part 1: cold processes' repeat connections to nginx across the lab's link. */
    private List<Sample> connections(Path tfo4j) throws IOException, InterruptedException {
        List<Sample> samples = new ArrayList<>();
        String url = "http://" + WanLab.SERVER_ADDRESS + Nginx.OK_PATH;
        Path root = Files.createTempDirectory("tfo4j-cold-start");
        try (WanLab lab = WanLab.create(LinkProfile.rtt(Duration.ofMillis(rttMillis)), 1, WanLab.CLIENT_AND_SERVER);
             Nginx ignored = Nginx.start(lab.server(), WanLab.SERVER_ADDRESS, PORT, root)) {
            List<String> curl = List.of("curl", "-s", "-o", "/dev/null", "--tcp-fastopen", "-w", "%{time_starttransfer}", url);
            // The warm-up connection: the client host's kernel asks nginx for a cookie and keeps it.
            run(lab, curl, Map.of(), null);
            List<Variant> variants = new ArrayList<>();
            for (Path launcher : launchers(tfo4j)) {
                String mark = launcher.equals(tfo4j) ? "" : " [baseline]";
                List<String> nc = List.of(launcher.toString(), "nc", "--json", WanLab.SERVER_ADDRESS, String.valueOf(PORT));
                List<String> get = List.of(launcher.toString(), "get", "--json", url);
                variants.add(new Variant("tfo4j nc" + mark, nc, Map.of(), REQUEST));
                variants.add(new Variant("tfo4j get" + mark, get, Map.of(), null));
                if (mark.isEmpty()) {
                    variants.add(new Variant("tfo4j nc (TFO4J_AOT=off)", nc, Map.of("TFO4J_AOT", "off"), REQUEST));
                    variants.add(new Variant("tfo4j get (TFO4J_AOT=off)", get, Map.of("TFO4J_AOT", "off"), null));
                    variants.add(new Variant("tfo4j nc (no warm-up)", nc, NO_WARM_UP, REQUEST));
                    variants.add(new Variant("tfo4j get (no warm-up)", get, NO_WARM_UP, null));
                }
            }
            variants.add(new Variant("curl --tcp-fastopen", curl, Map.of(), null));
            for (int round = 1; round <= rounds; round++) {
                for (int i = 0; i < variants.size(); i++) {
                    // Each round starts at another variant, so that none always runs first.
                    Variant variant = variants.get((i + round) % variants.size());
                    FastOpenCounters before = lab.client().call(FastOpenCounters::read);
                    Finished finished = run(lab, variant.command(), variant.env(), variant.stdin());
                    long acked = lab.client().call(FastOpenCounters::read).minus(before).active();
                    samples.add(connectionSample(variant.name(), round, finished, acked));
                }
                System.err.printf("cold-start: connections round %d/%d%n", round, rounds);
            }
        } finally {
            Files.deleteIfExists(root);
        }
        return samples;
    }

    private Sample connectionSample(String variant, int round, Finished finished, long acked) {
        Double ttfb = null;
        Boolean synData = null;
        String note = finished.exitCode == 0 ? null : "exit " + finished.exitCode + ": " + lastLine(finished.stderr);
        if (variant.startsWith("curl")) {
            try {
                ttfb = Double.parseDouble(finished.stdout.strip()) * 1e3;
            } catch (NumberFormatException e) {
                note = "curl printed no time: " + lastLine(finished.stderr);
            }
        } else {
            // nc writes its JSON line to stderr, get to stdout; the launcher may add lines of its own.
            String text = variant.startsWith("tfo4j nc") ? finished.stderr : finished.stdout;
            JsonNode line = null;
            for (String candidate : text.lines().toList()) {
                if (candidate.startsWith("{")) {
                    try {
                        line = JSON.readTree(candidate);
                    } catch (IOException e) {
                        note = "unreadable JSON: " + candidate;
                    }
                }
            }
            if (line != null && line.hasNonNull("ttfbMs")) {
                ttfb = line.get("ttfbMs").asDouble();
                synData = line.path("synData").asBoolean();
            } else if (note == null) {
                note = "no JSON line with ttfbMs: " + lastLine(finished.stderr);
            }
        }
        return new Sample("connect", variant, round, ttfb, synData, acked, finished.wallMs, finished.cpuMs, note);
    }

    /** Part 2: whole launcher processes on this host, with and without the AOT cache. */
    private List<Sample> starts(Path tfo4j) throws IOException, InterruptedException {
        List<Sample> samples = new ArrayList<>();
        List<Variant> variants = new ArrayList<>();
        for (Path launcher : launchers(tfo4j)) {
            String mark = launcher.equals(tfo4j) ? "" : " [baseline]";
            for (String argument : List.of("probe", "--version")) {
                List<String> command = List.of(launcher.toString(), argument);
                variants.add(new Variant("./tfo4j " + argument + mark, command, Map.of(), null));
                if (mark.isEmpty()) {
                    variants.add(new Variant("./tfo4j " + argument + " (TFO4J_AOT=off)", command,
                            Map.of("TFO4J_AOT", "off"), null));
                }
            }
        }
        for (int round = 1; round <= rounds; round++) {
            for (int i = 0; i < variants.size(); i++) {
                Variant variant = variants.get((i + round) % variants.size());
                Finished finished = run(variant.command(), variant.env(), null, Duration.ofMinutes(1));
                samples.add(new Sample("start", variant.name(), round, null, null, null, finished.wallMs,
                        finished.cpuMs, finished.exitCode == 0 ? null : "exit " + finished.exitCode + ": "
                        + lastLine(finished.stderr)));
            }
            System.err.printf("cold-start: starts round %d/%d%n", round, rounds);
        }
        return samples;
    }

    /** One way of making the measured connection or start: a name, a command, its environment, its input. */
    private record Variant(String name, List<String> command, Map<String, String> env, String stdin) {
    }

    /** The launcher measured, then the baseline's when there is one. */
    private List<Path> launchers(Path tfo4j) {
        return baseline == null ? List.of(tfo4j) : List.of(tfo4j, baseline.toAbsolutePath());
    }

    private record Finished(int exitCode, String stdout, String stderr, double wallMs, Double cpuMs) {
    }

    private Finished run(WanLab lab, List<String> command, Map<String, String> env, String stdin)
            throws IOException, InterruptedException {
        List<String> inNamespace = new ArrayList<>(List.of("ip", "netns", "exec", lab.client().name()));
        inNamespace.addAll(command);
        return run(inNamespace, env, stdin, Duration.ofMinutes(1));
    }

    /** Runs {@code command} under GNU time; wall time from its start to its exit, CPU time user + sys. */
    private static Finished run(List<String> command, Map<String, String> env, String stdin, Duration limit)
            throws IOException, InterruptedException {
        Path times = Files.createTempFile("tfo4j-cold-start", ".time");
        Path stdout = Files.createTempFile("tfo4j-cold-start", ".out");
        Path stderr = Files.createTempFile("tfo4j-cold-start", ".err");
        try {
            List<String> timed = new ArrayList<>(List.of(TIME.toString(), "-q", "-f", "%e %U %S", "-o", times.toString()));
            timed.addAll(command);
            ProcessBuilder builder = new ProcessBuilder(timed).redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
            builder.environment().putAll(env);
            if (stdin == null) {
                builder.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
            }
            long started = System.nanoTime();
            Process process = builder.start();
            if (stdin != null) {
                try (var in = process.getOutputStream()) {
                    in.write(stdin.getBytes(StandardCharsets.US_ASCII));
                }
            }
            if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor();
                throw new IOException("did not finish within " + limit.toSeconds() + " s: " + String.join(" ", command));
            }
            double wallMs = (System.nanoTime() - started) / 1e6;
            Double cpuMs = null;
            String[] fields = Files.readString(times).strip().split("\\s+");
            if (fields.length == 3) {
                cpuMs = (Double.parseDouble(fields[1]) + Double.parseDouble(fields[2])) * 1e3;
            }
            return new Finished(process.exitValue(), Files.readString(stdout), Files.readString(stderr), wallMs, cpuMs);
        } finally {
            Files.deleteIfExists(times);
            Files.deleteIfExists(stdout);
            Files.deleteIfExists(stderr);
        }
    }

    private static String lastLine(String text) {
        List<String> lines = text.strip().lines().toList();
        return lines.isEmpty() ? "(nothing on stderr)" : lines.getLast();
    }
}
