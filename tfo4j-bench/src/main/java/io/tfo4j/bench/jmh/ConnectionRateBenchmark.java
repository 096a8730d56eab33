package io.tfo4j.bench.jmh;

import io.tfo4j.ClientOutcome;
import io.tfo4j.FastOpenCounters;
import io.tfo4j.FastOpenDialer;
import io.tfo4j.FastOpenSupport;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * Connections per second on loopback: one operation is connect, write a 64-byte request, read a 64-byte
 * reply, close. {@link #plainJdk} is the JDK alone against a plain listener; {@link #tfo4jFastOpen} is
 * {@link FastOpenDialer} against a listener with Fast Open on, so from the second connection on the request
 * travels in the SYN.
 *
 * <p>Each trial runs in its own private network namespace ({@link LoopbackRig}): the JMH worker thread and
 * the server both live there, with {@code net.ipv4.tcp_fastopen=3}; the host's sysctls are not touched. The
 * Fast Open trial checks at setup that a warm-up connection had its SYN data acknowledged, and at teardown
 * prints the kernel's Fast Open counters against the number of operations, so a run where Fast Open did not
 * happen says so instead of passing for one where it did.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 5, time = 5)
@Threads(1)
@Fork(value = 1, jvmArgsAppend = {
        "--enable-native-access=ALL-UNNAMED",
        "--add-exports", "java.base/sun.nio.ch=ALL-UNNAMED",
        "--add-opens", "java.base/java.net=ALL-UNNAMED",
        // JMH 1.37 itself calls sun.misc.Unsafe; this keeps JDK 25 from warning about it in every fork.
        "--sun-misc-unsafe-memory-access=allow",
        // SocketChannel.open(address) would otherwise make an IPv6 socket talking to ::ffff:127.0.0.1, while
        // FastOpenDialer makes an IPv4 one: both sides get plain IPv4 sockets so only the Fast Open differs.
        "-Djava.net.preferIPv4Stack=true"})
public class ConnectionRateBenchmark {
    /** Bytes the client sends per connection; fits in one SYN. */
    public static final int REQUEST_BYTES = 64;
    /** Bytes the server answers per connection. */
    public static final int REPLY_BYTES = 64;
    /** The Fast Open listener's queue length. */
    public static final int FAST_OPEN_QUEUE = 256;

    /** What both benchmarks share: the rig, the buffers, and an operation count for the teardown report. */
    abstract static class ConnectionState {
        LoopbackRig rig;
        InetSocketAddress address;
        final ByteBuffer request = ByteBuffer.allocateDirect(REQUEST_BYTES);
        final ByteBuffer reply = ByteBuffer.allocateDirect(REPLY_BYTES);
        long operations;
        FastOpenCounters countersAtStart;
        Map<String, Long> retransmissionsAtStart;

        void open(int fastOpenQueue) throws IOException {
            for (int i = 0; i < REQUEST_BYTES; i++) {
                request.put(i, (byte) ('A' + i % 26));
            }
            rig = LoopbackRig.open(fastOpenQueue, REQUEST_BYTES, REPLY_BYTES);
            address = rig.serverAddress();
        }

        /** Takes the kernel counters that {@link #report} compares against. */
        void startCounting() throws IOException {
            countersAtStart = FastOpenCounters.read();
            retransmissionsAtStart = TcpExtCounters.read(TcpExtCounters.RETRANSMISSIONS);
        }

        /** The benchmark thread's sockets are in the namespace only if it is the thread that entered it. */
        void requireOwnerThread() {
            if (Thread.currentThread() != rig.owner()) {
                throw new IllegalStateException(Thread.currentThread().getName() + " is not in namespace "
                        + rig.namespaceName() + "; only " + rig.owner().getName() + " is");
            }
        }

        /** Prints what the trial did and what the kernel counted, then stops everything. */
        void report(String benchmark) throws IOException {
            FastOpenCounters delta = FastOpenCounters.read().minus(countersAtStart);
            System.out.printf("%n[%s] namespace %s: %d operations measured and warmed up, server answered %d"
                            + " (failed %d)%n", benchmark, rig.namespaceName(), operations,
                    rig.server().served(), rig.server().failed());
            if (rig.server().firstFailure() != null) {
                System.out.println("[" + benchmark + "] first server failure: " + rig.server().firstFailure());
            }
            System.out.printf("[%s] kernel TcpExt since setup: TCPFastOpenActive +%d, ActiveFail +%d, Passive +%d,"
                            + " PassiveFail +%d, ListenOverflow +%d, CookieReqd +%d%n", benchmark, delta.active(),
                    delta.activeFail(), delta.passive(), delta.passiveFail(), delta.listenOverflow(),
                    delta.cookieReqd());
            System.out.printf("[%s] retransmissions since setup: %s%n", benchmark, TcpExtCounters.describeDelta(
                    retransmissionsAtStart, TcpExtCounters.read(TcpExtCounters.RETRANSMISSIONS)));
            checkCounters(benchmark, delta);
        }

