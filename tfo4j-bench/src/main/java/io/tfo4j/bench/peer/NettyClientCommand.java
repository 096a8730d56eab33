package io.tfo4j.bench.peer;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;

/**
 * {@code tfo4j peer netty-client}: GETs on Netty's epoll transport with TCP_FASTOPEN_CONNECT. See
 * {@link NettyHttpClient}.
 */
@Command(name = "netty-client", mixinStandardHelpOptions = true,
        description = {"GET requests on Netty's epoll transport, each on a new connection (Connection: close),"
                + " with TCP_FASTOPEN_CONNECT so the request rides in the SYN once a cookie is cached.",
                "ttfbMs: from the connect call (request already queued) to the first response bytes."})
final class NettyClientCommand implements Callable<Integer> {
    @Mixin
    ClientOptions options;

    @Mixin
    FastOpenSwitch fastOpen;

    @Override
    public Integer call() {
        HttpTarget target = options.target();
        try (NettyHttpClient client = new NettyHttpClient(fastOpen.on())) {
            if (fastOpen.on() && !client.fastOpen()) {
                System.err.println("tfo4j peer netty-client: Fast Open is off: Netty found no client bit (1) in"
                        + " net.ipv4.tcp_fastopen; fix: sysctl -w net.ipv4.tcp_fastopen=3");
            }
            NettyWarmUp.run(client);
            return options.run("netty-epoll", target, client::get);
        }
    }
}
