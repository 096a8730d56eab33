package io.tfo4j.bench;

import io.tfo4j.ClientOutcome;
import io.tfo4j.FastOpenCounters;
import io.tfo4j.FastOpenDialer;
import io.tfo4j.FastOpenSupport;
import io.tfo4j.lab.NetNamespace;
import io.tfo4j.lab.Nginx;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

/**
 * Connection-per-request HTTP throughput on loopback: one operation is a new connection made with
 * {@link FastOpenDialer} carrying the whole request {@code GET /index.html} (with {@code Connection: close})
 * as its initial data, the whole response read until the server closes, its status checked for 200 and its
 * body for the file's {@value HttpServerProcess#FILE_BYTES} bytes, and close. The same client against three
 * servers ({@link Target#target}), each a separate process ({@link HttpServerProcess}):
 * <ul>
 *   <li>{@code serveFastOpen}: the real {@code tfo4j serve DIR --bind 127.0.0.1 --port 8080 --fastopen=256}
 *       (a second JVM, {@code io.tfo4j.cli.Main}, with the root pom's {@code tfo4j.jvm.flags});</li>
 *   <li>{@code servePlain}: the same without {@code --fastopen}; the client still asks for a cookie, gets
 *       none, and sends its request after the handshake;</li>
 *   <li>{@code nginxFastOpen}: nginx, {@code worker_processes 1; listen 127.0.0.1:8080 fastopen=256;}.</li>
 * </ul>
 *
 * <p>Each trial makes a private network namespace with {@code net.ipv4.tcp_fastopen=3} (the host's sysctl is
 * not touched), starts the server in it (pinned to CPU {@link Target#serverCpu} with {@code taskset} when set),
 * moves every JMH worker thread into it, and warms up the client's Fast Open cookie. JMH's warm-up
 * iterations warm up the server JVM as well. At teardown it prints the namespace's {@code TcpExt} counters
 * against the number of operations: with a Fast Open target every connection should have been created by a
 * Fast Open SYN ({@code TCPFastOpenPassive} ≈ operations), with {@code servePlain} none; a trial where that
 * does not hold prints a {@code WARNING} line. The namespace holds both ends, so the counters count both
 * ({@code Active} for the client, {@code Passive} for the server). It also prints the server's CPU time
 * per operation over the measurement iterations, its cost independent of whether it was the bottleneck.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
// On one CPU the server JVM's JIT needs most of 20 s of load before its scores settle.
@Warmup(iterations = 4, time = 5)
@Measurement(iterations = 3, time = 5)
@Threads(2)
@Fork(value = 1, jvmArgsAppend = {
        "--enable-native-access=ALL-UNNAMED",
        "--add-exports", "java.base/sun.nio.ch=ALL-UNNAMED",
        "--add-opens", "java.base/java.net=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow",
        "-Djava.net.preferIPv4Stack=true"})
public class HttpRequestRateBenchmark {
    /** The request, whole, sent as the connection's initial data (in the SYN once a cookie is cached). */
    static final byte[] REQUEST = "GET /index.html HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII);
    /** Room for the whole response: headers (about 250 bytes from either server) and the file. */
    static final int RESPONSE_CAPACITY = 4096;
    private static final byte[] STATUS_200 = "HTTP/1.1 200 ".getBytes(StandardCharsets.US_ASCII);
    /** Below this share of operations seen as Fast Open SYNs, a Fast Open trial is reported as not one. */
    private static final double FAST_OPEN_SHARE_EXPECTED = 0.99;

    /** One trial's server, namespace and counters, shared by the client threads. */
    @State(Scope.Benchmark)
    public static class Target {
        /** Which server: {@code serveFastOpen}, {@code servePlain} or {@code nginxFastOpen}. */
        @Param({"serveFastOpen", "servePlain", "nginxFastOpen"})
        public String target;

        /**
         * The CPU the server process is pinned to ({@code taskset -c}), or {@code none}. {@code tfo4j-bench/run
         * --http} pins the JMH JVM (the load generator) to the other CPU.
         */
        @Param({"1"})
        public String serverCpu;

        /**
         * Receive packet steering on the namespace's loopback: a CPU mask for
         * {@code /sys/class/net/lo/queues/rx-0/rps_cpus} (hexadecimal, e.g. {@code 3}), or {@code none}.
         */
        @Param({"none"})
        public String loopbackRps;

        NetNamespace namespace;
        HttpServerProcess server;
        InetSocketAddress address;
        final FastOpenDialer dialer = FastOpenDialer.create();
        final LongAdder operations = new LongAdder();
        FastOpenCounters countersAtStart;
        Map<String, Long> retransmissionsAtStart;
        /** Operations and server CPU ticks at the start of the current iteration. */
        long iterationOperations;
        long iterationTicks;
        /** Sums over the measurement iterations. */
        long measuredOperations;
        long measuredTicks;

        @Setup(Level.Trial)
        public void setUp() throws IOException {
            HttpServerProcess.Kind kind = kind(target);
            if (kind == HttpServerProcess.Kind.NGINX_FAST_OPEN) {
                Optional<String> unavailable = Nginx.unavailableReason();
                if (unavailable.isPresent()) {
                    System.out.println("\n[" + target + "] SKIPPED: " + unavailable.get());
                    throw new IllegalStateException("SKIPPED " + target + ": " + unavailable.get());
                }
            }
            Optional<String> noNamespaces = NetNamespace.unavailableReason();
            if (noNamespaces.isPresent()) {
                throw new IllegalStateException("the benchmark needs a private network namespace (the host's"
                        + " net.ipv4.tcp_fastopen is never changed), and none can be made here: " + noNamespaces.get());
            }
            namespace = NetNamespace.create(LoopbackRig.TCP_FASTOPEN_SYSCTL);
            try {
                namespace.setSysctl("net/ipv4/tcp_tw_reuse", "1");
                namespace.setSysctl("net/ipv4/ip_local_port_range", "1024\t65535");
                if (!loopbackRps.equals("none")) {
                    setLoopbackRps(loopbackRps);
                }
                server = HttpServerProcess.start(kind, namespace, serverCpu.equals("none") ? "" : serverCpu);
                address = new InetSocketAddress("127.0.0.1", HttpServerProcess.PORT);
                System.out.printf("%n[%s] namespace %s: server pid %d: %s%n", target, namespace.name(), server.pid(),
                        String.join(" ", server.command()));
                String banner = server.log().strip();
                if (!banner.isEmpty()) {
                    System.out.println("[" + target + "] server says: " + banner);
                }
                warmUpCookie(kind);
                countersAtStart = namespace.call(FastOpenCounters::read);
                retransmissionsAtStart = namespace.call(() -> TcpExtCounters.read(TcpExtCounters.RETRANSMISSIONS));
            } catch (IOException | RuntimeException e) {
                closeAfterFailedSetup(e);
                throw e;
            }
        }

        private void setLoopbackRps(String mask) throws IOException {
            String file = "/sys/class/net/lo/queues/rx-0/rps_cpus";
            Process process = namespace.command("sh", "-c", "echo " + mask + " > " + file + " && cat " + file)
                    .redirectErrorStream(true).start();
            try {
                String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
                if (process.waitFor() != 0) {
                    throw new IOException("cannot set " + file + " to " + mask + " in " + namespace.name() + ": " + output);
                }
                System.out.printf("%n[%s] loopback rps_cpus in %s: %s%n", target, namespace.name(), output);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }

        /**
         * Two connections through the dialer: the first fetches the cookie, the second should carry its
         * request in the SYN (a Fast Open target) or not (the plain one).
         */
        private void warmUpCookie(HttpServerProcess.Kind kind) throws IOException {
            if (!dialer.willTryFastOpen()) {
                throw new IllegalStateException("FastOpenDialer will not try Fast Open: " + FastOpenSupport.current());
            }
            ClientOutcome first = namespace.call(this::warmUpConnection);
            ClientOutcome second = namespace.call(this::warmUpConnection);
            System.out.printf("[%s] warm-up connection 1: %s; connection 2: %s%n", target, first.result(),
                    second.result());
            if (kind.fastOpen() && !second.synDataAcked()) {
                System.out.println("[" + target + "] WARNING: FAST OPEN IS NOT IN EFFECT: the second warm-up"
                        + " connection's SYN data was not acknowledged (" + second.reason() + ")");
            }
        }

        private ClientOutcome warmUpConnection() throws IOException {
            try (SocketChannel channel = dialer.dial(address, ByteBuffer.wrap(REQUEST))) {
                readResponse(channel, ByteBuffer.allocate(RESPONSE_CAPACITY));
                return ClientOutcome.of(channel);
            }
        }

        @Setup(Level.Iteration)
        public void startIteration() throws IOException {
            iterationOperations = operations.sum();
            iterationTicks = server.cpuTicks();
        }

        /**
         * Adds the iteration's operations and the server's CPU time to the measurement's sums: CPU per
         * request is a second view of the server's cost, less disturbed than ops/s by other load on the
         * machine (time the server waits for a CPU is not in it).
         */
        @TearDown(Level.Iteration)
        public void endIteration(IterationParams iteration) throws IOException {
            if (iteration.getType() == IterationType.MEASUREMENT) {
                measuredOperations += operations.sum() - iterationOperations;
                measuredTicks += server.cpuTicks() - iterationTicks;
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() throws IOException {
            try {
                report();
            } finally {
                close();
            }
        }

        /** Prints what the trial did against the kernel's counters, and says so when they disagree. */
        private void report() throws IOException {
            FastOpenCounters delta = namespace.call(FastOpenCounters::read).minus(countersAtStart);
            Map<String, Long> retransmissions = namespace.call(() -> TcpExtCounters.read(TcpExtCounters.RETRANSMISSIONS));
            long ops = operations.sum();
            System.out.printf("%n[%s] %d operations measured and warmed up%n", target, ops);
            System.out.printf("[%s] server namespace TcpExt since setup: TCPFastOpenPassive +%d, PassiveFail +%d,"
                            + " ListenOverflow +%d, CookieReqd +%d, Active +%d, ActiveFail +%d%n", target,
                    delta.passive(), delta.passiveFail(), delta.listenOverflow(), delta.cookieReqd(), delta.active(),
                    delta.activeFail());
            System.out.printf("[%s] retransmissions since setup: %s%n", target,
                    TcpExtCounters.describeDelta(retransmissionsAtStart, retransmissions));
            if (measuredOperations > 0) {
                System.out.printf("[%s] server CPU per operation in the measurement iterations: %.1f us"
                                + " (%d ticks of 10 ms for %d operations)%n", target,
                        1e6 * measuredTicks / HttpServerProcess.TICKS_PER_SECOND / measuredOperations, measuredTicks,
                        measuredOperations);
            }
            double share = (double) delta.passive() / Math.max(1, ops);
            if (kind(target).fastOpen()) {
                if (share < FAST_OPEN_SHARE_EXPECTED) {
                    System.out.printf("[%s] WARNING: FAST OPEN NOT IN EFFECT FOR ALL CONNECTIONS: the server took"
                            + " data in the SYN on %d of %d operations (%.1f%%)%n", target, delta.passive(), ops,
                            100 * share);
                } else {
                    System.out.printf("[%s] Fast Open checked: the server took data in the SYN on %d of %d"
                            + " operations (%.1f%%)%n", target, delta.passive(), ops, 100 * share);
                }
            } else if (delta.passive() != 0 || delta.active() != 0) {
                System.out.println("[" + target + "] UNEXPECTED: Fast Open happened against the plain server");
            } else {
                System.out.println("[" + target + "] checked: no connection used Fast Open");
            }
            if (!server.log().isBlank() && kind(target) != HttpServerProcess.Kind.NGINX_FAST_OPEN) {
                String log = server.log().strip();
                if (log.lines().count() > 1) {
                    System.out.println("[" + target + "] server output:\n" + log);
                }
            }
        }

        private void closeAfterFailedSetup(Exception failure) {
            try {
                close();
            } catch (IOException | RuntimeException e) {
                failure.addSuppressed(e);
            }
        }

        private void close() throws IOException {
            try {
                if (server != null) {
                    server.close();
                    server = null;
                }
            } finally {
                if (namespace != null) {
                    namespace.close();
                    namespace = null;
                }
            }
        }

        static HttpServerProcess.Kind kind(String target) {
            return switch (target) {
                case "serveFastOpen" -> HttpServerProcess.Kind.SERVE_FAST_OPEN;
                case "servePlain" -> HttpServerProcess.Kind.SERVE_PLAIN;
                case "nginxFastOpen" -> HttpServerProcess.Kind.NGINX_FAST_OPEN;
                default -> throw new IllegalArgumentException("target must be serveFastOpen, servePlain or"
                        + " nginxFastOpen, got " + target);
            };
        }
    }

    /** One JMH worker thread of the load generator, moved into the trial's namespace. */
    @State(Scope.Thread)
    public static class Client {
        NetNamespace.Visit visit;
        Thread owner;
        final ByteBuffer request = ByteBuffer.allocateDirect(REQUEST.length).put(REQUEST).flip();
        final ByteBuffer response = ByteBuffer.allocateDirect(RESPONSE_CAPACITY);

        @Setup(Level.Trial)
        public void setUp(Target target) throws IOException {
            visit = target.namespace.enterOnThisThread();
            owner = Thread.currentThread();
        }

        @TearDown(Level.Trial)
        public void tearDown() throws IOException {
            if (visit != null) {
                visit.close();
                visit = null;
            }
        }
    }

    /** One connection: dial with the request as initial data, read the response to EOF, check it, close. */
    @Benchmark
    public int request(Target target, Client client) throws IOException {
        if (Thread.currentThread() != client.owner) {
            throw new IllegalStateException(Thread.currentThread().getName() + " is not the thread that entered"
                    + " the namespace (" + client.owner.getName() + ")");
        }
        target.operations.increment();
        try (SocketChannel channel = target.dialer.dial(target.address, client.request.clear())) {
            return readResponse(channel, client.response);
        }
    }

    /**
     * Reads until the server closes, then checks the status line is 200 and the body is the file's size.
     *
     * @return the response's length
     */
    static int readResponse(SocketChannel channel, ByteBuffer response) throws IOException {
        response.clear();
        while (channel.read(response) >= 0) {
            if (!response.hasRemaining()) {
                throw new IOException("the response is longer than " + RESPONSE_CAPACITY + " bytes");
            }
        }
        int length = response.position();
        for (int i = 0; i < STATUS_200.length; i++) {
            if (i >= length || response.get(i) != STATUS_200[i]) {
                throw new IOException("not a 200 response: " + ascii(response, Math.min(length, 80)));
            }
        }
        int bodyStart = -1;
        for (int i = 3; i < length; i++) {
            if (response.get(i) == '\n' && response.get(i - 1) == '\r' && response.get(i - 2) == '\n'
                    && response.get(i - 3) == '\r') {
                bodyStart = i + 1;
                break;
            }
        }
        if (bodyStart < 0) {
            throw new EOFException("the server closed before the end of the headers: " + ascii(response, length));
        }
        if (length - bodyStart != HttpServerProcess.FILE_BYTES) {
            throw new IOException("the body has " + (length - bodyStart) + " bytes, not "
                    + HttpServerProcess.FILE_BYTES);
        }
        return length;
    }

    private static String ascii(ByteBuffer buffer, int length) {
        byte[] bytes = new byte[length];
        buffer.get(0, bytes);
        return new String(bytes, StandardCharsets.US_ASCII).replace("\r\n", "\\r\\n ");
    }
}
