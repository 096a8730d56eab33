package io.tfo4j.cli.peer;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code tfo4j peer}: HTTP peers that are not tfo4j, for the latency benchmark of issue 4 (hidden from
 * the help). Netty's epoll transport with its own Fast Open options, server and client, and the JDK's
 * HttpClient, which cannot do Fast Open. Netty is loaded only when a Netty peer runs.
 */
@Command(name = "peer", hidden = true, mixinStandardHelpOptions = true,
        description = "HTTP peers for latency comparisons: Netty epoll with Fast Open, and the JDK HttpClient.",
        subcommands = {DialerClientCommand.class, NettyServerCommand.class, NettyClientCommand.class, JdkClientCommand.class})
public final class PeerCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
