package io.tfo4j.bench.peer;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code tfo4j peer connect-loop}: short connections on loopback with the JDK's plain channels, to time what
 * the JDK's socket paths cost in this JVM (with or without the tfo4j agent's hooks on them). One server
 * thread accepts, reads a 64-byte request, writes a 64-byte reply and closes; the main thread connects,
 * writes, reads and closes, one connection at a time. Prints one JSON line: connections, wall seconds, the
 * process's CPU seconds (with the JIT compiler, the garbage collector and any agent's own threads) and the
 * CPU seconds of the two threads of the loop, over the measured connections; and how long the JVM had been
 * up, and the CPU it had used, when {@code main} began (what a {@code -javaagent}'s start costs).
 */
@Command(name = "connect-loop", mixinStandardHelpOptions = true,
        description = "Short plain-JDK connections on loopback; prints connections, seconds and CPU seconds as JSON.")
final class ConnectLoopCommand implements Callable<Integer> {
    private static final int MESSAGE = 64;

    @Option(names = "--connections", defaultValue = "20000", description = "Measured connections (default 20000).")
    int connections;

    @Option(names = "--warmup", defaultValue = "20000", description = "Connections before those (default 20000).")
    int warmup;

    @Override
    public Integer call() throws Exception {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long startMillis = ManagementFactory.getRuntimeMXBean().getUptime();
        long startCpu = os.getProcessCpuTime();
        try (ServerSocketChannel server = ServerSocketChannel.open()) {
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1024);
            InetSocketAddress address = (InetSocketAddress) server.getLocalAddress();
            Thread acceptor = Thread.ofPlatform().daemon().name("connect-loop-server").start(() -> serve(server));
            loop(address, warmup);
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            long[] loopThreads = {Thread.currentThread().threadId(), acceptor.threadId()};
            long cpu = os.getProcessCpuTime();
            long threadCpu = threadCpu(threads, loopThreads);
            long start = System.nanoTime();
            loop(address, connections);
            double seconds = (System.nanoTime() - start) / 1e9;
            double cpuSeconds = (os.getProcessCpuTime() - cpu) / 1e9;
            double threadCpuSeconds = (threadCpu(threads, loopThreads) - threadCpu) / 1e9;
            System.out.printf(Locale.ROOT, "{\"connections\":%d,\"seconds\":%.6f,\"cpuSeconds\":%.6f,"
                    + "\"loopCpuSeconds\":%.6f,\"startMillis\":%d,\"startCpuSeconds\":%.6f}%n", connections, seconds,
                    cpuSeconds, threadCpuSeconds, startMillis, startCpu / 1e9);
            acceptor.interrupt();
        }
        return 0;
    }

    private static long threadCpu(ThreadMXBean threads, long[] ids) {
        long sum = 0;
        for (long id : ids) {
            sum += threads.getThreadCpuTime(id);
        }
        return sum;
    }

    private static void loop(InetSocketAddress address, int count) throws IOException {
        ByteBuffer request = ByteBuffer.allocate(MESSAGE);
        ByteBuffer reply = ByteBuffer.allocate(MESSAGE);
        for (int i = 0; i < count; i++) {
            try (SocketChannel client = SocketChannel.open(address)) {
                request.clear();
                while (request.hasRemaining()) {
                    client.write(request);
                }
                reply.clear();
                while (reply.hasRemaining() && client.read(reply) >= 0) {
                    // read the whole reply
                }
            }
        }
    }

    private static void serve(ServerSocketChannel server) {
        ByteBuffer buffer = ByteBuffer.allocate(MESSAGE);
        while (server.isOpen()) {
            try (SocketChannel accepted = server.accept()) {
                buffer.clear();
                while (buffer.hasRemaining() && accepted.read(buffer) >= 0) {
                    // read the whole request
                }
                buffer.flip();
                while (buffer.hasRemaining()) {
                    accepted.write(buffer);
                }
            } catch (IOException e) {
                return;
            }
        }
    }
}
