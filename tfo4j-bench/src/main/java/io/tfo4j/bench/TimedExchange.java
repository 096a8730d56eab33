package io.tfo4j.bench;

import io.tfo4j.ClientOutcome;
import io.tfo4j.FastOpenDialer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * One HTTP/1.1 request on a new connection opened by tfo4j's dialer, the whole request as the connection's
 * first data (the SYN's data once a Fast Open cookie is cached), read until the server closes; timed from the
 * dial to the first response byte.
 *
 * @param status    the response's status code
 * @param body      the response body
 * @param ttfbNanos from the dial to the first response byte
 * @param synData   whether the server acknowledged the SYN's data (TCP_INFO {@code TCPI_OPT_SYN_DATA})
 */
record TimedExchange(int status, String body, long ttfbNanos, boolean synData) {

    /** The request bytes for {@code method path} with an optional text body, closing the connection after. */
    static byte[] request(String method, String host, String path, String body) {
        return (method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n"
                + (body == null ? "" : "Content-Type: text/plain\r\nContent-Length: " + body.length() + "\r\n")
                + "\r\n" + (body == null ? "" : body)).getBytes(StandardCharsets.ISO_8859_1);
    }

    /**
     * Sends {@code request} and reads the whole answer.
     *
     * @throws IOException when the connection fails or the answer is not HTTP
     */
    static TimedExchange run(FastOpenDialer dialer, InetSocketAddress server, byte[] request) throws IOException {
        long started = System.nanoTime();
        try (SocketChannel channel = dialer.dial(server, request)) {
            ByteBuffer buffer = ByteBuffer.allocate(8192);
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            int first = channel.read(buffer);
            long ttfb = System.nanoTime() - started;
            boolean synData = ClientOutcome.of(channel).synDataAcked();
            for (int n = first; n >= 0; n = channel.read(buffer.clear())) {
                answer.write(buffer.array(), 0, buffer.position());
            }
            String text = answer.toString(StandardCharsets.ISO_8859_1);
            int end = text.indexOf("\r\n\r\n");
            if (!text.startsWith("HTTP/1.1 ") || end < 0) {
                throw new IOException("not an HTTP answer from " + server + ": " + text.lines().findFirst().orElse("(nothing)"));
            }
            return new TimedExchange(Integer.parseInt(text.substring(9, 12)), text.substring(end + 4), ttfb, synData);
        }
    }
}
