package io.tfo4j.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.tfo4j.lab.Nginx;
import io.tfo4j.lab.OpensslCertificate;
import io.tfo4j.lab.WanLab;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * @param https   whether it speaks HTTPS (TLS 1.3), where the floor is 2 round trips with Fast Open and 3 without
 * @param missing why the pair cannot run here, or empty
 * @param runner  runs {@code count} requests and returns their times to first byte in milliseconds
 */
record LatencyPair(String name, String client, int port, boolean https, Optional<String> missing, Runner runner) {

    /** Runs the client. */
    interface Runner {
        Run run(WanLab lab, String url, int count) throws IOException;
    }

    /**
     * What a client reported.
     *
     * @param ttfbMs  each request's time to first byte, in milliseconds
     * @param synData for each request, whether the server acknowledged its SYN data, as the client's TCP_INFO
     *                said ({@code synData}); null when the client cannot say (curl, the JDK's HttpClient)
     */
    record Run(List<Double> ttfbMs, List<Boolean> synData) {
        /** Of the requests from {@code from} on, those whose SYN data was acknowledged; -1 when unknown. */
        long synDataAcked(int from) {
            return synData == null ? -1 : synData.subList(from, synData.size()).stream().filter(b -> b).count();
        }
    }

    /**
     * What the pairs need beyond a lab, each empty when it is there or why it is not.
     *
     * @param curl       /usr/bin/curl
     * @param nginx      /usr/sbin/nginx
     * @param openssl    /usr/bin/openssl, which makes the HTTPS servers' certificate
     * @param agent      the agent jar
     * @param springBoot the Spring Boot example's jar
     */
    record Tools(Optional<String> curl, Optional<String> nginx, Optional<String> openssl, Optional<String> agent,
                 Optional<String> springBoot) {
        /** What this machine has. */
        static Tools here() {
            return new Tools(Files.isExecutable(Path.of("/usr/bin/curl")) ? Optional.empty()
                    : Optional.of("curl is not installed (apt-get install curl)"), Nginx.unavailableReason(),
                    OpensslCertificate.unavailableReason(), BuiltJars.agentMissing(), BuiltJars.springBootMissing());
        }
    }

    /** Which pairs {@code --pairs} selects. */
    enum Selection {
        ALL, HTTP, HTTPS;

        boolean includes(LatencyPair pair) {
            return this == ALL || (this == HTTPS) == pair.https();
        }
    }

    /** Every pair, HTTP first, then HTTPS. */
    static List<LatencyPair> all() {
        return all(Tools.here());
    }

    /** The pairs {@code selection} names. */
    static List<LatencyPair> select(Selection selection, Tools tools) {
        return all(tools).stream().filter(selection::includes).toList();
    }

    static List<LatencyPair> all(Tools tools) {
        List<LatencyPair> pairs = new ArrayList<>(http(tools));
        pairs.addAll(https(tools));
        return List.copyOf(pairs);
    }

