package io.tfo4j.bench.peer;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;

/** What the peer clients share: URL, {@code --count}, {@code --json}, and the loop that prints each request. */
final class ClientOptions {
    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    @Parameters(paramLabel = "URL", description = "An http:// URL (https:// for tls-client).")
    String url;

    @Option(names = "--count", paramLabel = "N", defaultValue = "1",
            description = "Requests to make, each on a new connection (default 1).")
    int count;

    @Option(names = "--json", description = "One JSON line per request on stdout.")
    boolean json;

    /** A client's one request on a new connection. */
    interface Fetch {
        Exchange get(HttpTarget target) throws IOException;
    }

    /** The http:// URL, checked and resolved; a bad URL or count is a usage error (exit 2). */
    HttpTarget target() {
        return target(false);
    }

    /** Like {@link #target()}, for an https:// URL when {@code https}. */
    HttpTarget target(boolean https) {
        if (count < 1) {
            throw new ParameterException(spec.commandLine(), "--count must be at least 1, got " + count);
        }
        try {
            return https ? HttpTarget.parseHttps(url) : HttpTarget.parse(url);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    /** Makes {@code count} requests, printing each; exit code 0 when all got an answer below 400. */
    int run(String client, HttpTarget target, Fetch fetch) {
        ExchangePrinter printer = new ExchangePrinter(client, target.uri().toString(), json);
        int failures = 0;
        for (int i = 1; i <= count; i++) {
            try {
                Exchange exchange = fetch.get(target);
                printer.print(i, exchange);
                if (exchange.status() >= 400) {
                    failures++;
                }
            } catch (IOException e) {
                failures++;
                printer.printError(i, e);
            }
        }
        System.out.flush();
        return failures == 0 ? 0 : 1;
    }
}
