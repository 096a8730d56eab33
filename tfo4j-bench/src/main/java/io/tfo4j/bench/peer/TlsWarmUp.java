package io.tfo4j.bench.peer;

import io.tfo4j.FastOpenServerSocketFactory;
import io.tfo4j.http.TlsIdentity;
import io.tfo4j.lab.OpensslCertificate;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Warm-ups for HTTPS. {@link #server} warms up a JVM server with requests made as the measured clients make
 * theirs. {@link #run} warms up the TLS peer client: requests to a throwaway HTTPS responder on this
 * namespace's loopback before the timed requests, so that those run compiled TLS code (key exchange, the
 * certificate's signature check) and not a cold JVM. The responder presents an RSA-2048 certificate made by
 * openssl, as the benchmark's servers do (an EC one made in Java where openssl is missing), and listens with
 * Fast Open where this host allows it; afterwards the client waits (up to 10 s) for the JIT to finish what the
 * warm-up queued ({@link JitQuiet}). Problems are ignored there: it is only a warm-up, and the real requests
 * report their own.
 */
public final class TlsWarmUp {
    private static final byte[] ANSWER = ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nwarm\n")
            .getBytes(StandardCharsets.US_ASCII);

    private TlsWarmUp() {
    }

    /**
     * {@code requests} GETs of {@code url} (an HTTPS server in this JVM) from the calling thread's host, each on
     * a new connection, made as the measured clients make theirs: Fast Open (so the ClientHello comes with the
     * connection where the host allows it), ALPN http/1.1, TLS 1.3; every second one from a new TLS client (a full
     * handshake, with the certificate's signature), the others resuming a session.
     *
     * @throws IOException when a request fails
     */
    public static void server(String url, int requests) throws IOException {
        HttpTarget target = HttpTarget.parseHttps(url);
        SslSocketHttpClient full = new SslSocketHttpClient(true, false, false);
        SslSocketHttpClient resuming = new SslSocketHttpClient(true, true, false);
        for (int i = 0; i < requests; i++) {
            Exchange exchange = (i % 2 == 0 ? full : resuming).get(target);
            if (exchange.status() != 200) {
                throw new IOException(url + " answered " + exchange.status() + " to warm-up request " + (i + 1));
            }
        }
    }

    /** Starts the responder, makes up to {@code requests} requests to it within {@code seconds}, and stops it. */
    static void run(int requests, int seconds, JdkWarmUp.Request request) {
        Path dir = null;
        Thread responder = null;
        try (ServerSocket listener = new FastOpenServerSocketFactory(16).createServerSocket(0, 50,
                InetAddress.getLoopbackAddress())) {
            dir = Files.createTempDirectory("tfo4j-tls-warm-up");
            SSLContext server = identity(dir).serverContext();
            responder = Thread.ofPlatform().daemon().name("tls-warm-up").start(() -> answer(listener, server));
            String url = "https://127.0.0.1:" + listener.getLocalPort() + "/";
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            for (int i = 0; i < requests && System.nanoTime() < deadline; i++) {
                request.send(i, url);
            }
            JitQuiet.await(Duration.ofSeconds(10));
        } catch (IOException | RuntimeException e) {
            // Only a warm-up.
        } finally {
            if (responder != null) {
                responder.interrupt();
            }
            deleteQuietly(dir);
        }
    }

    private static TlsIdentity identity(Path dir) {
        try {
            OpensslCertificate rsa = OpensslCertificate.make(dir, "127.0.0.1");
            return TlsIdentity.fromPem(rsa.certificate(), rsa.key());
        } catch (IOException e) {
            return TlsIdentity.selfSigned(List.of("127.0.0.1"));
        }
    }

    /** Answers each connection's request with a small page, until the listener closes. */
    private static void answer(ServerSocket listener, SSLContext server) {
        while (!listener.isClosed()) {
            try (Socket accepted = listener.accept();
                 SSLSocket tls = (SSLSocket) server.getSocketFactory().createSocket(accepted, null, true)) {
                tls.setSoTimeout(5_000);
                InputStream in = tls.getInputStream();
                int lastFour = 0; // the request's header ends with a blank line
                while (lastFour != 0x0d0a0d0a) {
                    int b = in.read();
                    if (b < 0) {
                        throw new EOFException("the request ended inside its header");
                    }
                    lastFour = lastFour << 8 | b;
                }
                OutputStream out = tls.getOutputStream();
                out.write(ANSWER);
                out.flush();
            } catch (IOException e) {
                // The client gave up on this one, or the listener closed.
            }
        }
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            // a temporary directory left behind
        }
    }
}
