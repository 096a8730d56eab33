package io.tfo4j.bench.peer;

import io.tfo4j.FastOpenSupport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code tfo4j peer tls-client}: HTTPS GETs with the JDK's SSLSocket on a tfo4j socket. See {@link SslSocketHttpClient}. */
@Command(name = "tls-client", mixinStandardHelpOptions = true,
        description = {"HTTPS GET requests (TLS 1.3, HTTP/1.1) with the JDK's SSLSocket layered on a"
                + " FastOpenSocketFactory socket, each on a new connection: the ClientHello is the SYN's data once a"
                + " cookie is cached. Trusts any certificate (like curl -k).",
                "ttfbMs: from the connect call to the first response byte (like curl's time_starttransfer)."})
final class TlsClientCommand implements Callable<Integer> {
    private static final int WARM_UP_SECONDS = 15;

    @Mixin
    ClientOptions options;

    @Mixin
    FastOpenSwitch fastOpen;

    @Option(names = "--resume", description = "Share one TLS client between the requests, so that the JDK resumes"
            + " the previous session (no certificate, no signature); by default each request makes a full handshake.")
    boolean resume;

    @Option(names = "--nagle", description = "Leave Nagle's algorithm on (no TCP_NODELAY, the JDK's default), which holds"
            + " the request back a round trip behind the TLS client's last handshake records.")
    boolean nagle;

    @Option(names = "--warm-up", paramLabel = "N", defaultValue = "300", description = "TLS requests to a loopback"
            + " responder before the measured ones, within 15 s (default 300; 0 for a cold JVM).")
    int warmUp;

    @Override
    public Integer call() {
        HttpTarget target = options.target(true);
        SslSocketHttpClient client = new SslSocketHttpClient(fastOpen.on(), resume, nagle);
        FastOpenSupport.current();
        if (warmUp > 0) {
            TlsWarmUp.run(warmUp, WARM_UP_SECONDS, (index, url) -> client.get(HttpTarget.parseHttps(url)));
        }
        String name = "tfo4j-sslsocket" + (fastOpen.on() ? "" : "-plain") + (resume ? "-resumed" : "")
                + (nagle ? "-nagle" : "");
        return options.run(name, target, client::get);
    }
}
