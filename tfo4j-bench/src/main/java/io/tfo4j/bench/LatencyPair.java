package io.tfo4j.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.tfo4j.lab.Nginx;
import io.tfo4j.lab.WanLab;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * One client and server pair of {@code tfo4j bench latency}: how the client is run on the lab's client host,
 * and which of the lab's servers it asks. Each request goes on a new connection; the pair returns each one's
 * time to first byte, as the client itself measured it.
 *
 * @param name    a short name for tables, e.g. {@code curl -> nginx (Fast Open)}
 * @param client  how the client measures: what its time to first byte spans
 * @param port    the port of the lab server it asks: {@link LatencyServers}
 * @param missing why the pair cannot run here, or empty
 * @param runner  runs {@code count} requests and returns their times to first byte in milliseconds
 */
record LatencyPair(String name, String client, int port, Optional<String> missing, Runner runner) {

    /** Runs the client. */
    interface Runner {
        List<Double> run(WanLab lab, String url, int count) throws IOException;
    }

    static List<LatencyPair> all() {
        return List.of(
                new LatencyPair("tfo4j -> tfo4j serve (Fast Open)",
                        "tfo4j's FastOpenDialer: dial to first response byte", LatencyServers.SERVE, Optional.empty(),
                        (lab, url, count) -> cli(lab, count, "peer", "tfo4j-client", "--json", "--count",
                                Integer.toString(count), url)),
                new LatencyPair("tfo4j -> tfo4j serve (plain TCP)",
                        "tfo4j's FastOpenDialer with Fast Open off: dial to first response byte", LatencyServers.SERVE,
                        Optional.empty(), (lab, url, count) -> cli(lab, count, "peer", "tfo4j-client", "--json",
                        "--no-fastopen", "--count", Integer.toString(count), url)),
                new LatencyPair("tfo4j get -> tfo4j serve (Fast Open)",
                        "tfo4j get (OkHttp): call start to response headers", LatencyServers.SERVE, Optional.empty(),
                        (lab, url, count) -> cli(lab, count, "get", "--json", "--count", Integer.toString(count), url)),
                new LatencyPair("tfo4j get -> tfo4j serve (plain TCP)",
                        "tfo4j get --no-fastopen: call start to response headers", LatencyServers.SERVE, Optional.empty(),
                        (lab, url, count) -> cli(lab, count, "get", "--json", "--no-fastopen", "--count",
                                Integer.toString(count), url)),
                new LatencyPair("curl -> nginx (Fast Open)",
                        "curl --tcp-fastopen: time_starttransfer", LatencyServers.NGINX, curlMissing().or(Nginx::unavailableReason),
                        LatencyPair::curl),
                // The two crosses tell whether a cost above the floor is the client's or the server's.
                new LatencyPair("curl -> tfo4j serve (Fast Open)",
                        "curl --tcp-fastopen: time_starttransfer", LatencyServers.SERVE, curlMissing(), LatencyPair::curl),
                new LatencyPair("tfo4j get -> nginx (Fast Open)",
                        "tfo4j get (OkHttp): call start to response headers", LatencyServers.NGINX, Nginx.unavailableReason(),
                        (lab, url, count) -> cli(lab, count, "get", "--json", "--count", Integer.toString(count), url)),
                new LatencyPair("JDK HttpClient -> tfo4j serve (no agent)",
                        "java.net.http.HttpClient: send to response headers", LatencyServers.SERVE, Optional.empty(),
                        (lab, url, count) -> cli(lab, count, "peer", "jdk-client", "--json", "--count", Integer.toString(count), url)),
                new LatencyPair("JDK HttpClient -> tfo4j serve (agent)",
                        "java.net.http.HttpClient under -javaagent:tfo4j-agent.jar=connect=" + LatencyServers.SERVE
                                + ": send to response headers", LatencyServers.SERVE, BuiltJars.agentMissing(),
                        (lab, url, count) -> cli(lab, count, List.of(BuiltJars.javaagent("connect=" + LatencyServers.SERVE)),
                                "peer", "jdk-client", "--json", "--count", Integer.toString(count), url)),
                new LatencyPair("curl -> Spring Boot (no agent)",
                        "curl --tcp-fastopen: time_starttransfer", LatencyServers.SPRING_PLAIN,
                        curlMissing().or(BuiltJars::springBootMissing), LatencyPair::curl),
                new LatencyPair("curl -> Spring Boot (agent)",
                        "curl --tcp-fastopen: time_starttransfer; the server under -javaagent:tfo4j-agent.jar=listen="
                                + LatencyServers.SPRING_AGENT, LatencyServers.SPRING_AGENT,
                        curlMissing().or(BuiltJars::springBootMissing).or(BuiltJars::agentMissing), LatencyPair::curl),
                new LatencyPair("Netty epoll -> Netty epoll (Fast Open)",
                        "Netty client with TCP_FASTOPEN_CONNECT: connect call (request queued) to first response bytes",
                        LatencyServers.NETTY, Optional.empty(),
                        (lab, url, count) -> cli(lab, count, "peer", "netty-client", "--json", "--count",
                                Integer.toString(count), url)));
    }

    /** Runs a tfo4j command that prints one JSON line with {@code ttfbMs} per request. */
    private static List<Double> cli(WanLab lab, int count, String... args) throws IOException {
        return cli(lab, count, List.of(), args);
    }

    /** Like {@link #cli(WanLab, int, String...)}, with JVM options for the client's JVM. */
    private static List<Double> cli(WanLab lab, int count, List<String> jvmOptions, String... args) throws IOException {
        List<JsonNode> lines = ChildJvm.jsonLines(lab.client(), 60 + count * 2, ChildJvm.command(jvmOptions, args));
        List<Double> ttfb = new ArrayList<>();
        for (JsonNode line : lines) {
            if (line.has("error") || line.path("status").asInt() != 200) {
                throw new IOException("tfo4j " + args[0] + " request failed: " + line);
            }
            ttfb.add(line.get("ttfbMs").asDouble());
        }
        if (ttfb.size() != count) {
            throw new IOException("tfo4j " + String.join(" ", args) + " reported " + ttfb.size() + " of " + count + " requests");
        }
        return ttfb;
    }

    private static Optional<String> curlMissing() {
        return java.nio.file.Files.isExecutable(java.nio.file.Path.of("/usr/bin/curl")) ? Optional.empty()
                : Optional.of("curl is not installed (apt-get install curl)");
    }

    private static List<Double> curl(WanLab lab, String url, int count) throws IOException {
        List<Double> ttfb = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Process curl = lab.client().command("/usr/bin/curl", "--tcp-fastopen", "-s", "-o", "/dev/null",
                    "--max-time", "10", "-w", "%{http_code} %{time_starttransfer}", url).redirectErrorStream(true).start();
            try {
                String out = new String(curl.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
                if (!curl.waitFor(15, TimeUnit.SECONDS) || curl.exitValue() != 0 || !out.startsWith("200 ")) {
                    throw new IOException("curl " + url + " failed: " + out);
                }
                ttfb.add(Double.parseDouble(out.substring(4)) * 1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            } finally {
                curl.destroyForcibly();
            }
        }
        return ttfb;
    }

    @Override
    public String toString() {
        return name.toLowerCase(Locale.ROOT);
    }
}
