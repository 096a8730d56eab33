package io.tfo4j.bench;

import io.tfo4j.bench.peer.JitQuiet;
import io.tfo4j.bench.peer.TlsWarmUp;
import io.tfo4j.http.FastOpenFileServer;
import io.tfo4j.http.TlsIdentity;
import io.tfo4j.lab.Listening;
import io.tfo4j.lab.Nginx;
import io.tfo4j.lab.OpensslCertificate;
import io.tfo4j.lab.Processes;
import io.tfo4j.lab.ServerWarmUp;
import io.tfo4j.lab.WanLab;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The servers of one {@code tfo4j bench latency} lab, all on the lab's server host, all serving a small page:
 * with Fast Open, {@code tfo4j serve} (in this JVM) on {@value #SERVE}, nginx on {@value #NGINX}, Netty epoll
 * on {@value #NETTY} (a child JVM); and the unmodified Spring Boot example ({@code GET /hello}, child JVMs)
 * without the agent on {@value #SPRING_PLAIN} and with it ({@code listen=}{@value #SPRING_AGENT}) on
 * {@value #SPRING_AGENT}. Over HTTPS, with Fast Open and one RSA-2048 certificate for the server's address made
 * by openssl: what {@code tfo4j serve --tls --cert --key --fastopen} runs (in this JVM) on {@value #SERVE_TLS},
 * and nginx {@code listen ... ssl fastopen=256} on {@value #NGINX_TLS}. Only the servers the measured pairs ask
 * are started. The JVM servers are warmed up, then measured only once this JVM's JIT has gone quiet. A server
 * that cannot start is noted, not faked.
 */
final class LatencyServers implements AutoCloseable {
    static final int SERVE = 8080;
    static final int NGINX = 8081;
    static final int NETTY = 8082;
    static final int SPRING_PLAIN = 8083;
    static final int SPRING_AGENT = 8084;
    static final int SERVE_TLS = 8443;
    static final int NGINX_TLS = 8444;
    /** Requests that warm the JVM's HTTPS server up, every second one a full handshake. */
    private static final int TLS_WARM_UP_REQUESTS = 1000;
    static final String PAGE = "/" + BenchSite.PAGE_NAME;
    private static final String SPRING_PAGE = "/hello";

    private final Map<Integer, String> unavailable = new HashMap<>();
    private FastOpenFileServer serve;
    private Nginx nginx;
    private Path tlsDir;
    private FastOpenFileServer serveTls;
    private Nginx nginxTls;
    private Process netty;
    private Process springPlain;
    private Process springAgent;

    private LatencyServers() {
    }

    /**
     * Starts every server on {@code ports} that it can in {@code lab}'s server host, serving {@code site}, and
     * warms the JVM ones up.
     */
    static LatencyServers start(WanLab lab, Path site, Set<Integer> ports) throws IOException {
        LatencyServers servers = new LatencyServers();
        try {
            if (ports.contains(SERVE)) {
                servers.serve = lab.server().call(() -> FastOpenFileServer.builder(site).bind(WanLab.SERVER_ADDRESS)
                        .port(SERVE).fastOpen(256).start());
                lab.server().call(() -> ServerWarmUp.run(url(SERVE)));
            }
            if (ports.contains(NGINX)) {
                servers.startNginx(lab, NGINX, site, null);
            }
            if (ports.contains(SERVE_TLS) || ports.contains(NGINX_TLS)) {
                servers.startTls(lab, site, ports);
            }
            if (ports.contains(NETTY)) {
                servers.startNetty(lab, site);
            }
            if (ports.contains(SPRING_PLAIN)) {
                servers.springPlain = servers.startSpringBoot(lab, SPRING_PLAIN, List.of());
            }
            if (ports.contains(SPRING_AGENT)) {
                servers.springAgent = servers.startSpringBoot(lab, SPRING_AGENT,
                        List.of(BuiltJars.javaagent("listen=" + SPRING_AGENT)));
            }
            if (servers.serve != null || servers.serveTls != null) {
                // tfo4j serve runs in this JVM: measure it warm, not while the JIT compiles what the warm-up queued.
                Duration waited = JitQuiet.await(Duration.ofSeconds(60));
                Progress.say(String.format(Locale.ROOT, "servers warm; waited %.1f s for the JIT to go quiet",
                        waited.toMillis() / 1000.0));
            }
            return servers;
        } catch (IOException | RuntimeException e) {
            servers.close();
            throw e;
        }
    }

    /** nginx over HTTP, or over HTTPS with {@code tls}, or a note why not. */
    private void startNginx(WanLab lab, int port, Path site, OpensslCertificate tls) throws IOException {
        Optional<String> noNginx = Nginx.unavailableReason();
        if (noNginx.isPresent()) {
            unavailable.put(port, noNginx.get());
            return;
        }
        Nginx started = Nginx.start(lab.server(), WanLab.SERVER_ADDRESS, port, site, tls);
        if (tls == null) {
            nginx = started;
        } else {
            nginxTls = started;
        }
    }

    /**
     * One certificate for both HTTPS servers; tfo4j serve --tls warmed up from its own host with requests made
     * as the measured clients make them (Fast Open, ALPN), half full handshakes, half resumed.
     */
    private void startTls(WanLab lab, Path site, Set<Integer> ports) throws IOException {
        Optional<String> noOpenssl = OpensslCertificate.unavailableReason();
        if (noOpenssl.isPresent()) {
            unavailable.put(SERVE_TLS, noOpenssl.get());
            unavailable.put(NGINX_TLS, noOpenssl.get());
            return;
        }
        // Not in the served directory, from which anyone could fetch the key.
        tlsDir = Files.createTempDirectory("tfo4j-bench-tls");
        OpensslCertificate certificate = OpensslCertificate.make(tlsDir, WanLab.SERVER_ADDRESS);
        if (ports.contains(SERVE_TLS)) {
            TlsIdentity identity = TlsIdentity.fromPem(certificate.certificate(), certificate.key());
            serveTls = lab.server().call(() -> FastOpenFileServer.builder(site).bind(WanLab.SERVER_ADDRESS)
                    .port(SERVE_TLS).fastOpen(256).tls(identity).start());
            lab.server().call(() -> {
                TlsWarmUp.server(url(SERVE_TLS), TLS_WARM_UP_REQUESTS);
                return null;
            });
        }
        if (ports.contains(NGINX_TLS)) {
            startNginx(lab, NGINX_TLS, site, certificate);
        }
    }

    private void startNetty(WanLab lab, Path site) throws IOException {
        netty = lab.server().command(ChildJvm.command("peer", "netty-server", "--bind",
                WanLab.SERVER_ADDRESS, "--port", Integer.toString(NETTY), "--fastopen",
                "--body", site.resolve(BenchSite.PAGE_NAME).toString()).toArray(String[]::new))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            Listening.await(lab.server(), WanLab.SERVER_ADDRESS, NETTY, netty);
            lab.server().call(() -> ServerWarmUp.run(url(NETTY)));
        } catch (IOException e) {
            unavailable.put(NETTY, "the Netty server did not start: " + e.getMessage());
        }
    }

    /** Starts the Spring Boot example in the server host and warms it up, or notes why it cannot run. */
    private Process startSpringBoot(WanLab lab, int port, List<String> jvmOptions) throws IOException {
        Optional<String> missing = BuiltJars.springBootMissing()
                .or(() -> jvmOptions.isEmpty() ? Optional.empty() : BuiltJars.agentMissing());
        if (missing.isPresent()) {
            unavailable.put(port, missing.get());
            return null;
        }
        List<String> command = new ArrayList<>(List.of(ChildJvm.java()));
        command.addAll(jvmOptions);
        command.addAll(List.of("-jar", BuiltJars.springBoot().toString(), "--server.address=" + WanLab.SERVER_ADDRESS,
                "--server.port=" + port));
        Process process = lab.server().command(command.toArray(String[]::new)).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            Listening.await(lab.server(), WanLab.SERVER_ADDRESS, port, process);
            lab.server().call(() -> ServerWarmUp.run(url(port)));
        } catch (IOException e) {
            unavailable.put(port, "the Spring Boot example did not start: " + e.getMessage());
        }
        return process;
    }

    static String url(int port) {
        return (port == SERVE_TLS || port == NGINX_TLS ? "https://" : "http://") + WanLab.SERVER_ADDRESS + ":" + port
                + (port == SPRING_PLAIN || port == SPRING_AGENT ? SPRING_PAGE : PAGE);
    }

    /** Why the server on {@code port} is not running, or empty. */
    Optional<String> unavailable(int port) {
        return Optional.ofNullable(unavailable.get(port));
    }

    @Override
    public void close() throws IOException {
        Processes.stop(netty);
        Processes.stop(springPlain);
        Processes.stop(springAgent);
        IOException failed = null;
        for (Nginx running : new Nginx[] {nginx, nginxTls}) {
            if (running != null) {
                try {
                    running.close();
                } catch (IOException e) {
                    failed = e;
                }
            }
        }
        for (FastOpenFileServer running : new FastOpenFileServer[] {serve, serveTls}) {
            if (running != null) {
                try {
                    running.close();
                } catch (Exception e) {
                    failed = new IOException("stopping tfo4j serve: " + e.getMessage(), e);
                }
            }
        }
        if (tlsDir != null) {
            BenchReport.deleteTree(tlsDir);
        }
        if (failed != null) {
            throw failed;
        }
    }
}
