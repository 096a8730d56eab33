package io.tfo4j.lab;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A server fleet behind one address, on one machine: a client host, a router host, and N backend hosts that
 * all hold the same virtual address ({@value #VIRTUAL_ADDRESS}), as behind an ECMP router, anycast, or an L4
 * balancer with direct server return. The router spreads connections over the backends by a multipath route
 * hashed on addresses and ports, so connections from different source ports reach different backends, and
 * every backend sees the virtual address as the destination: exactly where Fast Open cookies break unless
 * the backends share their Fast Open key.
 *
 * <pre>
 *  client ──── delay line (the profile's RTT) ──── router ──┬── veth ── backend 1 (VIP on lo)
 *  {@value #CLIENT_ADDRESS}                    {@value #ROUTER_ADDRESS}    ├── veth ── backend 2 (VIP on lo)
 *                                                                 └── ...
 * </pre>
 *
 * <ul>
 *   <li>The client reaches the router over a {@link DelayLine} built from the {@link LinkProfile} (so round
 *       trips are real), and sends everything there (default route).</li>
 *   <li>The router ({@code net.ipv4.ip_forward=1}, {@code fib_multipath_hash_policy=1}: layer-4 hash, and
 *       reverse-path filtering off, since replies from the VIP arrive on several links) routes
 *       {@value #VIRTUAL_ADDRESS}/32 over one next hop per backend.</li>
 *   <li>Backend {@code i} (from 1) has {@code 198.18.(110+i).1} on a veth to the router's
 *       {@code 198.18.(110+i).254}, the VIP on its loopback, and its default route through the router: a
 *       server bound to the VIP (or to 0.0.0.0) on every backend answers the client's connections to the VIP.
 *       The links router–backend add no delay.</li>
 * </ul>
 *
 * <pre>{@code
 * try (FleetLab lab = FleetLab.create(LinkProfile.rtt(Duration.ofMillis(50)), 3)) {
 *     for (NetNamespace backend : lab.backends()) {
 *         backend.call(() -> startServer(FleetLab.VIRTUAL_ADDRESS));
 *     }
 *     lab.client().call(() -> connect(FleetLab.VIRTUAL_ADDRESS));
 * }
 * }</pre>
 *
 * <p>Needs what a {@link WanLab} needs (Linux, iproute2, {@code /dev/net/tun}, root), plus veth and multipath
 * routes in the kernel; {@link #unavailableReason()} says what is missing. {@link #close()} removes every host
 * and link, as does a JVM shutdown hook.
 */
public final class FleetLab implements AutoCloseable {
    /** The address every backend holds, and the client connects to. */
    public static final String VIRTUAL_ADDRESS = "198.18.200.1";
    /** The client host's address. */
    public static final String CLIENT_ADDRESS = "198.18.110.1";
    /** The router's end of the delay line. */
    public static final String ROUTER_ADDRESS = "198.18.110.254";
    /** The most backends a lab has: one /24 per backend link, 198.18.111.0 up. */
    public static final int MAX_BACKENDS = 16;

    private final LinkProfile profile;
    private final NetNamespace client;
    private final NetNamespace router;
    private final List<NetNamespace> backends;
    private final DelayLine line;

    private FleetLab(LinkProfile profile, NetNamespace client, NetNamespace router, List<NetNamespace> backends,
                     DelayLine line) {
        this.profile = profile;
        this.client = client;
        this.router = router;
        this.backends = List.copyOf(backends);
        this.line = line;
    }

    /** A fleet of {@code backends} hosts with {@code tcp_fastopen=3}, reached by a client with 1. */
    public static FleetLab create(LinkProfile profile, int backends) throws IOException {
        return create(profile, backends, 1, WanLab.CLIENT_AND_SERVER);
    }

    /**
     * A fleet of {@code backendCount} hosts with the given {@code net.ipv4.tcp_fastopen} on the client and on
     * every backend.
     *
     * @throws IOException when a host, link or route cannot be made; {@link #unavailableReason()} says why in
     *                     advance
     */
    public static FleetLab create(LinkProfile profile, int backendCount, int clientSysctl, int backendSysctl)
            throws IOException {
        if (backendCount < 1 || backendCount > MAX_BACKENDS) {
            throw new IllegalArgumentException("a fleet has 1 to " + MAX_BACKENDS + " backends, not " + backendCount);
        }
        Optional<String> problem = unavailableReason();
        if (problem.isPresent()) {
            throw new IOException("cannot build the fleet lab: " + problem.get());
        }
        NetNamespace client = null;
        NetNamespace router = null;
        List<NetNamespace> backends = new ArrayList<>();
        DelayLine line = null;
        try {
            client = NetNamespace.create(clientSysctl);
            router = NetNamespace.create(0);
            // Before any link exists, so that the new devices take these defaults too.
            router.setSysctl("net/ipv4/conf/all/rp_filter", "0");
            router.setSysctl("net/ipv4/conf/default/rp_filter", "0");
            router.setSysctl("net/ipv4/ip_forward", "1");
            router.setSysctl("net/ipv4/fib_multipath_hash_policy", "1");
            line = DelayLine.connect(client, CLIENT_ADDRESS, router, ROUTER_ADDRESS, profile.rtt().dividedBy(2));
            profile.applyTo(line);
            client.ip("route", "add", "default", "dev", DelayLine.DEVICE);
            List<String> multipath = new ArrayList<>(List.of("route", "add", VIRTUAL_ADDRESS + "/32"));
            for (int i = 1; i <= backendCount; i++) {
                NetNamespace backend = NetNamespace.create(backendSysctl);
                backends.add(backend);
                String device = "backend" + i;
                router.ip("link", "add", device, "type", "veth", "peer", "name", "veth0", "netns", backend.name());
                router.ip("addr", "add", routerAddress(i) + "/24", "dev", device);
                router.ip("link", "set", device, "up");
                backend.ip("addr", "add", backendAddress(i) + "/24", "dev", "veth0");
                backend.ip("link", "set", "veth0", "up");
                backend.ip("addr", "add", VIRTUAL_ADDRESS + "/32", "dev", "lo");
                backend.ip("route", "add", "default", "via", routerAddress(i));
                multipath.addAll(List.of("nexthop", "via", backendAddress(i), "dev", device));
            }
            router.ip(multipath.toArray(String[]::new));
            return new FleetLab(profile, client, router, backends, line);
        } catch (IOException | RuntimeException e) {
            closeAll(line, backends, router, client);
            throw e;
        }
    }

    /** Why a fleet lab cannot be built here, or empty when it can (as {@link WanLab#unavailableReason()}). */
    public static Optional<String> unavailableReason() {
        return WanLab.unavailableReason();
    }

    /** Backend {@code i}'s own address (from 1), on its link to the router: for reaching that backend alone. */
    public static String backendAddress(int i) {
        return "198.18." + (110 + i) + ".1";
    }

    private static String routerAddress(int i) {
        return "198.18." + (110 + i) + ".254";
    }

    /** The client host. */
    public NetNamespace client() {
        return client;
    }

    /** The router host. */
    public NetNamespace router() {
        return router;
    }

    /** The backend hosts, backend 1 first. */
    public List<NetNamespace> backends() {
        return backends;
    }

    /** The link between the client and the router, for its counters and filters. */
    public DelayLine line() {
        return line;
    }

    /** The round-trip time between the client and any backend. */
    public Duration rtt() {
        return profile.rtt();
    }

    /**
     * Forgets every Fast Open cookie the client host holds ({@code ip tcp_metrics flush}), so that its next
     * connection asks for a cookie again.
     */
    public void forgetClientCookies() throws IOException {
        client.ip("tcp_metrics", "flush", "all");
    }

    /** Removes every host and link. Safe to call twice. */
    @Override
    public void close() {
        closeAll(line, backends, router, client);
    }

    private static void closeAll(DelayLine line, List<NetNamespace> backends, NetNamespace router, NetNamespace client) {
        if (line != null) {
            line.close();
        }
        backends.forEach(NetNamespace::close);
        if (router != null) {
            router.close();
        }
        if (client != null) {
            client.close();
        }
    }

    @Override
    public String toString() {
        return "FleetLab[" + CLIENT_ADDRESS + " -> " + VIRTUAL_ADDRESS + " on " + backends.size() + " backends, "
                + profile + "]";
    }
}