        abstract void checkCounters(String benchmark, FastOpenCounters delta);

        /** JMH runs a superclass's {@code @TearDown} for each state subclass. */
        @TearDown(Level.Trial)
        public void tearDown(BenchmarkParams params) throws IOException {
            try {
                report(benchmarkName(params));
            } finally {
                close();
            }
        }

        /** The benchmark method's name, for the report lines. */
        static String benchmarkName(BenchmarkParams params) {
            String full = params.getBenchmark();
            return full.substring(full.lastIndexOf('.') + 1);
        }

        /** JMH runs no teardown after a failed setup: the rig must not stay behind. */
        void closeAfterFailedSetup(Exception failure) {
            try {
                close();
            } catch (IOException | RuntimeException e) {
                failure.addSuppressed(e);
            }
        }

        void close() throws IOException {
            if (rig != null) {
                rig.close();
                rig = null;
            }
        }
    }

    /** A plain listener (no {@code TCP_FASTOPEN}). */
    @State(Scope.Thread)
    public static class PlainState extends ConnectionState {
        @Setup(Level.Trial)
        public void setUp() throws IOException {
            open(0);
            try {
                startCounting();
            } catch (IOException | RuntimeException e) {
                closeAfterFailedSetup(e);
                throw e;
            }
        }

        @Override
        void checkCounters(String benchmark, FastOpenCounters delta) {
            if (delta.active() != 0 || delta.passive() != 0) {
                System.out.println("[" + benchmark + "] UNEXPECTED: Fast Open happened in the plain baseline");
            }
        }
    }

    /**
     * A listener with Fast Open on, and a Fast Open cookie already cached by two warm-up connections made
     * with {@link FastOpenDialer}.
     */
    @State(Scope.Thread)
    public static class FastOpenState extends ConnectionState {
        final FastOpenDialer dialer = FastOpenDialer.create();

        @Setup(Level.Trial)
        public void setUp(BenchmarkParams params) throws IOException {
            String benchmark = benchmarkName(params);
            open(FAST_OPEN_QUEUE);
            try {
                checkFastOpenWorks(benchmark);
                startCounting();
            } catch (IOException | RuntimeException e) {
                closeAfterFailedSetup(e);
                throw e;
            }
        }

        private void checkFastOpenWorks(String benchmark) throws IOException {
            if (!dialer.willTryFastOpen()) {
                throw new IllegalStateException("FastOpenDialer will not try Fast Open in namespace "
                        + rig.namespaceName() + ": " + FastOpenSupport.current());
            }
            // The first connection fetches the cookie; the second must carry its request in the SYN.
            ClientOutcome first = warmUpConnection();
            ClientOutcome second = warmUpConnection();
            System.out.printf("%n[%s] warm-up connection 1: %s; connection 2: %s%n",
                    benchmark, first.result(), second.result());
            if (!second.synDataAcked()) {
                System.out.println("[" + benchmark + "] WARNING: FAST OPEN IS NOT IN EFFECT: the second warm-up"
                        + " connection's SYN data was not acknowledged (" + second.reason() + "); the numbers"
                        + " below measure plain connections");
            }
        }

        private ClientOutcome warmUpConnection() throws IOException {
            request.clear();
            try (SocketChannel channel = dialer.dial(address, request)) {
                readReply(channel, reply);
                return ClientOutcome.of(channel);
            }
        }

        @Override
        void checkCounters(String benchmark, FastOpenCounters delta) {
            if (delta.active() == 0) {
                System.out.println("[" + benchmark + "] WARNING: FAST OPEN WAS NOT USED: TCPFastOpenActive did"
                        + " not grow, no SYN data was acknowledged during the trial");
            } else {
                System.out.printf("[%s] SYN data acknowledged on %d of %d operations (%.1f%%)%n", benchmark,
                        delta.active(), operations, 100.0 * delta.active() / Math.max(1, operations));
            }
        }
    }

    /** Baseline: {@code SocketChannel.open(address)}, write, read the reply, close. */
    @Benchmark
    public int plainJdk(PlainState state) throws IOException {
        state.requireOwnerThread();
        state.operations++;
        ByteBuffer request = state.request.clear();
        try (SocketChannel channel = SocketChannel.open(state.address)) {
            while (request.hasRemaining()) {
                channel.write(request);
            }
            return readReply(channel, state.reply);
        }
    }

    /** {@code FastOpenDialer.dial(address, request)}, read the reply, close. */
    @Benchmark
    public int tfo4jFastOpen(FastOpenState state) throws IOException {
        state.requireOwnerThread();
        state.operations++;
        try (SocketChannel channel = state.dialer.dial(state.address, state.request.clear())) {
            return readReply(channel, state.reply);
        }
    }

    static int readReply(SocketChannel channel, ByteBuffer reply) throws IOException {
        reply.clear();
        while (reply.hasRemaining()) {
            if (channel.read(reply) < 0) {
                throw new EOFException("the server closed after " + reply.position() + " of " + REPLY_BYTES
                        + " reply bytes");
            }
        }
        return reply.position();
    }
}
