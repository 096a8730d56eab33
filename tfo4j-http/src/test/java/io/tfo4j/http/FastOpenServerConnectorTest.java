package io.tfo4j.http;

import io.tfo4j.lab.NetNamespace;
import okhttp3.ConnectionPool;
import okhttp3.OkHttpClient;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * How {@link FastOpenServerConnector} ends connections: a {@code Connection: close} exchange is closed by the
 * server as soon as the answer is out (not held half-closed until the client closes), an answer sent
 * before the request's body was read still reaches the client, and a server speaking HTTP/2 stops while its
 * connections close.
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

    /**
     * The close of an HTTP/2 connection over TLS and the server's stop take the same two locks (the TLS
     * endpoint's, the HTTP/2 session container's) in opposite orders when the close's bookkeeping runs on
     * the thread that closed the endpoint: run there, the stop deadlocked within a few rounds. Each round
     * closes a client's HTTP/2 connection while the server stops.
     */
    @Test
    void aServerSpeakingHttp2StopsWhileItsConnectionsClose(@TempDir Path site) throws Exception {
        Files.writeString(site.resolve("index.html"), "ok\n");
        TlsIdentity identity = TlsIdentity.selfSigned(List.of("127.0.0.1"));
        ExecutorService stopper = Executors.newSingleThreadExecutor();
        try {
            for (int round = 1; round <= 30; round++) {
                FastOpenFileServer https = host.call(() -> FastOpenFileServer.builder(site).port(0).tls(identity).start());
                OkHttpClient client = TlsClients.okHttp(identity)
                        .connectionPool(new ConnectionPool(5, 1, TimeUnit.MINUTES)).build(); // keeps the connection
                try {
                    String protocol = host.call(() -> {
                        try (okhttp3.Response response = client.newCall(new okhttp3.Request.Builder()
                                .url("https://127.0.0.1:" + https.port() + "/").build()).execute()) {
                            return response.protocol().toString();
                        }
                    });
                    assertEquals("h2", protocol);
                    Thread closer = Thread.ofPlatform().start(() -> client.connectionPool().evictAll());
                    Future<?> stopped = stopper.submit(() -> {
                        https.close();
                        return null;
                    });
                    try {
                        stopped.get(10, TimeUnit.SECONDS);
                    } catch (TimeoutException e) {
                        fail("round " + round + ": the server's stop did not end within 10 s (deadlocked)");
                    }
                    closer.join();
                } finally {
                    client.dispatcher().executorService().shutdown();
                }
            }
        } finally {
            stopper.shutdownNow();
        }
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
