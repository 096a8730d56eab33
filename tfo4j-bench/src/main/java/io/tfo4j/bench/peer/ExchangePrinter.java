package io.tfo4j.bench.peer;


import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** Prints each peer client request as one JSON line or one human line on stdout. */
final class ExchangePrinter {
    private final String client;
    private final String url;
    private final boolean json;

    ExchangePrinter(String client, String url, boolean json) {
        this.client = client;
        this.url = url;
        this.json = json;
    }

    void print(int request, Exchange exchange) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("request", request);
        line.put("client", client);
        line.put("url", url);
        line.put("status", exchange.status());
        line.put("bytes", exchange.bytes());
        line.put("ttfbMs", exchange.ttfbNanos() / 1e6);
        line.put("fastOpen", exchange.fastOpen());
        line.put("synData", exchange.synData());
        if (exchange.localPort() >= 0) {
            line.put("localPort", exchange.localPort());
        }
        if (exchange.tls() != null) {
            line.put("tls", exchange.tls());
            line.put("tlsHandshakeMs", exchange.tlsHandshakeNanos() / 1e6);
        }
        if (json) {
            System.out.println(Json.line(line));
        } else {
            String tls = exchange.tls() == null ? "" : String.format(Locale.ROOT, ", %s handshake %.1f ms", exchange.tls(),
                    exchange.tlsHandshakeNanos() / 1e6);
            System.out.printf(Locale.ROOT, "#%d %d %d bytes, ttfb %.1f ms%s, Fast Open: %s, SYN data acked: %s%n",
                    request, exchange.status(), exchange.bytes(), exchange.ttfbNanos() / 1e6, tls,
                    exchange.fastOpen() ? "on" : "off", exchange.synData() ? "yes" : "no");
        }
    }

    void printError(int request, Exception e) {
        if (json) {
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("request", request);
            line.put("client", client);
            line.put("url", url);
            line.put("error", e.toString());
            System.out.println(Json.line(line));
        } else {
            System.out.printf("#%d %s%n", request, e);
        }
    }
}
