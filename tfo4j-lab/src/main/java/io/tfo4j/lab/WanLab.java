package io.tfo4j.lab;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * Two hosts joined by an emulated wide-area link: a client and a server, each a {@link NetNamespace} with
 * its own {@code net.ipv4.tcp_fastopen}, joined by a {@link DelayLine} that applies a {@link LinkProfile}
 * (round-trip time, jitter, loss, middlebox {@link Fault}s). For tests, the CLI's {@code demo} and
 * {@code bench}, and anyone who wants to see Fast Open save a round trip without a second machine.
 *
 * <pre>{@code
 * try (WanLab lab = WanLab.create(LinkProfile.rtt(Duration.ofMillis(50)))) {
 *     lab.server().call(() -> startServer(WanLab.SERVER_ADDRESS));
 *     lab.client().call(() -> connect(WanLab.SERVER_ADDRESS));
 * }
 * }</pre>
 *
 * <p>Needs Linux, iproute2, {@code /dev/net/tun} and root (CAP_SYS_ADMIN, CAP_NET_ADMIN); without them
 * {@link #unavailableReason()} says what is missing and how to get it. Everything a lab makes (namespaces,
 * TUN devices, threads) is removed by {@link #close()}, and by a JVM shutdown hook on Ctrl-C or a failed
 * run; namespaces left by a killed JVM are removed by the next one.
 */
public final class WanLab implements AutoCloseable {
    /** The client host's address (RFC 2544's benchmarking range). */
    public static final String CLIENT_ADDRESS = "198.18.100.1";
    /** The server host's address. */
    public static final String SERVER_ADDRESS = "198.18.100.2";
    /** {@code net.ipv4.tcp_fastopen} of a host that can be a Fast Open client and server. */
    public static final int CLIENT_AND_SERVER = 3;

    private final LinkProfile profile;
    private final NetNamespace client;
    private final NetNamespace server;
    private final DelayLine line;

    private WanLab(LinkProfile profile, NetNamespace client, NetNamespace server, DelayLine line) {
        this.profile = profile;
        this.client = client;
        this.server = server;
        this.line = line;
    }

    /** A lab whose two hosts both have {@code tcp_fastopen=3}. */
    public static WanLab create(LinkProfile profile) throws IOException {
        return create(profile, CLIENT_AND_SERVER, CLIENT_AND_SERVER);
    }

    /**
     * A lab with the given {@code net.ipv4.tcp_fastopen} on each host (1: client only, the usual default; 3:
     * client and server; 0: neither).
     *
     * @throws IOException when the hosts or the link cannot be made; {@link #unavailableReason()} says why
     *                     in advance
     */
    public static WanLab create(LinkProfile profile, int clientSysctl, int serverSysctl) throws IOException {
        Optional<String> problem = unavailableReason();
        if (problem.isPresent()) {
            throw new IOException("cannot build the lab: " + problem.get());
        }
        NetNamespace client = null;
        NetNamespace server = null;
        DelayLine line = null;
        try {
            client = NetNamespace.create(clientSysctl);
            server = NetNamespace.create(serverSysctl);
            line = DelayLine.connect(client, CLIENT_ADDRESS, server, SERVER_ADDRESS, profile.rtt().dividedBy(2));
            profile.applyTo(line);
            return new WanLab(profile, client, server, line);
        } catch (IOException | RuntimeException e) {
            closeAll(line, server, client);
            throw e;
        }
    }

    /**
     * Why a lab cannot be built here, or empty when it can: the namespace check of
     * {@link NetNamespace#unavailableReason()} and {@code /dev/net/tun}, with what to do about each.
     */
    public static Optional<String> unavailableReason() {
        Optional<String> namespaces = NetNamespace.unavailableReason();
        if (namespaces.isPresent()) {
            return Optional.of(namespaces.get() + " (then /dev/net/tun must be readable and writable by that"
                    + " user, mode 0666 as most distributions ship it)");
        }
        Path tun = Path.of("/dev/net/tun");
        if (!Files.exists(tun)) {
            return Optional.of("/dev/net/tun is missing: load the tun module (modprobe tun), or in a container"
                    + " pass the device in (docker run --device /dev/net/tun --cap-add NET_ADMIN)");
        }
        if (!Files.isReadable(tun) || !Files.isWritable(tun)) {
            return Optional.of("/dev/net/tun is not readable and writable for this user: run as root, or"
                    + " chmod 0666 /dev/net/tun");
        }
        return Optional.empty();
    }

    /** The client host. */
    public NetNamespace client() {
        return client;
    }

    /** The server host. */
    public NetNamespace server() {
        return server;
    }

    /** The link between them, for its counters and filters. */
    public DelayLine line() {
        return line;
    }

    /** The profile the link was built with. */
    public LinkProfile profile() {
        return profile;
    }

    /** The round-trip time of the link. */
    public Duration rtt() {
        return profile.rtt();
    }

    /** Removes the link and both hosts. Safe to call twice. */
    @Override
    public void close() {
        closeAll(line, server, client);
    }

    private static void closeAll(DelayLine line, NetNamespace server, NetNamespace client) {
        if (line != null) {
            line.close();
        }
        if (server != null) {
            server.close();
        }
        if (client != null) {
            client.close();
        }
    }

    @Override
    public String toString() {
        return "WanLab[" + CLIENT_ADDRESS + " (" + client.name() + ") <-> " + SERVER_ADDRESS + " ("
                + server.name() + "), " + profile + "]";
    }
}
