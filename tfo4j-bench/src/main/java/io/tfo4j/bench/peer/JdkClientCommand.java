package io.tfo4j.bench.peer;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

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
        JdkWarmUp.run(1, (index, url) -> client.get(HttpTarget.parse(url)));
        return options.run("jdk-httpclient", target, client::get);
    }

}
