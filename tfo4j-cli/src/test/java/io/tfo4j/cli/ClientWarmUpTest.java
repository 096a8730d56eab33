package io.tfo4j.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClientWarmUpTest {

    @Test
    void responderAnswersARequestWhoseBodyArrivesWithItsHeaders() throws Exception {
        try (ClientWarmUp.Responder responder = ClientWarmUp.Responder.start()) {
            String response = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> exchange(responder.port(),
                    "POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 3\r\n\r\nx=1"));
            assertTrue(response.startsWith("HTTP/1.1 200 OK\r\n"), response);
            assertTrue(response.endsWith("\r\n\r\nok\n"), response);
        }
    }

    @Test
    void responderAnswersEveryConnectionInTurn() throws Exception {
        try (ClientWarmUp.Responder responder = ClientWarmUp.Responder.start()) {
            for (int i = 0; i < 3; i++) {
                String response = assertTimeoutPreemptively(Duration.ofSeconds(5),
                        () -> exchange(responder.port(), "GET / HTTP/1.1\r\nHost: test\r\n\r\n"));
                assertTrue(response.startsWith("HTTP/1.1 200 OK\r\n"), "connection " + i + ": " + response);
            }
        }
    }

    @Test
    void httpWarmUpGoesOnAfterAFailedRequestAndStopsAtItsCount() {
        List<Integer> sent = new ArrayList<>();
        ClientWarmUp.http((index, url) -> {
            sent.add(index);
            if (index == 0) {
                throw new java.io.IOException("the first request fails");
            }
            exchange(Integer.parseInt(url.replaceAll(".*:(\\d+)/$", "$1")), "GET / HTTP/1.1\r\nHost: test\r\n\r\n");
        }, 3, false);
        assertEquals(List.of(0, 1, 2), sent);
    }

    @Test
    void tlsResponderAnswersOverTls() throws Exception {
        try (ClientWarmUp.Responder responder = ClientWarmUp.Responder.startTls()) {
            assertTrue(responder.url().startsWith("https://127.0.0.1:"), responder.url());
            javax.net.ssl.SSLContext anyone = javax.net.ssl.SSLContext.getInstance("TLS");
            anyone.init(null, new javax.net.ssl.TrustManager[] {new javax.net.ssl.X509TrustManager() {
                public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String type) {
                }

                public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String type) {
                }

                public java.security.cert.X509Certificate[] getAcceptedIssuers() {
                    return new java.security.cert.X509Certificate[0];
                }
            }}, null);
            String response = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                try (java.net.Socket socket = anyone.getSocketFactory().createSocket("127.0.0.1", responder.port())) {
                    socket.getOutputStream().write("GET / HTTP/1.1\r\nHost: test\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    return new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
                }
            });
            assertTrue(response.startsWith("HTTP/1.1 200 OK\r\n"), response);
        }
    }

    /** Writes {@code request} in one write and reads the answer to the end, as OkHttp does with Connection: close. */
    private static String exchange(int port, String request) throws java.io.IOException {
        try (SocketChannel channel = SocketChannel.open(new InetSocketAddress("127.0.0.1", port))) {
            ByteBuffer out = ByteBuffer.wrap(request.getBytes(StandardCharsets.US_ASCII));
            while (out.hasRemaining()) {
                channel.write(out);
            }
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            ByteBuffer in = ByteBuffer.allocate(4096);
            for (int n; (n = channel.read(in.clear())) >= 0; ) {
                answer.write(in.array(), 0, n);
            }
            return answer.toString(StandardCharsets.US_ASCII);
        }
    }
}
