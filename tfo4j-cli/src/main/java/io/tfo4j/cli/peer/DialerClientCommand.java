package io.tfo4j.cli.peer;

import com.sun.net.httpserver.HttpServer;
import io.tfo4j.FastOpenSupport;
import io.tfo4j.http.FastOpenHttpServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;

/** {@code tfo4j peer tfo4j-client}: GETs with tfo4j-core's dialer and nothing else. See {@link DialerHttpClient}. */
@Command(name = "tfo4j-client", mixinStandardHelpOptions = true,
        description = {"GET requests with tfo4j's FastOpenDialer, each on a new connection: the request is the"
                + " SYN's data once a cookie is cached.",
                "ttfbMs: from the dial to the first response byte (like curl's time_starttransfer)."})
final class DialerClientCommand implements Callable<Integer> {
    private static final int WARM_UP_REQUESTS = 2000;

    @Mixin
    ClientOptions options;

    // fallbackValue: without it picocli reads --no-fastopen of a true-by-default option as "the default", true.
    @Option(names = "--fastopen", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Use Fast Open (default); --no-fastopen for plain connections.")
    boolean fastOpen;

    @Override
    public Integer call() {
        HttpTarget target = options.target();
        DialerHttpClient client = new DialerHttpClient(fastOpen);
        warmUp(client);
        return options.run(fastOpen ? "tfo4j-dialer" : "tfo4j-dialer-plain", target, client::get);
    }

    /** Requests to a throwaway JDK HttpServer on this namespace's loopback, so the timed ones run compiled code. */
    private static void warmUp(DialerHttpClient client) {
        FastOpenSupport.current();
        HttpServer local = null;
        try {
            local = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            local.createContext("/", exchange -> {
                byte[] body = "warm\n".getBytes(StandardCharsets.US_ASCII);
                exchange.sendResponseHeaders(200, body.length);
                exchange.getResponseBody().write(body);
                exchange.close();
            });
            // Fast Open on the warm-up server where this host allows it, so that the path of a cached cookie
            // (data in the SYN) is compiled too, not only the cookie request.
            FastOpenHttpServer.enable(local, 16);
            local.start();
            HttpTarget target = HttpTarget.parse("http://127.0.0.1:" + local.getAddress().getPort() + "/");
            for (int i = 0; i < WARM_UP_REQUESTS; i++) {
                client.get(target);
            }
        } catch (IOException | RuntimeException e) {
            // Only a warm-up: the real requests report any problem.
        } finally {
            if (local != null) {
                local.stop(0);
            }
        }
    }
}
