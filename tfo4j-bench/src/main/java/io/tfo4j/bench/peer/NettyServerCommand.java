package io.tfo4j.bench.peer;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
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

    @Mixin
    ServerOptions options;

    @Option(names = "--access-log", description = "One JSON line per request on stdout: connection number, remote"
            + " address, request number on the connection, method, URI, status, bytes, synData.")
    boolean accessLog;

    @Override
    public Integer call() throws Exception {
        InetSocketAddress address = options.address();
        byte[] body = options.body(DEFAULT_BODY);
        warmUp();
        NettyHttpServer server = NettyHttpServer.start(null, address, options.fastOpenQueue, body, accessLog ? log() : null);
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "tfo4j-peer-netty-server-stop"));
        String fastOpen = options.fastOpenQueue == 0 ? "off" : server.fastOpenActive() ? "on (queue " + options.fastOpenQueue + ")" : "inactive";
        System.out.println("tfo4j peer netty-server: http://" + address.getAddress().getHostAddress() + ":" + server.port()
                + "/ answers GET with " + body.length + " bytes (Fast Open " + fastOpen + ")");
        System.out.flush();
        if (options.fastOpenQueue > 0 && !server.fastOpenActive()) {
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
