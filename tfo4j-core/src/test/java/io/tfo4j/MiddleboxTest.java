package io.tfo4j;

import io.tfo4j.lab.DelayLine;
import io.tfo4j.lab.Fault;
import io.tfo4j.lab.LinkProfile;
import io.tfo4j.lab.WanLab;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Fast Open across a path with a middlebox that breaks it, built by {@link WanLab}: whatever the box does,
 * every byte arrives (checked by SHA-256 at the server), and the client's outcome says what happened.
 */
class MiddleboxTest {
    private static final Duration RTT = Duration.ofMillis(20);
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

    @BeforeAll
    static void requirements() {
        assumeTrue(WanLab.unavailableReason().isEmpty(), () -> "skipped: " + WanLab.unavailableReason().orElse(""));
    }

    /** Runs {@code count} exchanges of {@code size} bytes from the client host; the server checks every byte. */
    private static List<DigestServer.Reply> exchanges(WanLab lab, int count, int size) throws Exception {
        ServerSocket listener = lab.server().call(() -> new FastOpenServerSocketFactory(16)
                .createServerSocket(0, 50, java.net.InetAddress.getByName(WanLab.SERVER_ADDRESS)));
        List<DigestServer.Reply> replies = new ArrayList<>();
        try (DigestServer server = new DigestServer(lab.server(), listener)) {
            InetSocketAddress address = server.address();
            FastOpenDialer dialer = FastOpenDialer.create().withConnectTimeout(CONNECT_TIMEOUT);
            for (int i = 0; i < count; i++) {
                byte[] payload = FastOpenMatrixTest.bytes(size, i);
                Callable<DigestServer.Reply> exchange = () -> DigestServer.send(dialer, address, payload);
                DigestServer.Reply reply = lab.client().call(exchange);
                assertEquals(size, reply.bytesConfirmed(), "connection " + (i + 1) + ": bytes the server read");
                assertArrayEquals(DigestServer.sha256(payload), reply.sha256(), "connection " + (i + 1) + ": digest");
                assertEquals(size, server.next().bytes());
                replies.add(reply);
            }
        }
        return replies;
    }

    @Test
    void synDataDroppedOnThePathStillDeliversEveryByte() throws Exception {
        try (WanLab lab = WanLab.create(LinkProfile.rtt(RTT).withFault(Fault.DROP_SYN_DATA))) {
            FastOpenCounters before = lab.server().call(FastOpenCounters::read);
            List<DigestServer.Reply> replies = exchanges(lab, 3, 300);
            replies.forEach(r -> System.out.println("SYN data dropped: " + r.outcome()));
            assertEquals(ClientOutcome.Result.COOKIE_REQUESTED, replies.get(0).outcome().result());
            // The second connection's SYN carried data and a cookie; the box dropped it, the kernel sent the
            // SYN again without data after its timeout, and the data after the handshake.
            assertEquals(ClientOutcome.Result.SYN_RETRANSMITTED, replies.get(1).outcome().result(),
                    replies.get(1).outcome().reason());
            assertTrue(replies.stream().noneMatch(r -> r.outcome().synDataAcked()));
            assertTrue(lab.line().packetsDropped(DelayLine.Direction.A_TO_B) >= 1, "the box dropped a SYN with data");
            assertEquals(0, lab.server().call(FastOpenCounters::read).minus(before).passive(),
                    "no SYN data reached the server");
        }
    }

    @Test
    void fastOpenOptionStrippedFallsBackToPlainTcp() throws Exception {
        try (WanLab lab = WanLab.create(LinkProfile.rtt(RTT).withFault(Fault.STRIP_FAST_OPEN_OPTION))) {
            FastOpenCounters serverBefore = lab.server().call(FastOpenCounters::read);
            List<DigestServer.Reply> replies = exchanges(lab, 3, 300);
            replies.forEach(r -> System.out.println("option stripped: " + r.outcome()));
            // No cookie ever reaches the client, so every SYN asks for one again.
            for (DigestServer.Reply reply : replies) {
                assertEquals(ClientOutcome.Result.COOKIE_REQUESTED, reply.outcome().result(), reply.outcome().reason());
                assertFalse(reply.outcome().synDataAcked());
            }
            FastOpenCounters server = lab.server().call(FastOpenCounters::read).minus(serverBefore);
            assertEquals(0, server.cookieReqd(), "the server never saw a cookie request: " + server);
            assertEquals(0, server.passive());
        }
    }

    @Test
    void onePercentLossCompletesEveryConnection() throws Exception {
        try (WanLab lab = WanLab.create(LinkProfile.rtt(Duration.ofMillis(10)).withLoss(0.01).withSeed(7))) {
            FastOpenCounters before = lab.server().call(FastOpenCounters::read);
            List<DigestServer.Reply> replies = exchanges(lab, 40, 20_000);
            long inSyn = replies.stream().filter(r -> r.outcome().synDataAcked()).count();
            long lost = lab.line().packetsDropped(DelayLine.Direction.A_TO_B) + lab.line().packetsDropped(DelayLine.Direction.B_TO_A);
            System.out.println("1% loss: 40 connections complete, " + inSyn + " with data in the SYN, " + lost + " packets lost");
            assertTrue(lost > 0, "the link lost packets");
            assertTrue(inSyn > 0, "Fast Open still works on a lossy path");
            assertTrue(lab.server().call(FastOpenCounters::read).minus(before).passive() >= inSyn);
        }
    }
}