    private static List<LatencyPair> http(Tools tools) {
        return List.of(
                new LatencyPair("tfo4j -> tfo4j serve (Fast Open)",
                        "tfo4j's FastOpenDialer: dial to first response byte", LatencyServers.SERVE, false, Optional.empty(),
                        (lab, url, count) -> cli(lab, count, "peer", "tfo4j-client", "--json", "--count",
                                Integer.toString(count), url)),
                new LatencyPair("tfo4j -> tfo4j serve (plain TCP)",
                        "tfo4j's FastOpenDialer with Fast Open off: dial to first response byte", LatencyServers.SERVE,
                        false, Optional.empty(), (lab, url, count) -> cli(lab, count, "peer", "tfo4j-client", "--json",
                        "--no-fastopen", "--count", Integer.toString(count), url)),
                new LatencyPair("tfo4j get -> tfo4j serve (Fast Open)",
                        "tfo4j get (OkHttp): call start to response headers", LatencyServers.SERVE, false, Optional.empty(),
                        (lab, url, count) -> cli(lab, count, "get", "--json", "--count", Integer.toString(count), url)),
                new LatencyPair("tfo4j get -> tfo4j serve (plain TCP)",
                        "tfo4j get --no-fastopen: call start to response headers", LatencyServers.SERVE, false,
                        Optional.empty(), (lab, url, count) -> cli(lab, count, "get", "--json", "--no-fastopen", "--count",
                        Integer.toString(count), url)),
                new LatencyPair("curl -> nginx (Fast Open)",
                        "curl --tcp-fastopen: time_starttransfer", LatencyServers.NGINX, false, tools.curl().or(tools::nginx),
                        (lab, url, count) -> curl(lab, url, count, true)),
                // The two crosses tell whether a cost above the floor is the client's or the server's.
                new LatencyPair("curl -> tfo4j serve (Fast Open)",
                        "curl --tcp-fastopen: time_starttransfer", LatencyServers.SERVE, false, tools.curl(),
                        (lab, url, count) -> curl(lab, url, count, true)),
                new LatencyPair("tfo4j get -> nginx (Fast Open)",
                        "tfo4j get (OkHttp): call start to response headers", LatencyServers.NGINX, false, tools.nginx(),
                        (lab, url, count) -> cli(lab, count, "get", "--json", "--count", Integer.toString(count), url)),
                new LatencyPair("JDK HttpClient -> tfo4j serve (no agent)",
                        "java.net.http.HttpClient: send to response headers", LatencyServers.SERVE, false, Optional.empty(),
                        (lab, url, count) -> jdkClient(lab, count, List.of(), url)),
                new LatencyPair("JDK HttpClient -> tfo4j serve (agent)",
                        "java.net.http.HttpClient under -javaagent:tfo4j-agent.jar=connect=" + LatencyServers.SERVE
                                + ": send to response headers", LatencyServers.SERVE, false, tools.agent(),
                        (lab, url, count) -> jdkClient(lab, count,
                                List.of(BuiltJars.javaagent("connect=" + LatencyServers.SERVE)), url)),
                new LatencyPair("curl -> Spring Boot (no agent)",
                        "curl --tcp-fastopen: time_starttransfer", LatencyServers.SPRING_PLAIN, false,
                        tools.curl().or(tools::springBoot), (lab, url, count) -> curl(lab, url, count, true)),
                new LatencyPair("curl -> Spring Boot (agent)",
                        "curl --tcp-fastopen: time_starttransfer; the server under -javaagent:tfo4j-agent.jar=listen="
                                + LatencyServers.SPRING_AGENT, LatencyServers.SPRING_AGENT, false,
                        tools.curl().or(tools::springBoot).or(tools::agent), (lab, url, count) -> curl(lab, url, count, true)),
                new LatencyPair("Netty epoll -> Netty epoll (Fast Open)",
                        "Netty client with TCP_FASTOPEN_CONNECT: connect call (request queued) to first response bytes",
                        LatencyServers.NETTY, false, Optional.empty(),
                        (lab, url, count) -> cli(lab, count, "peer", "netty-client", "--json", "--count",
                                Integer.toString(count), url)));
    }

    /**
     * HTTPS, TLS 1.3 and HTTP/1.1, each request a new connection and a new TLS handshake, against tfo4j serve
     * --tls and nginx ssl presenting the same RSA-2048 certificate; curl -> nginx with Fast Open is the anchor.
     */
    private static List<LatencyPair> https(Tools tools) {
        Optional<String> noCurl = tools.curl().or(tools::openssl);
        Optional<String> noNginx = tools.nginx().or(tools::openssl);
        String sslSocket = "tfo4j peer tls-client (FastOpenSocketFactory socket with TCP_NODELAY under the JDK's SSLSocket,"
                + " a new TLS client per request: full handshake): connect call to first response byte";
        String get = "tfo4j get -k (OkHttp on FastOpenSocketFactory, one process: the JDK resumes its TLS session from"
                + " the second request on; TCP_NODELAY set by get, as curl sets it): call start to response headers";
        String curl = "curl -k --http1.1 --tlsv1.3, a new process per request (full handshake): time_starttransfer";
        return List.of(
                new LatencyPair("tfo4j SSLSocket -> tfo4j serve --tls (Fast Open)", sslSocket, LatencyServers.SERVE_TLS,
                        true, tools.openssl(), (lab, url, count) -> cli(lab, count, "peer", "tls-client", "--json",
                        "--count", Integer.toString(count), url)),
                new LatencyPair("tfo4j SSLSocket -> tfo4j serve --tls (plain TCP)", sslSocket + "; --no-fastopen",
                        LatencyServers.SERVE_TLS, true, tools.openssl(), (lab, url, count) -> cli(lab, count, "peer",
                        "tls-client", "--json", "--no-fastopen", "--count", Integer.toString(count), url)),
                new LatencyPair("tfo4j SSLSocket, resumed -> tfo4j serve --tls (Fast Open)",
                        "tfo4j peer tls-client --resume (one TLS client for all requests: the JDK resumes the session,"
                                + " no certificate or signature): connect call to first response byte",
                        LatencyServers.SERVE_TLS, true, tools.openssl(), (lab, url, count) -> cli(lab, count, "peer",
                        "tls-client", "--json", "--resume", "--count", Integer.toString(count), url)),
                // What a TLS client on a socket without TCP_NODELAY pays (tfo4j get's case): Nagle holds the request.
                new LatencyPair("tfo4j SSLSocket, Nagle on -> tfo4j serve --tls (Fast Open)",
                        "tfo4j peer tls-client --nagle (as the first, without TCP_NODELAY, the JDK's default): connect"
                                + " call to first response byte", LatencyServers.SERVE_TLS, true, tools.openssl(),
                        (lab, url, count) -> cli(lab, count, "peer", "tls-client", "--json", "--nagle", "--count",
                                Integer.toString(count), url)),
                new LatencyPair("tfo4j get -k -> tfo4j serve --tls (Fast Open)", get, LatencyServers.SERVE_TLS, true,
                        tools.openssl(), (lab, url, count) -> cli(lab, count, "get", "--json", "-k", "--count",
                        Integer.toString(count), url)),
                new LatencyPair("tfo4j get -k -> tfo4j serve --tls (plain TCP)", get + "; --no-fastopen",
                        LatencyServers.SERVE_TLS, true, tools.openssl(), (lab, url, count) -> cli(lab, count, "get",
                        "--json", "-k", "--no-fastopen", "--count", Integer.toString(count), url)),
                new LatencyPair("curl -k -> nginx ssl (Fast Open)", curl + "; --tcp-fastopen", LatencyServers.NGINX_TLS,
                        true, noCurl.or(() -> noNginx), (lab, url, count) -> curl(lab, url, count, true)),
                new LatencyPair("curl -k -> nginx ssl (plain TCP)", curl, LatencyServers.NGINX_TLS, true,
                        noCurl.or(() -> noNginx), (lab, url, count) -> curl(lab, url, count, false)),
                // The two crosses tell whether a cost above the anchor is the client's or the server's.
                new LatencyPair("curl -k -> tfo4j serve --tls (Fast Open)", curl + "; --tcp-fastopen",
                        LatencyServers.SERVE_TLS, true, noCurl, (lab, url, count) -> curl(lab, url, count, true)),
                new LatencyPair("tfo4j SSLSocket -> nginx ssl (Fast Open)", sslSocket, LatencyServers.NGINX_TLS, true,
                        noNginx, (lab, url, count) -> cli(lab, count, "peer", "tls-client", "--json", "--count",
                        Integer.toString(count), url)));
    }

