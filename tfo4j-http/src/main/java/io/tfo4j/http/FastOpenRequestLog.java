package io.tfo4j.http;

import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.RequestLog;
import org.eclipse.jetty.server.Response;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Instant;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * A Jetty {@link RequestLog} that writes one line per request with the connection's Fast Open outcome:
 *
 * <pre>
 * 2026-12-01T11:31:33.668546254Z 198.18.100.1:49048 "GET /index.html HTTP/1.1" 200 30 fastopen=syn-data
 * 2026-12-01T11:31:34.017513153Z 198.18.100.1:49058 "POST /echo HTTP/1.1" 200 3 fastopen=syn-data early-data=held-96.0ms
 * </pre>
 *
 * <p>Fields: time, client address and port, request line, status ({@code -} for a dropped request, which got
 * no answer), body bytes sent, then
 * {@code fastopen=syn-data} (the first request on a connection whose Fast Open SYN carried data, so this
 * request or its beginning came in the SYN), {@code fastopen=tfo} (a connection opened by Fast Open, but this
 * request did not ride in the SYN), {@code fastopen=syn-clienthello} (HTTPS: the first request on a connection
 * whose SYN carried the TLS ClientHello; the request itself came after the handshakes) or
 * {@code fastopen=plain}; and {@code early-data=...} when an
 * {@link EarlyDataHandler} acted on the request ({@code held-Nms}, {@code rejected}, {@code dropped},
 * {@code allowed}). The outcome comes from TCP_INFO, read once per connection: by an {@link EarlyDataHandler}
 * in front or the log itself, or, on a {@link FastOpenServerConnector}, which closes a finished connection
 * before Jetty calls the log, just before that close. Without the JVM flags tfo4j-core needs, every request
 * is {@code plain}.
 */
public final class FastOpenRequestLog implements RequestLog {
    private final Consumer<String> sink;

    /** Writes each line to {@code sink}, which must be thread-safe (it is called from Jetty's threads). */
    public FastOpenRequestLog(Consumer<String> sink) {
        this.sink = Objects.requireNonNull(sink, "sink");
    }

    @Override
    public void log(Request request, Response response) {
        ConnectionFacts.RequestFacts facts = ConnectionFacts.of(request);
        Object decision = request.getAttribute(EarlyDataHandler.DECISION_ATTRIBUTE);
        boolean dropped = "dropped".equals(decision); // no answer was sent: no status to show
        StringBuilder line = new StringBuilder(160)
                .append(Instant.now()).append(' ')
                .append(address(request.getConnectionMetaData().getRemoteSocketAddress())).append(" \"")
                .append(request.getMethod()).append(' ')
                .append(request.getHttpURI().getPathQuery()).append(' ')
                .append(request.getConnectionMetaData().getProtocol()).append("\" ")
                .append(dropped ? "-" : Integer.toString(response.getStatus())).append(' ')
                .append(HttpMethod.HEAD.is(request.getMethod()) ? 0 : Response.getContentBytesWritten(response))
                .append(" fastopen=").append(facts.label());
        if (decision != null) {
            line.append(" early-data=").append(decision);
        }
        sink.accept(line.toString());
    }

    private static String address(SocketAddress address) {
        if (address instanceof InetSocketAddress inet && inet.getAddress() != null) {
            String host = inet.getAddress().getHostAddress();
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + inet.getPort();
        }
        return String.valueOf(address);
    }
}
