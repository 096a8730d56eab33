package io.tfo4j.http;

import io.tfo4j.lab.NetNamespace;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * How {@link FastOpenServerConnector} ends connections: a {@code Connection: close} exchange is closed by the
 * server as soon as the answer is out (not held half-closed until the client closes), and an answer sent
 * before the request's body was read still reaches the client.
 */
class FastOpenServerConnectorTest {
    private NetNamespace host;
    private Server server;
    private FastOpenServerConnector connector;
    private InetSocketAddress address;

    @BeforeEach
    void start() throws Exception {
        assumeTrue(NetNamespace.unavailableReason().isEmpty(),
                () -> "skipped: " + NetNamespace.unavailableReason().orElse(""));
        host = NetNamespace.create(3);
        server = new Server();
        connector = new FastOpenServerConnector(server, 16, new HttpConnectionFactory());
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        connector.setIdleTimeout(TimeUnit.SECONDS.toMillis(30)); // far longer than any wait below
        server.addConnector(connector);
        // Answers at once, without reading any request body.
        server.setHandler(new Handler.Abstract.NonBlocking() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                response.write(true, ByteBuffer.wrap("ok\n".getBytes(StandardCharsets.US_ASCII)), callback);
                return true;
            }
        });
        host.call(() -> {
            server.start();
            return null;
        });
        address = new InetSocketAddress("127.0.0.1", connector.getLocalPort());
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.stop();
        }
        if (host != null) {
            host.close();
        }
    }

    @Test
    void theServerClosesAConnectionItIsDoneWithWithoutWaitingForTheClient() throws Exception {
        host.call(() -> {
            try (SocketChannel client = SocketChannel.open(address)) {
                client.write(ByteBuffer.wrap(RawHttp.request("GET", "/", null).getBytes(StandardCharsets.US_ASCII)));
                assertEquals(200, RawHttp.parse(readToEnd(client), 0).status());
                // The client has its end still open; Jetty's own half-close would keep the server's for 30 s.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (!connector.getConnectedEndPoints().isEmpty() && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                assertTrue(connector.getConnectedEndPoints().isEmpty(),
                        "the server still holds the connection: " + connector.getConnectedEndPoints());
            }
            return null;
        });
    }

    @Test
    void anAnswerSentBeforeTheBodyWasReadStillArrives() throws Exception {
        // Unread by the handler, so in the server's receive queue when it is done: the connector half-closes.
        // (On loopback the answer would also arrive ahead of the reset a full close sends: this checks the answer.)
        String body = "x".repeat(20_000);
        host.call(() -> {
            try (SocketChannel client = SocketChannel.open(address)) {
                client.write(ByteBuffer.wrap(RawHttp.request("POST", "/", body).getBytes(StandardCharsets.US_ASCII)));
                RawHttp answer = RawHttp.parse(readToEnd(client), 0);
                assertEquals(200, answer.status(), answer.head());
                assertEquals("ok\n", answer.body());
            }
            return null;
        });
    }

    private static String readToEnd(SocketChannel channel) throws IOException {
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        ByteBuffer buffer = ByteBuffer.allocate(8192);
        while (channel.read(buffer.clear()) >= 0) {
            received.write(buffer.array(), 0, buffer.position());
        }
        return received.toString(StandardCharsets.ISO_8859_1);
    }
}
