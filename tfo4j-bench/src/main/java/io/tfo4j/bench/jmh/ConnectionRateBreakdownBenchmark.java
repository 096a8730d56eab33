package io.tfo4j.bench.jmh;

import io.tfo4j.FastOpen;
import io.tfo4j.FastOpenDialer;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Splits the difference between {@link ConnectionRateBenchmark#plainJdk} and
 * {@link ConnectionRateBenchmark#tfo4jFastOpen} into its parts: the same operation (connect, 64-byte request,
 * 64-byte reply, close), done two more ways. Not run by {@code tfo4j-bench/run} without arguments; name it:
 * {@code tfo4j-bench/run ConnectionRate}.
 * <ul>
 *   <li>{@link #dialerWithoutFastOpen}: {@link FastOpenDialer} with Fast Open switched off, against the plain
 *       listener: what the dialer's own code costs when no Fast Open happens.</li>
 *   <li>{@link #jdkChannelFastOpen}: a JDK {@code SocketChannel} with only {@link FastOpen#enableClient}
 *       before {@code connect}, then the JDK's own blocking write (which sends the SYN with the data), against
 *       the Fast Open listener: what Fast Open costs or saves in the kernel, with the least tfo4j code.</li>
 * </ul>
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
        "--sun-misc-unsafe-memory-access=allow",
        "-Djava.net.preferIPv4Stack=true"})
public class ConnectionRateBreakdownBenchmark {
    private static final FastOpenDialer PLAIN_DIALER = FastOpenDialer.create().withFastOpen(false);

    /** {@code FastOpenDialer.create().withFastOpen(false).dial(address, request)} against a plain listener. */
    @Benchmark
    public int dialerWithoutFastOpen(ConnectionRateBenchmark.PlainState state) throws IOException {
        state.requireOwnerThread();
        state.operations++;
        try (SocketChannel channel = PLAIN_DIALER.dial(state.address, state.request.clear())) {
            return ConnectionRateBenchmark.readReply(channel, state.reply);
        }
    }

    /** {@code FastOpen.enableClient(channel)}, {@code connect}, the JDK's write, against a Fast Open listener. */
    @Benchmark
    public int jdkChannelFastOpen(ConnectionRateBenchmark.FastOpenState state) throws IOException {
        state.requireOwnerThread();
        state.operations++;
        ByteBuffer request = state.request.clear();
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.INET)) {
            FastOpen.enableClient(channel);
            channel.connect(state.address);
            while (request.hasRemaining()) {
                channel.write(request);
            }
            return ConnectionRateBenchmark.readReply(channel, state.reply);
        }
    }
}
