package io.tfo4j.cli;

import io.tfo4j.ClientOutcome;
import io.tfo4j.FastOpenSocketFactory;
import okhttp3.Call;
import okhttp3.ConnectionPool;
import okhttp3.EventListener;
import okhttp3.Handshake;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * {@code tfo4j get}: HTTP and HTTPS requests, each on a new connection, with the Fast Open outcome of each.
 * Built on OkHttp with tfo4j's socket factory. Over HTTPS the SYN carries the TLS ClientHello and the
 * outcome is read through the TLS socket from tfo4j's socket under it; each request reports its TLS
 * handshake time too (which, with Fast Open, holds the TCP handshake: the SYN left with the ClientHello).
 * HTTP/1.1 only: every request has its own connection, where HTTP/2 has nothing to multiplex, and one
 * protocol keeps runs against different servers comparable.
 *
 * <p>Over HTTP only safe methods (GET, HEAD, OPTIONS, TRACE) put their request in the SYN: a SYN with data
 * can be replayed, so any other request goes on a connection whose handshake has completed, unless
 * {@code --unsafe-in-syn} says the server is replay-safe. Over HTTPS every method uses Fast Open: the SYN
 * carries the ClientHello, which a replay cannot turn into a second request. A 425 Too Early answer (RFC 8470) is retried once
 * on a connection whose handshake has completed.
 */
@Command(name = "get", mixinStandardHelpOptions = true,
        description = "HTTP requests over TCP Fast Open, each on a new connection, with the outcome of each.")
