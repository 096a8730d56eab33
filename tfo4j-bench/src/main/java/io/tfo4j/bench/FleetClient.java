package io.tfo4j.bench;

import io.tfo4j.ClientOutcome;
import io.tfo4j.FastOpenDialer;
import io.tfo4j.lab.FleetLab;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The client of {@code bench fleet}: one {@code GET} of {@value FleetServers#PAGE} on a new connection to the
 * fleet's address, the request offered in the SYN (tfo4j's dialer). Each backend's page is its own name, so
 * the answer says which backend the connection reached; the client's kernel says whether the SYN's data was
 * acknowledged (TCP_INFO), and the time is taken from the dial to the first byte of the answer.
 */
final class FleetClient {
    private static final byte[] REQUEST = ("GET " + FleetServers.PAGE + " HTTP/1.1\r\nHost: " + FleetLab.VIRTUAL_ADDRESS
            + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII);

    /** One connection as the client saw it: the backend it reached, its SYN data, its time to first byte. */
    record Exchange(String backend, boolean synData, long ttfbNanos) {
    }

    private final FastOpenDialer dialer;
    private final InetSocketAddress server;

    FleetClient(InetSocketAddress server, boolean noCookie) {
        this.server = server;
        this.dialer = FastOpenDialer.create().withNoCookie(noCookie).withConnectTimeout(Duration.ofSeconds(10));
    }

    /** One request; run it on a thread in the client's host. */
    Exchange get() throws IOException {
        long started = System.nanoTime();
        try (SocketChannel channel = dialer.dial(server, REQUEST)) {
            ByteBuffer buffer = ByteBuffer.allocate(4096);
            int first = channel.read(buffer);
            long ttfb = System.nanoTime() - started;
            boolean synData = ClientOutcome.of(channel).synDataAcked();
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            for (int n = first; n >= 0; n = channel.read(buffer.clear())) {
                answer.write(buffer.array(), 0, buffer.position());
            }
            String text = answer.toString(StandardCharsets.ISO_8859_1);
            int body = text.indexOf("\r\n\r\n");
            if (!text.startsWith("HTTP/1.1 200") || body < 0) {
                throw new IOException("not a 200 answer from the fleet: " + text.lines().findFirst().orElse("(nothing)"));
            }
            return new Exchange(text.substring(body + 4).trim(), synData, ttfb);
        }
    }
}
