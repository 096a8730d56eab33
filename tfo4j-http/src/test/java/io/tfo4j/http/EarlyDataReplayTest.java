package io.tfo4j.http;

import io.tfo4j.FastOpenCounters;
import io.tfo4j.lab.DelayLine;
import io.tfo4j.lab.Fault;
import io.tfo4j.lab.LinkProfile;
import io.tfo4j.lab.WanLab;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

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
 * {@code ALLOW} runs it twice, {@code WAIT} and {@code REJECT} once.
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
