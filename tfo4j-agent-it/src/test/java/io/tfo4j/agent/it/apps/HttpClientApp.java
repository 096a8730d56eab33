package io.tfo4j.agent.it.apps;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * A plain {@code java.net.http.HttpClient} program: {@code COUNT} requests with {@code METHOD} to {@code URL},
 * each on a new connection (a new client each time). Prints {@code METHOD STATUS TTFB_MS} per request and
 * exits 0 when every answer was 200. Arguments: URL METHOD COUNT.
 */
public final class HttpClientApp {
    private HttpClientApp() {
    }

    public static void main(String[] args) throws Exception {
        URI uri = URI.create(args[0]);
        String method = args[1];
        int count = Integer.parseInt(args[2]);
        boolean allOk = true;
        for (int i = 0; i < count; i++) {
            try (HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(10)).build()) {
                HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
                        .method(method, method.equals("GET") ? HttpRequest.BodyPublishers.noBody()
                                : HttpRequest.BodyPublishers.ofString("item=" + i)).build();
                long start = System.nanoTime();
                HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
                System.out.printf("%s %d %.1f%n", method, response.statusCode(), (System.nanoTime() - start) / 1e6);
                allOk &= response.statusCode() == 200;
            }
        }
        System.exit(allOk ? 0 : 1);
    }
}