    /** Runs a tfo4j command that prints one JSON line with {@code ttfbMs} (and {@code synData}) per request. */
    private static Run cli(WanLab lab, int count, String... args) throws IOException {
        return cli(lab, count, List.of(), args);
    }

    /** Like {@link #cli(WanLab, int, String...)}, with JVM options for the client's JVM. */
    private static Run cli(WanLab lab, int count, List<String> jvmOptions, String... args) throws IOException {
        List<JsonNode> lines = ChildJvm.jsonLines(lab.client(), 60 + count * 2, ChildJvm.command(jvmOptions, args));
        List<Double> ttfb = new ArrayList<>();
        List<Boolean> synData = new ArrayList<>();
        for (JsonNode line : lines) {
            if (line.has("error") || line.path("status").asInt() != 200) {
                throw new IOException("tfo4j " + args[0] + " request failed: " + line);
            }
            if (line.has("tls") && !line.get("tls").asText().equals("TLSv1.3")) {
                throw new IOException("tfo4j " + args[0] + " spoke " + line.get("tls").asText() + ", not TLSv1.3: " + line);
            }
            ttfb.add(line.get("ttfbMs").asDouble());
            synData.add(line.path("synData").asBoolean());
        }
        if (ttfb.size() != count) {
            throw new IOException("tfo4j " + String.join(" ", args) + " reported " + ttfb.size() + " of " + count + " requests");
        }
        return new Run(ttfb, synData);
    }

    /**
     * {@code tfo4j peer jdk-client}, whose HttpClient cannot read its sockets' TCP_INFO (its {@code synData} is
     * always false), so that the client host's counters count its SYN data instead, as for curl.
     */
    private static Run jdkClient(WanLab lab, int count, List<String> jvmOptions, String url) throws IOException {
        Run run = cli(lab, count, jvmOptions, "peer", "jdk-client", "--json", "--count", Integer.toString(count), url);
        return new Run(run.ttfbMs(), null);
    }

    /** {@code count} curl processes, one request each; over https:// with -k, HTTP/1.1 and TLS 1.3. */
    private static Run curl(WanLab lab, String url, int count, boolean fastOpen) throws IOException {
        List<String> command = new ArrayList<>(List.of("/usr/bin/curl", "-s", "-o", "/dev/null", "--max-time", "10",
                "-w", "%{http_code} %{time_starttransfer}"));
        if (fastOpen) {
            command.add("--tcp-fastopen");
        }
        if (url.startsWith("https:")) {
            command.addAll(List.of("-k", "--http1.1", "--tlsv1.3"));
        }
        command.add(url);
        List<Double> ttfb = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Process curl = lab.client().command(command.toArray(String[]::new)).redirectErrorStream(true).start();
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
        return new Run(ttfb, null);
    }

    @Override
    public String toString() {
        return name.toLowerCase(Locale.ROOT);
    }
}
