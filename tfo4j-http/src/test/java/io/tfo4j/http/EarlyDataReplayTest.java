package io.tfo4j.http;

import io.tfo4j.ClientOutcome;
import io.tfo4j.FastOpenCounters;
import io.tfo4j.lab.DelayLine;
import io.tfo4j.lab.Fault;
import io.tfo4j.lab.LinkProfile;
import io.tfo4j.lab.WanLab;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A real replay: a client sends {@code POST /echo} in a Fast Open SYN, and the {@link WanLab} link between the
 * hosts ({@link Fault#REPLAY_SYN_DATA}: an attacker on the path) delivers that SYN a second time from
 * another source port. The server's kernel
 * accepts the copy as a second Fast Open connection carrying the same request. The access log of
 * {@code tfo4j serve}'s server counts how often the POST ran, per {@link EarlyDataPolicy}:
 * {@code ALLOW} runs it twice, {@code WAIT} and {@code REJECT} once. Over HTTPS the SYN carries the TLS
 * ClientHello instead, and its replay starts no request at all.
 */
class EarlyDataReplayTest {
    private static final String CLIENT = WanLab.CLIENT_ADDRESS;
    private static final String SERVER = WanLab.SERVER_ADDRESS;
    /**
     * 200 ms round trips: the replayed connection's reset comes one round trip after its SYN, and the server
     * must read the replayed request before that to show what each policy does with it (under ALLOW it runs
     * either way: data that arrived before a reset can still be read). At 50 ms a loaded 2-core machine
     * sometimes missed that window; 200 ms leaves room. Only SYNs with data are replayed: the first GET's
     * SYN asks for a cookie and carries none, and the REJECT retry goes without Fast Open.
     */
    private static final LinkProfile REPLAYING_LINK = LinkProfile.rtt(Duration.ofMillis(200)).withFault(Fault.REPLAY_SYN_DATA);
    private static final String POST = RawHttp.request("POST", "/echo", "pay 5 EUR");

    @TempDir
    Path site;
    private WanLab lab;

    @BeforeEach
    void hosts() throws Exception {
        assumeTrue(WanLab.unavailableReason().isEmpty(), () -> "skipped: " + WanLab.unavailableReason().orElse(""));
        lab = WanLab.create(REPLAYING_LINK, 1, 3);
        Files.writeString(site.resolve("index.html"), "<p>hello</p>\n");
    }

    @AfterEach
    void close() {
        if (lab != null) {
            lab.close();
        }
    }

    @ParameterizedTest
    @EnumSource(EarlyDataPolicy.class)
    void aReplayedSynRunsThePostTwiceOnlyUnderAllow(EarlyDataPolicy policy) throws Exception {
        List<String> log = new CopyOnWriteArrayList<>();
        try (FastOpenFileServer http = lab.server().call(() -> FastOpenFileServer.builder(site)
                .bind(SERVER).port(0).fastOpen(16).earlyData(policy).accessLog(log::add).start())) {
            assertTrue(http.fastOpenStatus().active(), "server Fast Open: " + http.fastOpenStatus());
            InetSocketAddress address = new InetSocketAddress(SERVER, http.port());

            // A first request fetches the cookie: a GET, which is safe in any SYN.
            assertEquals(200, lab.client().call(() -> RawHttp.exchange(RawHttp.FAST_OPEN, address,
                    RawHttp.request("GET", "/", null))).status());

            FastOpenCounters before = lab.server().call(FastOpenCounters::read);
            RawHttp answer = lab.client().submit(() -> RawHttp.exchange(RawHttp.FAST_OPEN, address, POST))
                    .get(10, TimeUnit.SECONDS);
            int replayPort = DelayLine.replayPort(answer.localPort());

            // RFC 8470: a client that gets 425 sends the request again once the handshake has completed.
            RawHttp retry = null;
            if (answer.status() == 425) {
                retry = lab.client().call(() -> RawHttp.exchange(RawHttp.PLAIN, address, POST));
            }
            // Kernel facts first: the link replayed the SYN, and the server's kernel took both copies as Fast Open.
            assertEquals(1, lab.line().packetsReplayed(DelayLine.Direction.A_TO_B), "replayed SYNs with data");
            FastOpenCounters counted = awaitPassive(before, 2);
            assertTrue(counted.passive() >= 2, "the server kernel must take both SYNs as Fast Open: " + counted);
            List<String> replayLines = awaitLines(log, " " + CLIENT + ":" + replayPort + " ", 1);

            log.forEach(l -> System.out.println(policy + ": " + l));
            String replay = replayLines.getFirst();
            assertTrue(replay.contains("\"POST /echo HTTP/1.1\"") && replay.contains("fastopen=syn-data"), replay);
            long executions = log.stream().filter(l -> l.contains("\"POST /echo HTTP/1.1\" 200 ")).count();
            switch (policy) {
                case ALLOW -> {
                    assertEquals(200, answer.status(), answer.head());
                    assertEquals("pay 5 EUR", answer.body());
                    assertTrue(replay.contains(" 200 ") && replay.contains("early-data=allowed"), replay);
                    assertEquals(2, executions, "ALLOW runs the request and its replay: " + log);
                }
                case WAIT -> {
                    assertEquals(200, answer.status(), answer.head());
                    assertEquals("pay 5 EUR", answer.body());
                    assertTrue(replay.contains("early-data=dropped"), replay);
                    assertTrue(log.stream().anyMatch(l -> l.contains(":" + answer.localPort() + " ")
                            && l.contains(" 200 ") && l.contains("early-data=held-")), "the genuine POST waited: " + log);
                    assertEquals(1, executions, "WAIT runs the genuine request only: " + log);
                }
                case REJECT -> {
                    assertEquals(425, answer.status(), answer.head());
                    assertEquals(200, retry.status(), retry.head());
                    assertEquals("pay 5 EUR", retry.body());
                    assertTrue(replay.contains(" 425 ") && replay.contains("early-data=rejected"), replay);
                    assertEquals(1, executions, "REJECT runs only the retry after the handshake: " + log);
                }
            }
        }
    }

    /**
     * HTTPS: OkHttp on tfo4j sockets sends the same POST, and its Fast Open SYN, which the link replays,
     * carries only the TLS ClientHello. The server's kernel takes the copy as a Fast Open connection and the
     * server's TLS answers its ClientHello, but the handshake needs the client's next flight, which the copy
     * cannot give: the client's host resets it, and no request comes of it.
     */
    @Test
    void aReplayedSynWithAClientHelloStartsNoRequest() throws Exception {
        List<String> log = new CopyOnWriteArrayList<>();
        TlsIdentity identity = TlsIdentity.selfSigned(List.of(SERVER));
        PacketLog toServer = PacketLog.watch(lab.line(), DelayLine.Direction.A_TO_B);
        PacketLog toClient = PacketLog.watch(lab.line(), DelayLine.Direction.B_TO_A);
        // Each connection's outcome, read through its SSLSocket once the TLS handshake is done.
        record Connection(ClientOutcome outcome, int localPort) {
        }
        AtomicReference<Connection> connection = new AtomicReference<>();
        OkHttpClient client = TlsClients.okHttp(identity).protocols(List.of(Protocol.HTTP_1_1))
                .addNetworkInterceptor(chain -> {
                    Socket socket = chain.connection().socket();
                    connection.set(new Connection(ClientOutcome.of(socket), socket.getLocalPort()));
                    return chain.proceed(chain.request());
                }).build();
        try (FastOpenFileServer https = lab.server().call(() -> FastOpenFileServer.builder(site)
                .bind(SERVER).port(0).fastOpen(16).tls(identity).accessLog(log::add).start())) {
            assertTrue(https.fastOpenStatus().active(), "server Fast Open: " + https.fastOpenStatus());
            String origin = "https://" + SERVER + ":" + https.port();

            // A first request fetches the cookie; its SYN carries no data, so the link does not replay it.
            int getPort = lab.client().submit(() -> {
                try (Response response = client.newCall(new Request.Builder().url(origin + "/")
                        .header("Connection", "close").build()).execute()) {
                    assertEquals(200, response.code());
                    return connection.get().localPort();
                }
            }).get(30, TimeUnit.SECONDS);

            FastOpenCounters before = lab.server().call(FastOpenCounters::read);
            Request post = new Request.Builder().url(origin + "/echo").header("Connection", "close")
                    .post(RequestBody.create("pay 5 EUR", MediaType.get("text/plain"))).build();
            record Answer(int status, String body, ClientOutcome outcome, int localPort) {
            }
            Answer answer = lab.client().submit(() -> {
                try (Response response = client.newCall(post).execute()) {
                    return new Answer(response.code(), response.body().string(), connection.get().outcome(),
                            connection.get().localPort());
                }
            }).get(30, TimeUnit.SECONDS);
            int replayPort = DelayLine.replayPort(answer.localPort());

            // Kernel facts first: the POST's SYN carried data and the link replayed it; the server's kernel
            // took both copies as Fast Open connections.
            assertEquals(ClientOutcome.Result.SYN_DATA_ACKED, answer.outcome().result(), answer.outcome().reason());
            assertEquals(1, lab.line().packetsReplayed(DelayLine.Direction.A_TO_B), "replayed SYNs with data");
            FastOpenCounters counted = awaitPassive(before, 2);
            assertEquals(2, counted.passive(), "the server kernel took the SYN and its copy as Fast Open: " + counted);
            List<PacketLog.Packet> synsWithData = toServer.synsWithData();
            assertEquals(1, synsWithData.size(), "one SYN with data from the client: " + synsWithData);
            assertTrue(synsWithData.getFirst().startsTlsHandshake(1), "it carried a ClientHello: " + synsWithData);
            // The server's TLS answered the copy's ClientHello (a ServerHello to the replay port), and the
            // client's host reset that connection: the copy got as far as a copy can.
            awaitPacket(toClient, p -> p.destinationPort() == replayPort && p.startsTlsHandshake(2),
                    "the server's ServerHello to the replay port " + replayPort);
            awaitPacket(toServer, p -> p.sourcePort() == replayPort && p.isReset(),
                    "the client host's reset from the replay port " + replayPort);
            // One more round trip for anything the copy's connection could still bring to the log.
            Thread.sleep(REPLAYING_LINK.rtt().toMillis());

            assertEquals(200, answer.status());
            assertEquals("pay 5 EUR", answer.body());
            String postLine = awaitLines(log, " " + CLIENT + ":" + answer.localPort() + " ", 1).getFirst();
            log.forEach(l -> System.out.println("TLS: " + l));
            assertTrue(postLine.endsWith("\"POST /echo HTTP/1.1\" 200 9 fastopen=syn-clienthello"), postLine);
            assertEquals(2, log.size(), "the client's GET and POST, and no request from the replayed SYN: " + log);
            assertTrue(log.stream().anyMatch(l -> l.contains(" " + CLIENT + ":" + getPort + " \"GET / HTTP/1.1\" 200 ")),
                    log::toString);
            assertTrue(log.stream().noneMatch(l -> l.contains(":" + replayPort + " ")), log::toString);
        } finally {
            TlsClients.shutDown(client);
        }
    }

    /** Waits (at most 5 s) until {@code packets} has seen a packet that {@code wanted} accepts. */
    private static void awaitPacket(PacketLog packets, Predicate<PacketLog.Packet> wanted, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            if (packets.packets().stream().anyMatch(wanted)) {
                return;
            }
            Thread.sleep(10);
        }
        fail("not seen within 5 s: " + what + "; packets: " + packets.packets());
    }

    /** The server's Fast Open counters since {@code before}, once they show {@code passive} connections or after 5 s. */
    private FastOpenCounters awaitPassive(FastOpenCounters before, long passive) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        FastOpenCounters counted = lab.server().call(FastOpenCounters::read).minus(before);
        while (counted.passive() < passive && System.nanoTime() < deadline) {
            Thread.sleep(10);
            counted = lab.server().call(FastOpenCounters::read).minus(before);
        }
        return counted;
    }

    /** Waits (at most 5 s) until {@code count} lines containing {@code needle} are logged. */
    private static List<String> awaitLines(List<String> log, String needle, int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            List<String> found = log.stream().filter(l -> l.contains(needle)).toList();
            if (found.size() >= count) {
                return found;
            }
            Thread.sleep(10);
        }
        fail("no access log line with '" + needle + "' within 5 s; log: " + log);
        return List.of();
    }
}
