package io.tfo4j.bench;

import io.tfo4j.http.FastOpenFileServer;
import io.tfo4j.lab.Listening;
import io.tfo4j.lab.Nginx;
import io.tfo4j.lab.Processes;
import io.tfo4j.lab.ServerWarmUp;
import io.tfo4j.lab.WanLab;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The servers of one {@code tfo4j bench latency} lab, all on the lab's server host, all serving a small page:
 * with Fast Open, {@code tfo4j serve} (in this JVM) on {@value #SERVE}, nginx on {@value #NGINX}, Netty epoll
 * on {@value #NETTY} (a child JVM); and the unmodified Spring Boot example ({@code GET /hello}, child JVMs)
 * without the agent on {@value #SPRING_PLAIN} and with it ({@code listen=}{@value #SPRING_AGENT}) on
 * {@value #SPRING_AGENT}. A server that cannot start is noted, not faked.
 */
final class LatencyServers implements AutoCloseable {
    static final int SERVE = 8080;
    static final int NGINX = 8081;
    static final int NETTY = 8082;
    static final int SPRING_PLAIN = 8083;
    static final int SPRING_AGENT = 8084;
    static final String PAGE = "/" + BenchSite.PAGE_NAME;
    private static final String SPRING_PAGE = "/hello";

    private final Map<Integer, String> unavailable = new HashMap<>();
    private FastOpenFileServer serve;
    private Nginx nginx;
    private Process netty;
    private Process springPlain;
    private Process springAgent;

    private LatencyServers() {
    }

    /** Starts every server it can in {@code lab}'s server host, serving {@code site}, and warms the JVM ones up. */
    static LatencyServers start(WanLab lab, Path site) throws IOException {
        LatencyServers servers = new LatencyServers();
        try {
            servers.serve = lab.server().call(() -> FastOpenFileServer.builder(site).bind(WanLab.SERVER_ADDRESS)
                    .port(SERVE).fastOpen(256).start());
            lab.server().call(() -> ServerWarmUp.run(url(SERVE)));
            Optional<String> noNginx = Nginx.unavailableReason();
            if (noNginx.isPresent()) {
                servers.unavailable.put(NGINX, noNginx.get());
            } else {
                servers.nginx = Nginx.start(lab.server(), WanLab.SERVER_ADDRESS, NGINX, site);
            }
            servers.netty = lab.server().command(ChildJvm.command("peer", "netty-server", "--bind",
                    WanLab.SERVER_ADDRESS, "--port", Integer.toString(NETTY), "--fastopen",
                    "--body", site.resolve(BenchSite.PAGE_NAME).toString()).toArray(String[]::new))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            try {
                Listening.await(lab.server(), WanLab.SERVER_ADDRESS, NETTY, servers.netty);
                lab.server().call(() -> ServerWarmUp.run(url(NETTY)));
            } catch (IOException e) {
                servers.unavailable.put(NETTY, "the Netty server did not start: " + e.getMessage());
            }
            servers.springPlain = servers.startSpringBoot(lab, SPRING_PLAIN, List.of());
            servers.springAgent = servers.startSpringBoot(lab, SPRING_AGENT,
                    List.of(BuiltJars.javaagent("listen=" + SPRING_AGENT)));
            return servers;
        } catch (IOException | RuntimeException e) {
            servers.close();
            throw e;
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
        return "http://" + WanLab.SERVER_ADDRESS + ":" + port
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
        if (nginx != null) {
            nginx.close();
        }
        if (serve != null) {
            try {
                serve.close();
            } catch (Exception e) {
                throw new IOException("stopping tfo4j serve: " + e.getMessage(), e);
            }
        }
    }
}
