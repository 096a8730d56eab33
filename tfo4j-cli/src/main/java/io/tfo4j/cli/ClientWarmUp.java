package io.tfo4j.cli;

import io.tfo4j.ClientOutcome;
import io.tfo4j.FastOpenDialer;
import io.tfo4j.FastOpenSupport;
import io.tfo4j.http.TlsIdentity;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Runs a client command's connect path against a throwaway listener on this namespace's loopback before
 * the real connection, so that the real one runs loaded, linked code and its time to first byte measures
 * the network rather than a cold JVM.
 *
 * <p>The host's {@code tcp_fastopen=1} (client only) means a loopback listener cannot take data in the
 * SYN, so the kernel never defers these connects; the code only a deferred connect runs (the first write
 * that sends the SYN, the first-write window's timer) is warmed by loading its classes and running the
 * JDK calls it makes. Each warm-up makes two rounds, the first paying the cold JVM's costs that the real
 * connection would pay otherwise, then more up to its count while {@value #MORE_ROUNDS_BUDGET_MILLIS} ms
 * have not passed since the first ended. It ignores every problem: the real connection reports its own.
 * {@code -Dtfo4j.warmUp=false} (through {@code TFO4J_JAVA_OPTS}) switches it off, to measure what it saves.
 */
final class ClientWarmUp {
    /** Rounds after the second only run while this long has not passed since the first ended. */
    private static final long MORE_ROUNDS_BUDGET_MILLIS = 100;
    /** nginx's answer, in shape: the headers a client parses (OkHttp reads Content-Type with a regex). */
    private static final byte[] HTTP_RESPONSE = ("HTTP/1.1 200 OK\r\nServer: warm-up\r\n"
            + "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + "Content-Length: 3\r\nConnection: close\r\n\r\nok\n").getBytes(StandardCharsets.US_ASCII);

    /** One warm-up request, the {@code index}-th, to {@code url}, made the way the real ones are. */
    interface HttpRequest {
        void send(int index, String url) throws IOException;
    }

    private ClientWarmUp() {
    }

    static boolean enabled() {
        return !"false".equals(System.getProperty("tfo4j.warmUp"));
    }

    /** For {@code tfo4j nc}: dials the loopback listener with {@code dialer}, sending and receiving a byte. */
    static void dialer(FastOpenDialer dialer, int rounds) {
        common();
        try (ServerSocketChannel listener = loopbackListener()) {
            long firstDone = 0;
            for (int i = 0; i < rounds && (i < 2 || moreRoundsAllowed(firstDone)); i++) {
                try (SocketChannel client = dialer.dial(listener.getLocalAddress(), new byte[] {1});
                     SocketChannel server = listener.accept()) {
                    server.read(ByteBuffer.allocate(1));
                    server.write(ByteBuffer.wrap(new byte[] {2}));
                    client.read(ByteBuffer.allocate(1));
                    ClientOutcome.of(client);
                }
                if (i == 0) {
                    firstDone = System.nanoTime();
                }
            }
        } catch (IOException | RuntimeException e) {
            // Only a warm-up.
        }
    }

    /**
     * For {@code tfo4j get}: a loopback listener answers every connection with an nginx-like response
     * while {@code request} is called {@code rounds} times; over TLS with a self-signed certificate made for
     * it when {@code https} (the requests must trust it), so that the TLS code is warm too.
     */
    static void http(HttpRequest request, int rounds, boolean https) {
        common();
        try (Responder responder = https ? Responder.startTls() : Responder.start()) {
            long firstDone = 0;
            for (int i = 0; i < rounds && (i < 2 || moreRoundsAllowed(firstDone)); i++) {
                try {
                    request.send(i, responder.url());
                } catch (IOException | RuntimeException e) {
                    // The next round may still warm what this one did not reach.
                }
                if (i == 0) {
                    firstDone = System.nanoTime();
                }
            }
        } catch (IOException | RuntimeException e) {
            // Only a warm-up.
        }
    }

    private static boolean moreRoundsAllowed(long firstDone) {
        return System.nanoTime() - firstDone < TimeUnit.MILLISECONDS.toNanos(MORE_ROUNDS_BUDGET_MILLIS);
    }

    private static ServerSocketChannel loopbackListener() throws IOException {
        ServerSocketChannel listener = ServerSocketChannel.open();
        listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        return listener;
    }

    /**
     * A loopback listener whose thread answers every connection as nginx would a GET: it reads the
     * request's headers, writes a small response and closes. Not an HTTP server: a peer to warm up with.
     */
    static final class Responder implements AutoCloseable {
        private final ServerSocketChannel listener;
        private final SSLContext tls;
        private final Thread thread;

        private Responder(ServerSocketChannel listener, SSLContext tls) {
            this.listener = listener;
            this.tls = tls;
            this.thread = Thread.ofPlatform().daemon().name("tfo4j-warm-up-responder").start(this::serve);
        }

        static Responder start() throws IOException {
            return new Responder(loopbackListener(), null);
        }

        /** A responder that speaks TLS, with a self-signed certificate for 127.0.0.1 made now. */
        static Responder startTls() throws IOException {
            return new Responder(loopbackListener(), TlsIdentity.selfSigned(List.of("127.0.0.1")).serverContext());
        }

        int port() throws IOException {
            return ((InetSocketAddress) listener.getLocalAddress()).getPort();
        }

        String url() throws IOException {
            return (tls == null ? "http" : "https") + "://127.0.0.1:" + port() + "/";
        }

        private void serve() {
            while (listener.isOpen()) {
                try (SocketChannel connection = listener.accept()) {
                    if (tls == null) {
                        answer(connection);
                    } else {
                        answerOverTls(connection.socket());
                    }
                } catch (IOException | RuntimeException e) {
                    if (!listener.isOpen()) {
                        return;
                    }
                }
            }
        }

        private void answerOverTls(Socket accepted) throws IOException {
            accepted.setSoTimeout(2000);
            try (SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket(accepted, null, true)) {
                socket.setUseClientMode(false);
                InputStream in = socket.getInputStream();
                int matched = 0; // of the empty line that ends the headers
                while (matched < 4) {
                    int b = in.read();
                    if (b < 0) {
                        return;
                    }
                    matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : b == '\r' ? 1 : 0;
                }
                socket.getOutputStream().write(HTTP_RESPONSE);
                socket.getOutputStream().flush();
            }
        }

        private void answer(SocketChannel connection) throws IOException {
            ByteBuffer in = ByteBuffer.allocate(8192);
            while (!hasHeaders(in) && in.hasRemaining() && connection.read(in) > 0) {
                // keep reading
            }
            ByteBuffer out = ByteBuffer.wrap(HTTP_RESPONSE);
            while (out.hasRemaining()) {
                connection.write(out);
            }
            // Read what the client still sends (a request body) until it closes: closing with unread
            // data would reset the connection under the response.
            connection.shutdownOutput();
            while (connection.read(in.clear()) >= 0) {
                // drain
            }
        }

        /** Whether the bytes read so far hold the end of a request's headers (an empty line). */
        private static boolean hasHeaders(ByteBuffer in) {
            for (int i = 3; i < in.position(); i++) {
                if (in.get(i - 3) == '\r' && in.get(i - 2) == '\n' && in.get(i - 1) == '\r' && in.get(i) == '\n') {
                    return true;
                }
            }
            return false;
        }

        @Override
        public void close() throws IOException {
            listener.close();
            try {
                thread.join(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * What the real connections run and a loopback connection does not: the native-call probe, and the
     * JDK code of a deferred connect (a heap array copied to native memory for send(2); a task scheduled
     * on a timer, as the first-write window of tfo4j's sockets is).
     */
    private static void common() {
        FastOpenSupport.current();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment.copy(new byte[1], 0, arena.allocate(1), ValueLayout.JAVA_BYTE, 0, 1);
        }
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1,
                task -> Thread.ofPlatform().daemon().name("tfo4j-warm-up-timer").unstarted(task));
        try {
            timer.schedule(() -> { }, 0, TimeUnit.NANOSECONDS).get(100, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            // Only a warm-up.
        } finally {
            timer.shutdownNow();
        }
        try {
            // Package-private in tfo4j-core; only a deferred connect (a cached cookie) loads it.
            Class.forName("io.tfo4j.DeferredConnect", true, FastOpenDialer.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            // Only a warm-up.
        }
    }
}
