package io.tfo4j.bench.peer;

import io.tfo4j.ClientOutcome;
import io.tfo4j.FastOpenSocketFactory;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The leanest HTTPS client on tfo4j-core: a {@link FastOpenSocketFactory} socket with the JDK's own
 * {@link SSLSocket} layered on it, one GET per connection, TLS 1.3 and HTTP/1.1 (ALPN). The socket's connect
 * is deferred, so once the kernel holds a cookie the SYN carries the TLS ClientHello; the outcome is read
 * through the {@code SSLSocket} ({@link ClientOutcome#of(Socket)}). The time to first byte runs from the
 * connect call to the first decrypted response byte, as curl's {@code time_starttransfer} does.
 *
 * <p>It sets {@code TCP_NODELAY}, as curl does. Without it (the JDK's default) the request waits a round trip:
 * the JDK's TLS client writes its ChangeCipherSpec, Finished and the request as separate records, and Nagle's
 * algorithm holds the later ones until the first is acknowledged. {@code nagle} leaves it off, to show that.
 *
 * <p>It trusts any certificate for any name, as {@code curl -k} does: the benchmark's servers have
 * self-signed ones and nothing secret passes. By default every request starts from a new TLS client (a new
 * {@code SSLContext}, made before the clock starts), so every handshake is a full one, with the server's
 * certificate and signature, as for a new curl process. With {@code resume} all requests share one
 * {@code SSLContext}, whose session cache lets the JDK resume the previous session (TLS 1.3 PSK): no
 * certificate and no signature, the same round trips.
 */
final class SslSocketHttpClient {
    private static final int CONNECT_TIMEOUT_MS = 10_000;
    private static final int READ_TIMEOUT_MS = 30_000;
    private static final String PROTOCOL = "TLSv1.3";

    private final FastOpenSocketFactory sockets;
    private final SSLContext shared;
    private final boolean nagle;

    /**
     * @param fastOpen whether the sockets use Fast Open
     * @param resume   whether the requests share one TLS client, so that sessions are resumed
     * @param nagle    whether to leave Nagle's algorithm on (no {@code TCP_NODELAY})
     */
    SslSocketHttpClient(boolean fastOpen, boolean resume, boolean nagle) {
        this.sockets = new FastOpenSocketFactory(fastOpen);
        this.shared = resume ? InsecureTls.trustingAnyone() : null;
        this.nagle = nagle;
    }

    /** One GET of {@code target} over TLS on a new connection. */
    Exchange get(HttpTarget target) throws IOException {
        byte[] request = ("GET " + target.pathAndQuery() + " HTTP/1.1\r\nHost: " + target.hostHeader()
                + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        SSLContext tls = shared != null ? shared : InsecureTls.trustingAnyone();
        long started = System.nanoTime();
        try (Socket transport = sockets.createSocket()) {
            transport.setTcpNoDelay(!nagle);
            transport.connect(target.address(), CONNECT_TIMEOUT_MS);
            transport.setSoTimeout(READ_TIMEOUT_MS);
            try (SSLSocket ssl = (SSLSocket) tls.getSocketFactory().createSocket(transport,
                    target.address().getAddress().getHostAddress(), target.address().getPort(), true)) {
                SSLParameters parameters = ssl.getSSLParameters();
                parameters.setProtocols(new String[] {PROTOCOL});
                parameters.setApplicationProtocols(new String[] {"http/1.1"});
                ssl.setSSLParameters(parameters);
                long handshakeStarted = System.nanoTime();
                ssl.startHandshake(); // with a deferred connect, the ClientHello is the SYN's data
                long handshake = System.nanoTime() - handshakeStarted;
                OutputStream out = ssl.getOutputStream();
                out.write(request);
                out.flush();
                InputStream in = ssl.getInputStream();
                int first = in.read();
                long ttfb = System.nanoTime() - started;
                if (first < 0) {
                    throw new IOException("no answer from " + target.uri());
                }
                ClientOutcome outcome = ClientOutcome.of(ssl);
                String version = ssl.getSession().getProtocol();
                if (!PROTOCOL.equals(version)) {
                    throw new IOException(target.uri() + " answered over " + version + ", not " + PROTOCOL);
                }
                Response response = Response.read(first, in, target);
                return new Exchange(response.status, response.bodyBytes, ttfb, outcome.attempted(), outcome.synDataAcked(),
                        transport.getLocalPort(), version, handshake);
            }
        }
    }

    /** Status and body length of an HTTP/1.1 answer with a Content-Length (what nginx and Jetty send for a file). */
    private record Response(int status, long bodyBytes) {
        static Response read(int first, InputStream in, HttpTarget target) throws IOException {
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            int lastFour = first; // the last four bytes read, to see the blank line that ends the header
            head.write(first);
            while (lastFour != 0x0d0a0d0a) {
                int b = in.read();
                if (b < 0 || head.size() >= 16 * 1024) {
                    throw new IOException("the answer from " + target.uri() + " has no end of header in its first "
                            + head.size() + " bytes");
                }
                head.write(b);
                lastFour = lastFour << 8 | b;
            }
            String text = head.toString(StandardCharsets.ISO_8859_1);
            if (!text.startsWith("HTTP/1.") || text.length() < 12) {
                throw new IOException("not an HTTP answer from " + target.uri() + ": " + text.lines().findFirst().orElse(""));
            }
            int status = Integer.parseInt(text.substring(9, 12));
            long length = text.lines().map(l -> l.toLowerCase(Locale.ROOT))
                    .filter(l -> l.startsWith("content-length:"))
                    .mapToLong(l -> Long.parseLong(l.substring("content-length:".length()).trim()))
                    .findFirst().orElse(-1);
            if (length < 0 || length > 16 * 1024 * 1024) {
                throw new IOException("the answer from " + target.uri() + " has no usable Content-Length");
            }
            byte[] body = in.readNBytes((int) length);
            if (body.length != length) {
                throw new IOException("the answer from " + target.uri() + " ended after " + body.length + " of "
                        + length + " body bytes");
            }
            return new Response(status, length);
        }
    }
}
