package io.tfo4j.bench.peer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * GET requests with the JDK's {@link HttpClient}, the baseline of what plain Java does. It has no hook
 * for the socket it connects, so no Fast Open: every connection pays the full handshake.
 *
 * <p>Each request gets its own HttpClient, so its own connection pool: a new connection each time
 * (HttpClient refuses a {@code Connection: close} header, it is restricted). HTTP/1.1 is asked for, so
 * there is no h2c upgrade offer.
 *
 * <p>The time to first byte runs from {@code send} (which connects, then writes the request) to the
 * response headers having arrived (when {@code send} returns with the body still to read).
 */
final class JdkHttpClient {
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration RESPONSE_TIMEOUT = Duration.ofSeconds(30);

    /** One GET of {@code target} on a new connection. */
    Exchange get(HttpTarget target) throws IOException {
        try (HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(CONNECT_TIMEOUT).build()) {
            HttpRequest request = HttpRequest.newBuilder(target.uri()).timeout(RESPONSE_TIMEOUT)
                    .header("User-Agent", "tfo4j-peer-jdk").GET().build();
            long started = System.nanoTime();
            HttpResponse<InputStream> response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
            long ttfb = System.nanoTime() - started;
            long bytes;
            try (InputStream body = response.body()) {
                bytes = body.transferTo(OutputStream.nullOutputStream());
            }
            return new Exchange(response.statusCode(), bytes, ttfb, false, false, -1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}
