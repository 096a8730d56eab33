package io.tfo4j.httpserver;

import com.sun.net.httpserver.HttpServer;
import io.tfo4j.FastOpenCounters;
import io.tfo4j.FastOpenSocketFactory;
import io.tfo4j.FastOpenStatus;
import io.tfo4j.lab.NetNamespace;
import okhttp3.ConnectionPool;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.BasicHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.DefaultHttpClientConnectionOperator;
import org.apache.hc.client5.http.ssl.TlsSocketStrategy;
import org.apache.hc.core5.http.config.RegistryBuilder;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The JDK's HttpServer with Fast Open turned on by {@link FastOpenHttpServer}, and two HTTP clients that
 * take a SocketFactory (OkHttp, Apache HttpClient 5) with {@link FastOpenSocketFactory}, each request on a
 * new connection. Whether the requests rode in the SYN is read from the kernel counters of both namespaces.
 * The test class path is this module's: tfo4j-core, tfo4j-lab and the two clients, and no Jetty.
 */
class HttpClientsAndServerTest {
    private static final String CLIENT_ADDRESS = "198.18.0.1";
    private static final String SERVER_ADDRESS = "198.18.0.2";
    private static final String BODY = "hello from the JDK HttpServer\n";
    /** Long enough that the clients' request write always falls inside it, on any machine. */
    private static final FastOpenSocketFactory SOCKETS = new FastOpenSocketFactory(true, Duration.ofSeconds(30));

    private NetNamespace client;
    private NetNamespace server;
    private HttpServer http;
    private String url;

    @BeforeEach
    void start() throws Exception {
        assumeTrue(NetNamespace.unavailableReason().isEmpty(),
                () -> "skipped: " + NetNamespace.unavailableReason().orElse(""));
        client = NetNamespace.create(1);
        server = NetNamespace.create(3);
        NetNamespace.link(client, CLIENT_ADDRESS, server, SERVER_ADDRESS);
        http = server.call(() -> {
            HttpServer created = HttpServer.create(new InetSocketAddress(SERVER_ADDRESS, 0), 0);
            created.createContext("/", exchange -> {
                byte[] body = BODY.getBytes(StandardCharsets.US_ASCII);
                exchange.getResponseHeaders().set("Connection", "close");
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            });
            created.start();
            return created;
        });
        FastOpenStatus status = FastOpenHttpServer.enable(http, 16);
        assertTrue(status.active(), "FastOpenHttpServer.enable: " + status);
        url = "http://" + SERVER_ADDRESS + ":" + http.getAddress().getPort() + "/";
    }

    @AfterEach
    void stop() {
        if (http != null) {
            http.stop(0);
        }
        if (server != null) {
            server.close();
        }
        if (client != null) {
            client.close();
        }
    }

    private record Run(List<String> bodies, FastOpenCounters clientDelta, FastOpenCounters serverDelta) {
    }

    private interface Fetch {
        String get() throws IOException;
    }

    private Run fetchThreeTimes(Fetch fetch) throws IOException {
        FastOpenCounters clientBefore = client.call(FastOpenCounters::read);
        FastOpenCounters serverBefore = server.call(FastOpenCounters::read);
        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            bodies.add(client.call(fetch::get));
        }
        return new Run(bodies, client.call(FastOpenCounters::read).minus(clientBefore),
                server.call(FastOpenCounters::read).minus(serverBefore));
    }

    @Test
    void jettyIsNotNeeded() {
        assertThrows(ClassNotFoundException.class, () -> Class.forName("org.eclipse.jetty.server.Server"),
                "tfo4j-httpserver must work without Jetty on the class path");
    }

    @Test
    void okHttpAndApacheHttpClientSendRequestsInTheSyn() throws Exception {
        OkHttpClient okHttp = new OkHttpClient.Builder()
                .socketFactory(SOCKETS)
                .connectionPool(new ConnectionPool(0, 1, TimeUnit.SECONDS))
                .build();
        Run ok = fetchThreeTimes(() -> {
            try (Response response = okHttp.newCall(new Request.Builder().url(url)
                    .header("Connection", "close").build()).execute()) {
                return response.code() + " " + response.body().string();
            }
        });
        assertEquals(List.of("200 " + BODY, "200 " + BODY, "200 " + BODY), ok.bodies());
        // The first connection fetches the cookie; the next two carry their requests in the SYN.
        assertEquals(2, ok.clientDelta().active(), "OkHttp: client TCPFastOpenActive " + ok.clientDelta());
        assertEquals(2, ok.serverDelta().passive(), "OkHttp: server TCPFastOpenPassive " + ok.serverDelta());
        okHttp.dispatcher().executorService().shutdown();

        DefaultHttpClientConnectionOperator operator = new DefaultHttpClientConnectionOperator(
                proxy -> SOCKETS.createSocket(), null, null, RegistryBuilder.<TlsSocketStrategy>create().build());
        try (CloseableHttpClient apache = HttpClients.custom()
                .setConnectionManager(new BasicHttpClientConnectionManager(operator, null)).build()) {
            Run hc = fetchThreeTimes(() -> {
                HttpGet get = new HttpGet(url);
                get.setHeader("Connection", "close");
                return apache.execute(get, response -> response.getCode() + " " + EntityUtils.toString(response.getEntity()));
            });
            assertEquals(List.of("200 " + BODY, "200 " + BODY, "200 " + BODY), hc.bodies());
            // The cookie for this server address is cached already: all three ride in the SYN.
            assertEquals(3, hc.clientDelta().active(), "HttpClient 5: client TCPFastOpenActive " + hc.clientDelta());
            assertEquals(3, hc.serverDelta().passive(), "HttpClient 5: server TCPFastOpenPassive " + hc.serverDelta());
        }
    }
}
