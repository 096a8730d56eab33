package io.tfo4j.bench.peer;

import io.tfo4j.http.TlsIdentity;
import io.tfo4j.lab.OpensslCertificate;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code tfo4j peer tls-handshake-cpu}: the CPU time of the JDK's TLS 1.3 handshakes, client and server, from
 * a cold JVM to a warm one, with an RSA-2048 certificate made by openssl (what the latency benchmark's servers
 * present) or an EC P-256 one, full or resumed. Both ends run in this process on loopback (no Fast Open, no
 * delay), each on its own thread, and each handshake's CPU is that thread's CPU time around it, so the two
 * ends do not count each other's work.
 */
@Command(name = "tls-handshake-cpu", mixinStandardHelpOptions = true,
        description = {"CPU time of the JDK's TLS 1.3 handshakes on loopback, client and server thread, cold to warm:"
                + " the first, the median of the 2nd to 10th, of the 11th to 100th, and of the last 200."})
final class TlsHandshakeCpuCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--key", paramLabel = "rsa|ec", defaultValue = "rsa",
            description = "The server's certificate: rsa (RSA-2048 made by openssl, default) or ec (P-256, made in Java).")
    String key;

    @Option(names = "--count", paramLabel = "N", defaultValue = "1500", description = "Handshakes (default 1500).")
    int count;

    @Option(names = "--resume", description = "Resume the session (one TLS client for all): no certificate, no signature.")
    boolean resume;

    @Override
    public Integer call() throws Exception {
        if (count < 1 || count > 100_000) {
            throw new ParameterException(spec.commandLine(), "--count must be 1 to 100000, got " + count);
        }
        if (!key.equals("rsa") && !key.equals("ec")) {
            throw new ParameterException(spec.commandLine(), "--key must be rsa or ec, got '" + key + "'");
        }
        Path dir = Files.createTempDirectory("tfo4j-tls-cpu");
        TlsIdentity identity;
        try {
            OpensslCertificate rsa = key.equals("rsa") ? OpensslCertificate.make(dir, "127.0.0.1") : null;
            identity = rsa == null ? TlsIdentity.selfSigned(List.of("127.0.0.1")) : TlsIdentity.fromPem(rsa.certificate(), rsa.key());
        } finally {
            try (var files = Files.list(dir)) {
                for (Path file : files.toList()) {
                    Files.delete(file);
                }
            }
            Files.delete(dir);
        }
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long[] client = new long[count];
        long[] server = new long[count];
        try (SSLServerSocket listener = (SSLServerSocket) identity.serverContext().getServerSocketFactory()
                .createServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            listener.setEnabledProtocols(new String[] {"TLSv1.3"});
            Thread serverThread = Thread.ofPlatform().name("tls-server").start(() -> {
                for (int i = 0; i < count; i++) {
                    try (SSLSocket accepted = (SSLSocket) listener.accept()) {
                        long started = threads.getCurrentThreadCpuTime();
                        accepted.startHandshake();
                        accepted.getInputStream().read();
                        server[i] = threads.getCurrentThreadCpuTime() - started;
                        accepted.getOutputStream().write(1);
                        accepted.getOutputStream().flush();
                    } catch (IOException e) {
                        server[i] = -1;
                    }
                }
            });
            SSLContext shared = InsecureTls.trustingAnyone();
            for (int i = 0; i < count; i++) {
                SSLContext tls = resume ? shared : InsecureTls.trustingAnyone();
                try (Socket plain = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
                     SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket(plain, "127.0.0.1",
                             listener.getLocalPort(), true)) {
                    long started = threads.getCurrentThreadCpuTime();
                    socket.startHandshake();
                    socket.getOutputStream().write(1);
                    socket.getOutputStream().flush();
                    client[i] = threads.getCurrentThreadCpuTime() - started;
                    socket.getInputStream().read();
                }
            }
            serverThread.join(60_000);
        }
        System.out.printf(Locale.ROOT, "TLS 1.3, %s certificate, %s handshakes: CPU ms per handshake (client / server thread)%n",
                key.equals("rsa") ? "RSA-2048" : "EC P-256", resume ? "resumed" : "full");
        int[][] ranges = {{0, 1}, {1, 10}, {10, 100}, {Math.max(100, count - 200), count}};
        for (int[] range : ranges) {
            if (range[0] < range[1] && range[1] <= count) {
                System.out.printf(Locale.ROOT, "  handshakes %d-%d (median): %.2f / %.2f%n", range[0] + 1, range[1],
                        median(client, range[0], range[1]) / 1e6, median(server, range[0], range[1]) / 1e6);
            }
        }
        return Arrays.stream(server).anyMatch(cpu -> cpu < 0) ? 1 : 0;
    }

    private static double median(long[] values, int from, int to) {
        long[] sorted = Arrays.copyOfRange(values, from, to);
        Arrays.sort(sorted);
        int middle = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2.0;
    }
}
