package io.tfo4j.cli;

import io.tfo4j.ClientOutcome;
import io.tfo4j.FastOpen;
import io.tfo4j.FastOpenCounters;
import io.tfo4j.FastOpenDialer;
import io.tfo4j.FastOpenStatus;
import io.tfo4j.FastOpenSupport;
import io.tfo4j.ServerOutcome;
import io.tfo4j.lab.NetNamespace;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * {@code tfo4j selftest}: an end-to-end loopback check. Where it can make a private network namespace it
 * runs there with {@code net.ipv4.tcp_fastopen=3}, so the server side works whatever this host's sysctl
 * is; otherwise it uses this host's loopback and settings. Two connections: the first must ask for a
 * cookie, the second must carry its data in the SYN, checked from TCP_INFO on both ends and from the
 * kernel counters. Ends with PASSED (exit 0), FAIL (1) or INCONCLUSIVE (2).
 */
@Command(name = "selftest", mixinStandardHelpOptions = true,
        description = "Check TCP Fast Open end to end on loopback; ends with PASSED, FAIL or INCONCLUSIVE.")
final class SelftestCommand implements Callable<Integer> {
    private static final byte[] REQUEST = "tfo4j selftest request".getBytes(StandardCharsets.US_ASCII);

    private final List<String> failures = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        FastOpenSupport host = FastOpenSupport.current();
        say("host: " + host.osName() + " " + host.kernelRelease() + ", net.ipv4.tcp_fastopen="
                + (host.sysctl().isPresent() ? host.sysctl().getAsInt() : "unreadable"));
        if (!"Linux".equals(host.osName())) {
            return verdict("INCONCLUSIVE", "TCP Fast Open is Linux-only; nothing to test on " + host.osName());
        }
        Optional<String> noNamespace = NetNamespace.unavailableReason();
        if (noNamespace.isEmpty()) {
            say("making a private network namespace with net.ipv4.tcp_fastopen=3 (this host's setting is untouched)");
            try (NetNamespace namespace = NetNamespace.create(3)) {
                FastOpenSupport inside = namespace.call(FastOpenSupport::current);
                say("inside " + namespace.name() + ": client " + yesNo(inside.client()) + ", server "
                        + yesNo(inside.server()));
                if (!inside.client().active() || !inside.server().active()) {
                    return verdict("FAIL", "Fast Open should be available in a namespace with sysctl 3: client: "
                            + inside.client().reason() + "; server: " + inside.server().reason());
                }
                return runExchanges(true, new Runner() {
                    @Override
                    public <T> T call(Callable<T> task) throws IOException {
                        return namespace.call(task);
                    }

                    @Override
                    public <T> Future<T> submit(Callable<T> task) {
                        return namespace.submit(task);
                    }
                });
            }
        }
        say("cannot make a network namespace (" + noNamespace.get() + "); testing this host's loopback");
        if (!host.client().active()) {
            return verdict("INCONCLUSIVE", "client Fast Open is off here: " + host.client().reason()
                    + "; fix: " + host.client().remedy());
        }
        if (!host.server().active()) {
            return verdict("INCONCLUSIVE", "server Fast Open is off on this host (" + host.server().reason()
                    + "), so a loopback test cannot show SYN data; fix: " + host.server().remedy()
                    + ", or run as root so the selftest can use a private namespace");
        }
        return runExchanges(false, new Runner() {
            @Override
            public <T> T call(Callable<T> task) throws Exception {
                return task.call();
            }

            @Override
            public <T> Future<T> submit(Callable<T> task) {
                java.util.concurrent.FutureTask<T> future = new java.util.concurrent.FutureTask<>(task);
                Thread.ofPlatform().daemon().start(future);
                return future;
            }
        });
    }

    /** Runs tasks where the test happens: inside the namespace or on this host. */
    private interface Runner {
        <T> T call(Callable<T> task) throws Exception;

        <T> Future<T> submit(Callable<T> task);
    }

    private record Served(ServerOutcome outcome, byte[] request) {
    }

    /**
     * @param freshCookieCache true in a new namespace; on this host a cookie for loopback may be cached
     *                         from before, and then the first connection already carries SYN data
     */
    private int runExchanges(boolean freshCookieCache, Runner runner) throws Exception {
        ServerSocketChannel listener = runner.call(() -> {
            ServerSocketChannel channel = ServerSocketChannel.open();
            channel.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return channel;
        });
        try (listener) {
            FastOpenStatus status = runner.call(() -> FastOpen.enableServer(listener, 16));
            say("listener " + listener.getLocalAddress() + ": Fast Open "
                    + (status.active() ? "on" : "off (" + status.reason() + ")"));
            check(status.active(), "the listener should accept Fast Open");
            InetSocketAddress address = (InetSocketAddress) listener.getLocalAddress();
            FastOpenCounters before = runner.call(FastOpenCounters::read);

            int synDataConnections = 0;
            for (int connection = 1; connection <= 2; connection++) {
                Future<Served> served = runner.submit(() -> serveOne(listener));
                ClientOutcome client = runner.call(() -> exchange(address));
                Served server = served.get(10, TimeUnit.SECONDS);
                boolean expectSynData = connection == 2
                        || (!freshCookieCache && client.result() == ClientOutcome.Result.SYN_DATA_ACKED);
                if (expectSynData) {
                    synDataConnections++;
                }
                say("connection " + connection + ": client " + client.result() + " (" + client.reason()
                        + "); server: Fast Open child " + server.outcome().fastOpenChild() + ", SYN data "
                        + server.outcome().synData() + ", handshake complete at accept "
                        + server.outcome().handshakeComplete());
                check(Arrays.equals(REQUEST, server.request()), "connection " + connection
                        + ": the server should receive the request exactly");
                check(client.result() == (expectSynData ? ClientOutcome.Result.SYN_DATA_ACKED
                        : ClientOutcome.Result.COOKIE_REQUESTED), "connection " + connection + ": client outcome should be "
                        + (expectSynData ? "SYN_DATA_ACKED" : "COOKIE_REQUESTED") + ", was " + client.result());
                check(server.outcome().synData() == expectSynData, "connection " + connection
                        + ": server TCP_INFO SYN data should be " + expectSynData);
            }
            FastOpenCounters delta = runner.call(FastOpenCounters::read).minus(before);
            say("kernel counters: TCPFastOpenActive +" + delta.active() + ", TCPFastOpenPassive +"
                    + delta.passive() + ", TCPFastOpenCookieReqd +" + delta.cookieReqd()
                    + ", TCPFastOpenActiveFail +" + delta.activeFail());
            check(delta.active() == synDataConnections && delta.passive() == synDataConnections
                            && delta.cookieReqd() == 2 - synDataConnections,
                    "counters should show " + synDataConnections + " Fast Open connection(s) on each side and "
                            + (2 - synDataConnections) + " cookie request(s)");
        }
        if (failures.isEmpty()) {
            return verdict("PASSED", "the second connection's data rode in the SYN, seen by TCP_INFO on both"
                    + " ends and by the kernel counters");
        }
        return verdict("FAIL", String.join("; ", failures));
    }

    private static Served serveOne(ServerSocketChannel listener) throws IOException {
        try (SocketChannel child = listener.accept()) {
            ServerOutcome outcome = ServerOutcome.of(child);
            ByteBuffer buffer = ByteBuffer.allocate(REQUEST.length);
            while (buffer.hasRemaining() && child.read(buffer) >= 0) {
                // read the whole request
            }
            child.write(ByteBuffer.wrap("ok".getBytes(StandardCharsets.US_ASCII)));
            return new Served(outcome, Arrays.copyOf(buffer.array(), buffer.position()));
        }
    }

    private static ClientOutcome exchange(InetSocketAddress address) throws IOException {
        try (SocketChannel channel = FastOpenDialer.create().dial(address, REQUEST)) {
            ByteBuffer reply = ByteBuffer.allocate(2);
            while (reply.hasRemaining() && channel.read(reply) >= 0) {
                // read the reply
            }
            return ClientOutcome.of(channel);
        }
    }

    private void check(boolean condition, String expectation) {
        if (!condition) {
            failures.add(expectation);
            say("  FAILED CHECK: " + expectation);
        }
    }

    private static String yesNo(FastOpenStatus verdict) {
        return verdict.active() ? "yes" : "no (" + verdict.reason() + ")";
    }

    private static void say(String line) {
        System.out.println("selftest: " + line);
    }

    private static int verdict(String verdict, String why) {
        System.out.println("selftest: " + why);
        System.out.println(verdict);
        return switch (verdict) {
            case "PASSED" -> 0;
            case "FAIL" -> 1;
            default -> 2;
        };
    }
}
