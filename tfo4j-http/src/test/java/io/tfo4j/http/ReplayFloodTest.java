package io.tfo4j.http;

import io.tfo4j.FastOpenCounters;
import io.tfo4j.lab.DelayLine;
import io.tfo4j.lab.LinkProfile;
import io.tfo4j.lab.Packets;
import io.tfo4j.lab.WanLab;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A replay flood against {@code tfo4j serve} under the default early-data policy ({@link EarlyDataPolicy#WAIT}):
 * real clients keep sending {@code POST /echo} and {@code GET /} with Fast Open, and the link between the hosts
 * (an attacker on the path) delivers every POST SYN {@value #COPIES} more times, each copy from its own source
 * port: {@value #POSTS} POSTs make {@value #COPIES}×{@value #POSTS} replayed SYNs with the POST in their data.
 *
 * <p>What bounds the requests held at once: a held request is one whose connection is a Fast Open child still
 * in SYN_RECV, and the kernel admits at most the listener's Fast Open queue length of those
 * ({@code fastopenq.qlen}); a SYN with data beyond that is taken as a plain SYN, its data dropped
 * (TCPFastOpenListenOverflow). A replayed connection ends in a reset from the client's host, and the kernel
 * keeps a reset Fast Open child's queue slot for 60 s (Linux {@code reqsk_fastopen_remove}, a defence against
 * exactly this): so within any 60 s at most a queue length of replays gets as far as the server at all. The
 * test checks that bound in the access log, and that the flood ran into it.
 */
class ReplayFloodTest {
    private static final String SERVER = WanLab.SERVER_ADDRESS;
    private static final int QUEUE = 16;
    private static final int COPIES = 20;
    private static final int POSTS = 100;
    private static final int GETS = 100;
    private static final int CLIENTS = 4;
    /** The kernel keeps the queue slot of a Fast Open child that got a reset this long. */
    private static final long RESET_SLOT_NANOS = TimeUnit.SECONDS.toNanos(60);
    /** Heap after GC may grow by at most this much over the flood (buffer pools, class data): a leak per replay would pass it. */
    private static final long HEAP_GROWTH_BOUND = 32L << 20;

    @TempDir
    Path site;
    private WanLab lab;

    @BeforeEach
    void hosts() throws Exception {
        assumeTrue(WanLab.unavailableReason().isEmpty(), () -> "skipped: " + WanLab.unavailableReason().orElse(""));
        lab = WanLab.create(LinkProfile.rtt(Duration.ofMillis(50)), 1, 3);
        Files.writeString(site.resolve("index.html"), "<p>hello</p>\n");
    }

    @AfterEach
    void close() {
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void replayedPostSynsRunNothingAndRealClientsAreAllAnswered() throws Exception {
        List<String> log = new CopyOnWriteArrayList<>();
        try (FastOpenFileServer http = lab.server().call(() -> FastOpenFileServer.builder(site)
                .bind(SERVER).port(0).fastOpen(QUEUE).accessLog(log::add).start())) {
            assertTrue(http.fastOpenStatus().active(), "server Fast Open: " + http.fastOpenStatus());
            InetSocketAddress address = new InetSocketAddress(SERVER, http.port());
            // The cookie, and the server's code paths warm (so that the heap compares like with like).
            for (int i = 0; i < 20; i++) {
                String request = i % 2 == 0 ? RawHttp.request("GET", "/", null) : RawHttp.request("POST", "/echo", "warm");
                assertEquals(200, lab.client().call(() -> RawHttp.exchange(RawHttp.FAST_OPEN, address, request)).status());
            }
            log.clear();
            long heapBefore = heapAfterGc();
            FastOpenCounters before = lab.server().call(FastOpenCounters::read);
            lab.line().replayFilter(DelayLine.Direction.A_TO_B,
                    packet -> Packets.isSynWithDataStartingWith(packet, "POST "), COPIES);
            long started = System.nanoTime();

            Set<Integer> realPorts = ConcurrentHashMap.newKeySet();
            List<Future<Integer>> clients = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                int client = c;
                clients.add(lab.client().submit(() -> {
                    for (int i = 0; i < POSTS / CLIENTS; i++) {
                        String body = "pay " + client + "-" + i;
                        RawHttp post = RawHttp.exchange(RawHttp.FAST_OPEN, address, RawHttp.request("POST", "/echo", body));
                        realPorts.add(post.localPort());
                        assertEquals(200, post.status(), post.head());
                        assertEquals(body, post.body());
                    }
                    return POSTS / CLIENTS;
                }));
                clients.add(lab.client().submit(() -> {
                    for (int i = 0; i < GETS / CLIENTS; i++) {
                        RawHttp get = RawHttp.exchange(RawHttp.FAST_OPEN, address, RawHttp.request("GET", "/", null));
                        realPorts.add(get.localPort());
                        assertEquals(200, get.status(), get.head());
                        assertEquals("<p>hello</p>\n", get.body());
                    }
                    return GETS / CLIENTS;
                }));
            }
            int answered = 0;
            for (Future<Integer> client : clients) {
                answered += client.get(120, TimeUnit.SECONDS);
            }
            // Every real request logged, and a few round trips for anything a replay could still bring to the log.
            awaitLines(log, POSTS + GETS + 0L, realPorts);
            Thread.sleep(4 * lab.rtt().toMillis());
            long elapsed = System.nanoTime() - started;
            lab.line().replayFilter(DelayLine.Direction.A_TO_B, null);
            FastOpenCounters counted = lab.server().call(FastOpenCounters::read).minus(before);
            long heapAfter = heapAfterGc();

            long replayed = lab.line().packetsReplayed(DelayLine.Direction.A_TO_B);
            List<String> fromReplays = log.stream().filter(l -> !realPorts.contains(port(l))).toList();
            long executions = log.stream().filter(l -> l.contains("\"POST /echo HTTP/1.1\" 200 ")).count();
            long dropped = log.stream().filter(l -> l.contains("early-data=dropped")).count();
            long windows = 1 + elapsed / RESET_SLOT_NANOS;
            System.out.printf("replay flood: %d real requests answered (%d POST), %d replayed POST SYNs, %d replays"
                            + " reached the server's handler (all dropped: %d), %d POST executions, server counters %s,"
                            + " %.1f s, heap after GC %d -> %d KiB%n", answered, POSTS, replayed, fromReplays.size(),
                    dropped, executions, counted, elapsed / 1e9, heapBefore >> 10, heapAfter >> 10);
            fromReplays.forEach(l -> System.out.println("replay: " + l));

            assertEquals(POSTS + GETS, answered, "every real request answered");
            assertTrue(replayed >= (long) COPIES * POSTS / 2, "the link replayed thousands of POST SYNs: " + replayed);
            assertEquals(0, replayed % COPIES, "whole floods of " + COPIES + " copies: " + replayed);
            assertEquals(POSTS, executions, "each real POST ran once, no replay ran: " + log);
            assertTrue(fromReplays.stream().allMatch(l -> l.contains(" - 0 ") && l.contains("early-data=dropped")),
                    "a replay gets no answer: " + fromReplays);
            assertTrue(counted.listenOverflow() > 0, "the flood filled the Fast Open queue: " + counted);
            assertTrue(fromReplays.size() <= QUEUE * windows, "at most the queue length (" + QUEUE + ") of replays per"
                    + " 60 s reach the handler, so no more are held at once: " + fromReplays.size());
            assertTrue(heapAfter - heapBefore < HEAP_GROWTH_BOUND, "heap after GC grew "
                    + ((heapAfter - heapBefore) >> 10) + " KiB, bound " + (HEAP_GROWTH_BOUND >> 10) + " KiB");
            // And the server still serves.
            assertEquals(200, lab.client().call(() -> RawHttp.exchange(RawHttp.FAST_OPEN, address,
                    RawHttp.request("GET", "/", null))).status());
        }
    }


    /** The client port of an access log line ({@code TIME ADDRESS:PORT "..."}). */
    private static int port(String line) {
        String client = line.split(" ")[1];
        return Integer.parseInt(client.substring(client.lastIndexOf(':') + 1));
    }

    private static long heapAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** Waits (at most 10 s) until the log holds {@code count} lines from {@code ports}. */
    private static void awaitLines(List<String> log, long count, Set<Integer> ports) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (log.stream().filter(l -> ports.contains(port(l))).count() >= count) {
                return;
            }
            Thread.sleep(10);
        }
        fail("fewer than " + count + " access log lines from the real clients within 10 s: " + log);
    }
}
