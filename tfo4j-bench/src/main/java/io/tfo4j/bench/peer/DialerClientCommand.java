package io.tfo4j.bench.peer;

import io.tfo4j.FastOpenSupport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

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

    @Mixin
    FastOpenSwitch fastOpen;

    @Override
    public Integer call() {
        HttpTarget target = options.target();
        DialerHttpClient client = new DialerHttpClient(fastOpen.on());
        FastOpenSupport.current();
        JdkWarmUp.run(WARM_UP_REQUESTS, (index, url) -> client.get(HttpTarget.parse(url)));
        return options.run(fastOpen.on() ? "tfo4j-dialer" : "tfo4j-dialer-plain", target, client::get);
    }

}
