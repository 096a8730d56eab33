package io.tfo4j.http;

import io.tfo4j.FastOpenDialer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * One HTTP/1.1 exchange on a new connection, written by hand so that a test decides exactly which bytes go
 * in the SYN: the whole request is the dialer's initial data. Reads until the server closes.
 */
record RawHttp(int status, String head, String body, int localPort) {
    static final FastOpenDialer FAST_OPEN = FastOpenDialer.create().withConnectTimeout(Duration.ofSeconds(5));
    static final FastOpenDialer PLAIN = FAST_OPEN.withFastOpen(false);

    static String request(String method, String path, String body) {
        return method + " " + path + " HTTP/1.1\r\nHost: tfo4j.test\r\nConnection: close\r\n"
                + (body == null ? "" : "Content-Type: text/plain\r\nContent-Length: " + body.length() + "\r\n")
                + "\r\n" + (body == null ? "" : body);
    }

    /** Sends {@code request} as the first data of a new connection and reads the whole answer. */
    static RawHttp exchange(FastOpenDialer dialer, InetSocketAddress server, String request) throws IOException {
        try (SocketChannel channel = dialer.dial(server, request.getBytes(StandardCharsets.ISO_8859_1))) {
            int localPort = ((InetSocketAddress) channel.getLocalAddress()).getPort();
            ByteArrayOutputStream received = new ByteArrayOutputStream();
            ByteBuffer buffer = ByteBuffer.allocate(8192);
            while (channel.read(buffer.clear()) >= 0) {
                received.write(buffer.array(), 0, buffer.position());
            }
            return parse(received.toString(StandardCharsets.ISO_8859_1), localPort);
        }
    }

    /** Sends {@code request} on a plain connection (no Fast Open) and reads the whole answer. */
    static RawHttp exchange(InetSocketAddress server, String request) throws IOException {
        return exchange(PLAIN, server, request);
    }

    /** The value of header {@code name} in the answer's head, or null. */
    String header(String name) {
        for (String line : head.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) {
                return line.substring(colon + 1).trim();
            }
        }
        return null;
    }

    static RawHttp parse(String answer, int localPort) throws IOException {
        int end = answer.indexOf("\r\n\r\n");
        if (!answer.startsWith("HTTP/1.1 ") || end < 0) {
            throw new IOException("not an HTTP answer: " + answer);
        }
        return new RawHttp(Integer.parseInt(answer.substring(9, 12)), answer.substring(0, end),
                answer.substring(end + 4), localPort);
    }
}
