package io.tfo4j;

import io.tfo4j.lab.LinkProfile;
import io.tfo4j.lab.NetNamespace;
import io.tfo4j.lab.WanLab;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * RFC 7413 section 5.1's defence against resource exhaustion, on a real kernel: a listener whose Fast Open
 * queue (children whose handshake has not completed) holds only 4, behind a 20 ms link, and hundreds of
 * clients with a cached cookie sending SYN data at once. The kernel handles the SYNs beyond the queue as
 * plain SYNs ({@code TCPFastOpenListenOverflow}): it acknowledges the SYN but not its data, and the client's
 * kernel sends the data again after the handshake. Nothing may be lost: every answer is checked byte for
 * byte, and the clients whose SYN overflowed the queue must say so in their {@link ClientOutcome}.
 */
class FastOpenQueueOverflowTest {
    private static final Duration RTT = Duration.ofMillis(20);
    private static final int FAST_OPEN_QUEUE = 4;
    private static final int BACKLOG = 1024;
    private static final int CLIENTS = 300;
    private static final int CONCURRENT = 100;
    private static final Duration IO_TIMEOUT = Duration.ofSeconds(20);
    private static final long DEADLINE_SECONDS = 90;

    @BeforeAll
    static void requirements() {
        assumeTrue(WanLab.unavailableReason().isEmpty(), () -> "skipped: " + WanLab.unavailableReason().orElse(""));
    }

    /** A distinct request of 1 to 5 KB: its index in the first 4 bytes, then bytes that depend on it. */
    static byte[] request(int index) {
        byte[] request = new byte[1024 + (index * 977) % 4096];
        for (int i = 0; i < request.length; i++) {
            request[i] = (byte) (i * 31 + index * 17 + (i >> 8));
        }
        request[0] = (byte) (index >> 24);
        request[1] = (byte) (index >> 16);
        request[2] = (byte) (index >> 8);
        request[3] = (byte) index;
        return request;
    }

    @Test
    void hundredsOfSynDataClientsOverflowASmallQueueAndLoseNothing() throws Exception {
        try (WanLab lab = WanLab.create(LinkProfile.rtt(RTT));
             EchoServer server = EchoServer.start(lab.server(), WanLab.SERVER_ADDRESS, BACKLOG, FAST_OPEN_QUEUE)) {
            InetSocketAddress address = server.address();
            FastOpenDialer dialer = FastOpenDialer.create().withConnectTimeout(IO_TIMEOUT);

            // The first connection fetches the cookie that all the others use (one client address).
            EchoServer.Answer first = lab.client().call(() -> EchoServer.request(dialer, address, request(-1), IO_TIMEOUT));
            assertArrayEquals(request(-1), first.bytes(), "answer to the cookie-fetching request");
            assertEquals(ClientOutcome.Result.COOKIE_REQUESTED, first.outcome().result(), first.outcome().reason());

            FastOpenCounters serverBefore = lab.server().call(FastOpenCounters::read);
            FastOpenCounters clientBefore = lab.client().call(FastOpenCounters::read);
            List<EchoServer.Answer> answers = burst(lab.client(), dialer, address);
            FastOpenCounters serverDelta = lab.server().call(FastOpenCounters::read).minus(serverBefore);
            FastOpenCounters clientDelta = lab.client().call(FastOpenCounters::read).minus(clientBefore);

            Map<ClientOutcome.Result, Integer> counts = new EnumMap<>(ClientOutcome.Result.class);
            for (int i = 0; i < CLIENTS; i++) {
                EchoServer.Answer answer = answers.get(i);
                assertArrayEquals(request(i), answer.bytes(), "client " + i + ": the answer is its own request, byte-exact");
                counts.merge(answer.outcome().result(), 1, Integer::sum);
            }
            int acked = counts.getOrDefault(ClientOutcome.Result.SYN_DATA_ACKED, 0);
            int notAcked = counts.getOrDefault(ClientOutcome.Result.DATA_NOT_ACKED, 0);
            int retransmitted = counts.getOrDefault(ClientOutcome.Result.SYN_RETRANSMITTED, 0);
            System.out.printf("queue overflow: %d clients (%d at once, 1-5 KB each) against a Fast Open queue of %d"
                            + " at %d ms RTT: %d answered byte-exact; %d with data in the SYN, %d fell back (%s),"
                            + " %d SYN retransmitted; server %s; client %s; server echo failures %d%n",
                    CLIENTS, CONCURRENT, FAST_OPEN_QUEUE, RTT.toMillis(), answers.size(), acked, notAcked,
                    answers.stream().filter(a -> a.outcome().result() == ClientOutcome.Result.DATA_NOT_ACKED)
                            .map(a -> a.outcome().reason()).findFirst().orElse("-"),
                    retransmitted, serverDelta, clientDelta, server.failed());

            assertEquals(CLIENTS, acked + notAcked + retransmitted,
                    "every client's SYN carried data (cookie cached), whatever became of it: " + counts);
            assertTrue(serverDelta.listenOverflow() > 0, "the Fast Open queue overflowed: " + serverDelta);
            assertTrue(notAcked > 0, "some clients saw their SYN data not acknowledged: " + counts);
            assertTrue(acked > 0, "some SYN data was accepted within the queue: " + counts);
            // Each overflowed SYN was answered by a SYN-ACK that did not acknowledge its data (DATA_NOT_ACKED),
            // unless the plain SYN it became was dropped too and retransmitted (SYN_RETRANSMITTED).
            assertTrue(notAcked <= serverDelta.listenOverflow()
                            && serverDelta.listenOverflow() <= notAcked + retransmitted,
                    "overflows " + serverDelta.listenOverflow() + " vs client fallbacks " + counts);
            assertTrue(serverDelta.passive() >= acked, "the server made a Fast Open child for each acked SYN: " + serverDelta);
            assertEquals(acked, clientDelta.active(), "client TCPFastOpenActive: " + clientDelta);
            assertEquals(notAcked + retransmitted, clientDelta.activeFail(), "client TCPFastOpenActiveFail: " + clientDelta);
            assertEquals(CLIENTS + 1, server.accepted(), "connections the server accepted");
            assertEquals(acked, server.withSynData(), "accepted children with SYN data (server TCP_INFO)");
            assertEquals(0, server.failed(), "server-side echo failures");
        }
    }

    /** Runs the clients on a bounded pool of threads in the client's namespace, released together. */
    private static List<EchoServer.Answer> burst(NetNamespace client, FastOpenDialer dialer, InetSocketAddress address)
            throws Exception {
        ThreadFactory inClientHost = task -> new Thread(() -> {
            try (NetNamespace.Visit visit = client.enterOnThisThread()) {
                task.run();
            } catch (java.io.IOException e) {
                throw new IllegalStateException("cannot enter the client namespace: " + e.getMessage(), e);
            }
        });
        ExecutorService pool = Executors.newFixedThreadPool(CONCURRENT, inClientHost);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<EchoServer.Answer>> futures = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                byte[] request = request(i);
                futures.add(pool.submit(() -> {
                    start.await();
                    return EchoServer.request(dialer, address, request, IO_TIMEOUT);
                }));
            }
            start.countDown();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(DEADLINE_SECONDS);
            List<EchoServer.Answer> answers = new ArrayList<>();
            for (int i = 0; i < futures.size(); i++) {
                long left = Math.max(1, deadline - System.nanoTime());
                answers.add(futures.get(i).get(left, TimeUnit.NANOSECONDS));
            }
            return answers;
        } finally {
            pool.shutdownNow();
            pool.awaitTermination(10, TimeUnit.SECONDS);
        }
    }
}