final class GetCommand implements Callable<Integer> {
    private static final int WARM_UP_REQUESTS = 4;
    /**
     * An HTTP client always writes first, so the SYN can wait for the first write as long as it takes: over
     * TLS the first write is the ClientHello, which a cold JVM took more than the default 10 ms to make
     * (seen in the demo at 100 ms RTT), and the SYN then left without it.
     */
    private static final Duration FIRST_WRITE_WINDOW = Duration.ofSeconds(1);
    private static final Set<String> SAFE_METHODS = Set.of("GET", "HEAD", "OPTIONS", "TRACE");

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "URL", description = "An http:// or https:// URL.")
    String url;

    @Option(names = {"-k", "--insecure"}, description = "HTTPS: trust any certificate for any name"
            + " (a self-signed test server's). Anyone on the path could then read and change the traffic.")
    boolean insecure;

    @Option(names = "--cacert", paramLabel = "FILE", description = "HTTPS: trust the certificates in this PEM file"
            + " (instead of the JDK's CAs).")
    Path caCertificates;

    @Option(names = "--count", paramLabel = "N", defaultValue = "1", description = "Requests to make (default 1).")
    int count;

    @Mixin
    FastOpenSwitch fastOpen;

    @Option(names = "--method", paramLabel = "M", defaultValue = "GET", description = "HTTP method (default GET).")
    String method;

    @Option(names = "--data", paramLabel = "STR", description = "Request body.")
    String data;

    @Option(names = "--unsafe-in-syn", description = "Let a request that is not safe (POST...) ride in the SYN too."
            + " Only for servers that hold or reject replayable requests, as tfo4j serve does.")
    boolean unsafeInSyn;

    @Option(names = "--no-cookie", description = "Send the request in the SYN even without a cookie, so the first"
            + " connection takes one round trip too; only a server in no-cookie mode (tfo4j serve --no-cookie) accepts it.")
    boolean noCookie;

    @Option(names = "--json", description = "One JSON line per request on stdout.")
    boolean json;

    @Override
    public Integer call() {
        HttpUrl target = HttpUrl.parse(url);
        if (target == null) {
            throw new ParameterException(spec.commandLine(), "not an http:// or https:// URL: " + url);
        }
        if (count < 1) {
            throw new ParameterException(spec.commandLine(), "--count must be at least 1, got " + count);
        }
        if (insecure && caCertificates != null) {
            throw new ParameterException(spec.commandLine(), "give either --insecure or --cacert, not both");
        }
        ClientTls tls;
        try {
            tls = insecure ? ClientTls.trustingAnyone() : caCertificates != null ? ClientTls.trusting(caCertificates)
                    : ClientTls.jdkDefault();
        } catch (IOException e) {
            throw new ParameterException(spec.commandLine(), "--cacert: " + e.getMessage());
        }
        if (insecure && target.isHttps()) {
            System.err.println("tfo4j get: --insecure: the server's certificate is NOT checked;"
                    + " anyone on the path can read and change this traffic");
        }
        if (noCookie && !fastOpen.on()) {
            throw new ParameterException(spec.commandLine(), "--no-cookie and --no-fastopen contradict each other");
        }
        if (noCookie) {
            System.err.println("tfo4j get: --no-cookie: sending data in the SYN without a cookie; only a server in"
                    + " no-cookie mode (trusted networks only) accepts it, others take it after the handshake");
        }
        String verb = method.toUpperCase(Locale.ROOT);
        boolean safe = SAFE_METHODS.contains(verb);
        // Over HTTPS the SYN carries the TLS ClientHello, never the request: a replayed SYN cannot repeat it, so
        // every method may use Fast Open there.
        boolean replaySafe = safe || unsafeInSyn || target.isHttps();
        OkHttpClient inSyn = client(fastOpen.on() && replaySafe, noCookie && replaySafe, tls);
        OkHttpClient afterHandshake = client(false, false, tls);
        if (ClientWarmUp.enabled()) {
            warmUp(inSyn, afterHandshake, verb, target.isHttps());
        }
        int failures = 0;
        for (int i = 1; i <= count; i++) {
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("request", i);
            line.put("method", verb);
            line.put("url", target.toString());
            try {
                Exchange exchange = exchange(inSyn, target, verb);
                boolean retried = exchange.status == 425;
                if (retried) {
                    line.put("retriedAfterTooEarly", true);
                    line.put("tooEarlyTtfbMs", exchange.ttfbNanos / 1e6); // ttfbMs below is the retry's
                    exchange = exchange(afterHandshake, target, verb);
                }
                line.put("status", exchange.status);
                line.put("bytes", exchange.bytes);
                line.put("ttfbMs", exchange.ttfbNanos / 1e6);
                if (exchange.tlsVersion != null) {
                    line.put("tls", exchange.tlsVersion);
                    line.put("tlsHandshakeMs", exchange.tlsHandshakeNanos / 1e6);
                }
                ClientOutcome outcome = exchange.outcome;
                line.put("fastOpen", fastOpenField(outcome));
                line.put("synData", outcome != null && outcome.synDataAcked());
                line.put("reason", retried ? "the server answered 425 Too Early to the request in the SYN;"
                        + " sent again after the handshake" : reason(outcome, replaySafe, exchange.outcomeProblem));
                if (exchange.status >= 400) {
                    failures++;
                }
            } catch (IOException e) {
                failures++;
                line.put("error", e.toString());
            }
            print(line);
        }
        inSyn.connectionPool().evictAll();
        afterHandshake.connectionPool().evictAll();
        return failures == 0 ? 0 : 1;
    }

    private String reason(ClientOutcome outcome, boolean replaySafe, String outcomeProblem) {
        if (outcome != null && outcome.synDataAcked()) {
            return null;
        }
        if (!fastOpen.on()) {
            return "Fast Open switched off (--no-fastopen)";
        }
        if (!replaySafe) {
            return method.toUpperCase(Locale.ROOT) + " is not a safe method: a SYN with data can be replayed,"
                    + " so the request waits for the handshake";
        }
        return outcome == null ? outcomeProblem : outcome.reason();
    }

    private static Map<String, Object> fastOpenField(ClientOutcome outcome) {
        Map<String, Object> field = new LinkedHashMap<>();
        field.put("attempted", outcome != null && outcome.attempted());
        field.put("active", outcome != null && outcome.synDataAcked());
        field.put("outcome", outcome == null ? null : outcome.result().name());
        return field;
    }

    /**
     * Before the first timed request: {@value #WARM_UP_REQUESTS} requests made the way the timed ones are
     * (the same clients, the same {@link #exchange}) to a loopback listener that answers as nginx does,
     * with a time budget ({@link ClientWarmUp}). Without it the first request's ttfbMs includes tens of
     * milliseconds of a cold JVM.
     */
    private void warmUp(OkHttpClient inSyn, OkHttpClient afterHandshake, String verb, boolean https) {
        // The same clients, with a bound on each call: a warm-up must not hold the command up for long. Over
        // HTTPS they trust the warm-up responder's own certificate, which is made for this run.
        ClientTls warmUpTls = https ? ClientTls.trustingAnyone() : null;
        OkHttpClient[] clients = {warmUpClient(afterHandshake, warmUpTls), warmUpClient(inSyn, warmUpTls)};
        ClientWarmUp.http((index, url) -> exchange(clients[index == 0 ? 0 : 1], HttpUrl.get(url), verb),
                WARM_UP_REQUESTS, https);
        inSyn.connectionPool().evictAll();
        afterHandshake.connectionPool().evictAll();
    }

    private static OkHttpClient warmUpClient(OkHttpClient client, ClientTls tls) {
        OkHttpClient.Builder builder = client.newBuilder().callTimeout(Duration.ofSeconds(2));
        return tls == null ? builder.build() : tls.applyTo(builder).build();
    }

    private static OkHttpClient client(boolean fastOpen, boolean noCookie, ClientTls tls) {
        return tls.applyTo(new OkHttpClient.Builder())
                .protocols(List.of(Protocol.HTTP_1_1))
                // TCP_NODELAY as curl: over TLS the request follows the Finished message in a second small
                // write, which Nagle's algorithm would hold for a round trip (tfo4j demo --tls: 5 RTT, not 3).
                .socketFactory(new FastOpenSocketFactory(fastOpen, FIRST_WRITE_WINDOW).withTcpNoDelay(true)
                        .withNoCookie(noCookie))
                .connectionPool(new ConnectionPool(0, 1, TimeUnit.SECONDS))
                .retryOnConnectionFailure(false)
                .connectTimeout(10, TimeUnit.SECONDS)
                .readTimeout(30, TimeUnit.SECONDS)
                .build();
    }

    private static final class Exchange {
        int status;
        long bytes;
        long ttfbNanos;
        ClientOutcome outcome;
        String outcomeProblem;
        String tlsVersion;
        long tlsHandshakeNanos;
    }

    /** One request on a new connection; the outcome is read from the socket before the body is read. */
    private Exchange exchange(OkHttpClient base, HttpUrl target, String verb) throws IOException {
        Exchange exchange = new Exchange();
        OkHttpClient client = base.newBuilder().addNetworkInterceptor(chain -> {
            Response response = chain.proceed(chain.request());
            try {
                exchange.outcome = ClientOutcome.of(chain.connection().socket());
            } catch (IOException | RuntimeException e) {
                exchange.outcomeProblem = "outcome unavailable: " + e.getMessage();
            }
            return response;
        }).eventListener(new EventListener() {
            private long tlsStarted;

            @Override
            public void secureConnectStart(Call call) {
                tlsStarted = System.nanoTime();
            }

            @Override
            public void secureConnectEnd(Call call, Handshake handshake) {
                exchange.tlsHandshakeNanos = System.nanoTime() - tlsStarted;
                exchange.tlsVersion = handshake == null ? null : handshake.tlsVersion().javaName();
            }
        }).build();
        RequestBody body = data == null ? (verb.equals("POST") || verb.equals("PUT") || verb.equals("PATCH")
                ? RequestBody.create(new byte[0]) : null)
                : RequestBody.create(data, MediaType.get("text/plain; charset=utf-8"));
        Request request = new Request.Builder().url(target).method(verb, body).header("Connection", "close").build();
        long started = System.nanoTime();
        try (Response response = client.newCall(request).execute()) {
            exchange.ttfbNanos = System.nanoTime() - started;
            exchange.status = response.code();
            exchange.bytes = response.body().bytes().length;
        }
        return exchange;
    }

    private void print(Map<String, Object> line) {
        if (json) {
            System.out.println(Json.line(line));
            return;
        }
        if (line.containsKey("error")) {
            System.out.printf("#%s %s%n", line.get("request"), line.get("error"));
            return;
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> fastOpenField = (Map<String, Object>) line.get("fastOpen");
        String tls = line.containsKey("tls") ? String.format(Locale.ROOT, ", %s handshake %.1f ms", line.get("tls"),
                (Double) line.get("tlsHandshakeMs")) : "";
        System.out.printf(Locale.ROOT, "#%s %s %d bytes, ttfb %.1f ms%s, Fast Open: %s%s%n", line.get("request"),
                line.get("status"), (Long) line.get("bytes"), (Double) line.get("ttfbMs"), tls,
                fastOpenField.get("outcome"), line.get("reason") == null ? "" : " (" + line.get("reason") + ")");
    }
}
