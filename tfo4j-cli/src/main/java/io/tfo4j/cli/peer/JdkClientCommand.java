package io.tfo4j.cli.peer;

import com.sun.net.httpserver.HttpServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.Callable;

/** {@code tfo4j peer jdk-client}: GETs with java.net.http.HttpClient, no Fast Open. See {@link JdkHttpClient}. */
@Command(name = "jdk-client", mixinStandardHelpOptions = true,
        description = {"GET requests with the JDK's java.net.http.HttpClient, each on a new connection"
                + " (a new HttpClient each). It cannot do Fast Open: the baseline of plain Java.",
                "ttfbMs: from send (connect, then request) to the response headers."})
final class JdkClientCommand implements Callable<Integer> {
    @Mixin
    ClientOptions options;

    @Override
    public Integer call() {
        HttpTarget target = options.target();
        JdkHttpClient client = new JdkHttpClient();
        warmUp(client);
        return options.run("jdk-httpclient", target, client::get);
    }

    /** One request to a throwaway JDK HttpServer on this namespace's loopback, which loads HttpClient's classes. */
    private static void warmUp(JdkHttpClient client) {
        HttpServer local = null;
        try {
            local = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            local.createContext("/", exchange -> {
                exchange.sendResponseHeaders(204, -1);
                exchange.close();
            });
            local.start();
            client.get(HttpTarget.parse("http://127.0.0.1:" + local.getAddress().getPort() + "/"));
        } catch (IOException | RuntimeException e) {
            // Only a warm-up: the real requests report any problem.
        } finally {
            if (local != null) {
                local.stop(0);
            }
        }
    }
}
