package io.tfo4j.bench.peer;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code tfo4j peer}: the clients, servers and load generator {@code tfo4j bench} runs inside its network
 * namespaces (hidden from the help): Netty's epoll transport with its own Fast Open options, server and
 * client; the JDK's HttpClient, which cannot do Fast Open, and its HttpServer; tfo4j's own dialer as a lean
 * client, and tfo4j's socket under the JDK's SSLSocket as a lean HTTPS client; a closed-loop load generator;
 * a loop of plain-JDK connections, for the agent's cost; the CPU time of the JDK's TLS handshakes; and tfo4j serve's
 * file server in a JVM of its own, for the soak. Netty is
 * loaded only when a Netty peer runs.
 */
@Command(name = "peer", hidden = true, mixinStandardHelpOptions = true,
        description = "HTTP clients, servers and load for tfo4j bench: Netty epoll, the JDK, tfo4j's dialer.",
        subcommands = {DialerClientCommand.class, TlsClientCommand.class, NettyServerCommand.class, NettyClientCommand.class,
                JdkClientCommand.class, JdkServerCommand.class, LoadCommand.class, ConnectLoopCommand.class,
                TlsHandshakeCpuCommand.class, FileServeCommand.class})
public final class PeerCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
