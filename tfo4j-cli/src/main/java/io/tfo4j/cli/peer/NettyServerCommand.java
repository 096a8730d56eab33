package io.tfo4j.cli.peer;

import io.tfo4j.cli.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Consumer;

/**
 * {@code tfo4j peer netty-server}: an HTTP/1.1 server on Netty's epoll transport with TCP_FASTOPEN. See
 * {@link NettyHttpServer}.
 */
@Command(name = "netty-server", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"HTTP/1.1 server on Netty's epoll transport that answers every GET with the same body,"
                + " optionally with TCP Fast Open (EpollChannelOption.TCP_FASTOPEN). Stops on Ctrl-C."})
final class NettyServerCommand implements Callable<Integer> {
    private static final byte[] DEFAULT_BODY = "hello from netty\n".getBytes(StandardCharsets.US_ASCII);

    @Spec
    CommandSpec spec;

    @Option(names = "--bind", paramLabel = "ADDR", defaultValue = "127.0.0.1",
            description = "Address to listen on (default 127.0.0.1; 0.0.0.0 for all).")
    String bind;

    @Option(names = "--port", paramLabel = "P", defaultValue = "8080", description = "Port (default 8080; 0 for any free one).")
    int port;

    @Option(names = "--fastopen", arity = "0..1", paramLabel = "QLEN", fallbackValue = "256", defaultValue = "0",
            description = "Take data in the SYN, with this many pending Fast Open connections at most (default when given: 256).")
    int fastOpenQueue;

    @Option(names = "--body", paramLabel = "FILE", description = "Answer with FILE's content (default: a 17-byte greeting).")
    Path bodyFile;

    @Option(names = "--access-log", description = "One JSON line per request on stdout: connection number, remote"
            + " address, request number on the connection, method, URI, status, bytes, synData.")
    boolean accessLog;

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65535) {
            throw new ParameterException(spec.commandLine(), "--port must be 0 to 65535, got " + port);
        }
        if (fastOpenQueue < 0) {
            throw new ParameterException(spec.commandLine(),
                    "--fastopen queue length must not be negative, got " + fastOpenQueue);
        }
        byte[] body = body();
        InetSocketAddress address;
        try {
            address = new InetSocketAddress(InetAddress.getByName(bind), port);
        } catch (UnknownHostException e) {
            throw new ParameterException(spec.commandLine(), "cannot resolve --bind " + bind + ": " + e.getMessage());
        }
        warmUp();
        NettyHttpServer server = NettyHttpServer.start(null, address, fastOpenQueue, body, accessLog ? log() : null);
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "tfo4j-peer-netty-server-stop"));
        String fastOpen = fastOpenQueue == 0 ? "off" : server.fastOpenActive() ? "on (queue " + fastOpenQueue + ")" : "inactive";
        System.out.println("tfo4j peer netty-server: http://" + address.getAddress().getHostAddress() + ":" + server.port()
                + "/ answers GET with " + body.length + " bytes (Fast Open " + fastOpen + ")");
        System.out.flush();
        if (fastOpenQueue > 0 && !server.fastOpenActive()) {
            System.err.println("tfo4j peer netty-server: Fast Open is not active, serving without it: Netty found no"
                    + " server bit (2) in net.ipv4.tcp_fastopen; fix: sysctl -w net.ipv4.tcp_fastopen=3");
        }
        server.join();
        return 0;
    }

    /** Loads Netty (and Jackson, for the access log) before listening, so the first client meets a warm server. */
    private void warmUp() {
        try (NettyHttpClient client = new NettyHttpClient(false)) {
            NettyWarmUp.run(client);
        }
        if (accessLog) {
            Json.line(Map.of("warm", "up"));
        }
    }

    private byte[] body() {
        if (bodyFile == null) {
            return DEFAULT_BODY;
        }
        try {
            return Files.readAllBytes(bodyFile);
        } catch (IOException e) {
            throw new ParameterException(spec.commandLine(), "cannot read --body " + bodyFile + ": " + e);
        }
    }

    private static Consumer<Map<String, Object>> log() {
        PrintStream out = System.out;
        return line -> {
            synchronized (out) {
                out.println(Json.line(line));
                out.flush();
            }
        };
    }
}
