package io.tfo4j.bench.peer;

import io.tfo4j.ClientOutcome;
import io.tfo4j.FastOpenDialer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The leanest tfo4j client: one GET per {@link FastOpenDialer#dial} (the whole request is the SYN's data
 * once a cookie is cached), read until the server closes. It measures what curl's {@code time_starttransfer}
 * measures: from the dial to the first response byte. Only the status line is parsed; that is all a
 * latency benchmark needs from the answer.
 */
final class DialerHttpClient {
    private final FastOpenDialer dialer;

    DialerHttpClient(boolean fastOpen) {
        this.dialer = FastOpenDialer.create().withFastOpen(fastOpen).withConnectTimeout(Duration.ofSeconds(10));
    }

    Exchange get(HttpTarget target) throws IOException {
        byte[] request = ("GET " + target.pathAndQuery() + " HTTP/1.1\r\nHost: " + target.hostHeader()
                + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        ByteBuffer buffer = ByteBuffer.allocate(16 * 1024);
        ByteArrayOutputStream answer = new ByteArrayOutputStream();
        long started = System.nanoTime();
        try (SocketChannel channel = dialer.dial(target.address(), request)) {
            int first = channel.read(buffer);
            long ttfb = System.nanoTime() - started;
            ClientOutcome outcome = ClientOutcome.of(channel);
            int localPort = ((InetSocketAddress) channel.getLocalAddress()).getPort();
            for (int n = first; n >= 0; n = channel.read(buffer.clear())) {
                answer.write(buffer.array(), 0, buffer.position());
            }
            byte[] bytes = answer.toByteArray();
            String head = new String(bytes, 0, Math.min(bytes.length, 16 * 1024), StandardCharsets.ISO_8859_1);
            int end = head.indexOf("\r\n\r\n");
            if (!head.startsWith("HTTP/1.") || head.length() < 12 || end < 0) {
                throw new IOException("not an HTTP answer from " + target.uri() + ": " + head.lines().findFirst().orElse(""));
            }
            int status = Integer.parseInt(head.substring(9, 12));
            return new Exchange(status, bytes.length - (end + 4), ttfb, outcome.attempted(), outcome.synDataAcked(), localPort);
        }
    }
}
