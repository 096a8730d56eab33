package io.tfo4j;

import io.tfo4j.lab.DelayLine;
import io.tfo4j.lab.LinkProfile;
import io.tfo4j.lab.Packets;
import io.tfo4j.lab.WanLab;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A path that black-holes Fast Open for a while and then heals, and the kernel's own Fast Open black-hole
 * back-off ({@code net.ipv4.tcp_fastopen_blackhole_timeout_sec}, per network namespace), on a 20 ms
 * {@link WanLab} link. Every request must complete with its answer byte-exact; the client outcomes and the
 * kernel counters must say what happened, and Fast Open must resume once the path heals (and, where the
 * kernel paused it, once the pause is over).
 *
 * <p>The rule, from {@code net/ipv4/tcp_fastopen.c} and checked here on Linux 6.18: the kernel pauses
 * client Fast Open for the whole namespace ({@code TCPFastOpenBlackhole} +1) when a connection that used
 * Fast Open hits its third consecutive retransmission timeout (or gives up before); the source also pauses
 * it for a Fast Open connection closed with nothing received but an out-of-order FIN. A box that drops only the SYNs carrying data costs one timeout per
 * connection (the retransmitted SYN has no data and passes), so it never triggers the pause. The pause lasts
 * the sysctl's value times 2^(pauses - 1), at most 64 times. When the first connection to try Fast Open after
 * a pause is closed having received data, the count goes back to zero, which also ends a pause that same
 * connection caused; so the pause doubles only when that connection never gets an answer. During a pause a
 * connect is plain: no data and no cookie request in the SYN, and no failure in {@code TCP_INFO}
 * ({@link ClientOutcome.Result#NOT_ATTEMPTED}). With the sysctl 0 (the default since 5.14) nothing is paused.
 */
class FastOpenBlackHoleTest {
    private static final Duration RTT = Duration.ofMillis(20);
    private static final Duration IO_TIMEOUT = Duration.ofSeconds(30);
    private static final String BLACKHOLE_SYSCTL = "net/ipv4/tcp_fastopen_blackhole_timeout_sec";
    /** Long enough that the connection right after the pause began surely falls inside it on a busy machine. */
    private static final int PAUSE_SECONDS = 5;
    private static final int CONCURRENT = 10;

    @BeforeAll
    static void requirements() {
        assumeTrue(WanLab.unavailableReason().isEmpty(), () -> "skipped: " + WanLab.unavailableReason().orElse(""));
    }

    /**
     * Drops every SYN of a connection whose first SYN carried data, up to {@code synsToDrop} SYNs of that
     * connection (its SYN with data and the plain retransmissions after it), then lets the connection
     * through: a box that black-holes Fast Open flows until the kernel's third timeout. Runs on the delay
     * line's forwarding thread.
     */
    static final class FastOpenFlowBlackHole implements Predicate<ByteBuffer> {
        private final int synsToDrop;
        private final Map<Integer, Integer> droppedByPort = new ConcurrentHashMap<>();

        FastOpenFlowBlackHole(int synsToDrop) {
            this.synsToDrop = synsToDrop;
        }

        @Override
        public boolean test(ByteBuffer packet) {
            if (Packets.isSynWithData(packet)) {
                droppedByPort.merge(Packets.sourcePort(packet), 1, Integer::sum);
                return true;
            }
            if (!isIpv4Syn(packet)) {
                return false;
            }
            Integer dropped = droppedByPort.get(Packets.sourcePort(packet));
            if (dropped == null || dropped >= synsToDrop) {
                return false;
            }
            droppedByPort.put(Packets.sourcePort(packet), dropped + 1);
            return true;
        }

        private static boolean isIpv4Syn(ByteBuffer packet) {
            if (packet.limit() < 40 || (packet.get(0) & 0xf0) != 0x40 || packet.get(9) != 6) {
                return false;
            }
            int flags = packet.get((packet.get(0) & 0x0f) * 4 + 13) & 0xff;
            return (flags & 0x12) == 0x02;
        }
    }

    private record Timed(EchoServer.Answer answer, long millis) {
        ClientOutcome outcome() {
            return answer.outcome();
        }
    }

    /** One request of {@code size} bytes from the client host; asserts the answer is byte-exact. */
    private static Timed exchange(WanLab lab, InetSocketAddress server, int index, int size) throws IOException {
        byte[] request = FastOpenMatrixTest.bytes(size, index);
        FastOpenDialer dialer = FastOpenDialer.create().withConnectTimeout(IO_TIMEOUT);
        long start = System.nanoTime();
        EchoServer.Answer answer = lab.client().call(() -> EchoServer.request(dialer, server, request, IO_TIMEOUT));
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertArrayEquals(request, answer.bytes(), "request " + index + ": the answer is byte-exact");
        return new Timed(answer, millis);
    }

    /** The client host's {@code ip tcp_metrics} line for the server, for the record (not asserted). */
    private static String tcpMetrics(WanLab lab) {
        try {
            Process process = lab.client().command("ip", "tcp_metrics", "show", WanLab.SERVER_ADDRESS)
                    .redirectErrorStream(true).start();
            String out = new String(process.getInputStream().readAllBytes()).trim();
            process.waitFor(10, TimeUnit.SECONDS);
            return "ip tcp_metrics: " + out;
        } catch (IOException e) {
            return "ip tcp_metrics: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "ip tcp_metrics: interrupted";
        }
    }

    private static FastOpenCounters counters(WanLab lab) throws IOException {
        return lab.client().call(FastOpenCounters::read);
    }

    private static EchoServer fetchCookie(WanLab lab) throws IOException {
        EchoServer server = EchoServer.start(lab.server(), WanLab.SERVER_ADDRESS, 128, 16);
        try {
            Timed first = exchange(lab, server.address(), 0, 2000);
            assertEquals(ClientOutcome.Result.COOKIE_REQUESTED, first.outcome().result(), first.outcome().reason());
            Timed second = exchange(lab, server.address(), 1, 2000);
            assertEquals(ClientOutcome.Result.SYN_DATA_ACKED, second.outcome().result(),
                    "Fast Open works on the path before the black hole: " + second.outcome().reason());
            return server;
        } catch (IOException | RuntimeException | Error e) {
            server.close();
            throw e;
        }
    }

    @Test
    void synDataDroppedForAWhileCostsOneTimeoutPerConnectionAndNeverPausesFastOpen() throws Exception {
        try (WanLab lab = WanLab.create(LinkProfile.rtt(RTT));
             EchoServer server = fetchCookie(lab)) {
            // The pause is enabled, to show that dropping SYN data alone never triggers it.
            lab.client().setSysctl(BLACKHOLE_SYSCTL, Integer.toString(PAUSE_SECONDS));
            FastOpenCounters clientBefore = counters(lab);
            FastOpenCounters serverBefore = lab.server().call(FastOpenCounters::read);
            lab.line().dropFilter(DelayLine.Direction.A_TO_B, Packets::isSynWithData);

            List<Future<Timed>> running = new ArrayList<>();
            for (int i = 0; i < CONCURRENT; i++) {
                int index = 10 + i;
                running.add(lab.client().submit(() -> exchange(lab, server.address(), index, 3000 + 100 * index)));
            }
            List<Timed> dropped = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            for (Future<Timed> future : running) {
                dropped.add(future.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
            }
            // One after another too: the kernel records each drop per destination (ip tcp_metrics: fo_syn_drop)
            // but no longer acts on it, so every connection tries SYN data again and pays the timeout again.
            List<Timed> sequential = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                sequential.add(exchange(lab, server.address(), 30 + i, 3000));
            }
            dropped.addAll(sequential);
            String metrics = tcpMetrics(lab);
            FastOpenCounters clientDuring = counters(lab).minus(clientBefore);

            lab.line().dropFilter(DelayLine.Direction.A_TO_B, null);
            Timed healed = exchange(lab, server.address(), 99, 3000);
            FastOpenCounters serverDelta = lab.server().call(FastOpenCounters::read).minus(serverBefore);

            System.out.printf("SYN data dropped: %d concurrent then %d sequential requests answered byte-exact in %s ms,"
                            + " outcomes %s; line dropped %d SYNs with data; client counters %s; %s; healed: %s in %d ms%n",
                    CONCURRENT, sequential.size(), dropped.stream().map(t -> Long.toString(t.millis())).toList(),
                    dropped.stream().map(t -> t.outcome().result()).distinct().toList(),
                    lab.line().packetsDropped(DelayLine.Direction.A_TO_B), clientDuring, metrics,
                    healed.outcome().result(), healed.millis());
            for (Timed timed : dropped) {
                assertEquals(ClientOutcome.Result.SYN_RETRANSMITTED, timed.outcome().result(), timed.outcome().reason());
            }
            assertEquals(dropped.size(), lab.line().packetsDropped(DelayLine.Direction.A_TO_B),
                    "one SYN with data dropped per connection: the retransmitted SYN carries none");
            assertEquals(dropped.size(), clientDuring.activeFail(), "TCPFastOpenActiveFail: " + clientDuring);
            assertEquals(0, clientDuring.blackhole(), "one timeout is not a black hole to the kernel: " + clientDuring);
            assertEquals(1, serverDelta.passive(), "only the healed connection's SYN data reached the server: " + serverDelta);
            assertEquals(ClientOutcome.Result.SYN_DATA_ACKED, healed.outcome().result(),
                    "Fast Open resumes as soon as the path heals: " + healed.outcome().reason());
        }
    }

    @Test
    void fastOpenFlowsBlackHoledUntilTheThirdTimeoutPauseFastOpenForTheSysctlTime() throws Exception {
        try (WanLab lab = WanLab.create(LinkProfile.rtt(RTT));
             EchoServer server = fetchCookie(lab)) {
            lab.client().setSysctl(BLACKHOLE_SYSCTL, Integer.toString(PAUSE_SECONDS));
            FastOpenCounters before = counters(lab);
            lab.line().dropFilter(DelayLine.Direction.A_TO_B, new FastOpenFlowBlackHole(3));
            Timed blackHoled = exchange(lab, server.address(), 20, 4000);
            FastOpenCounters afterBlackHole = counters(lab).minus(before);
            lab.line().dropFilter(DelayLine.Direction.A_TO_B, null);

            FastOpenCounters serverBefore = lab.server().call(FastOpenCounters::read);
            Timed paused = exchange(lab, server.address(), 21, 4000);
            FastOpenCounters serverDuringPause = lab.server().call(FastOpenCounters::read).minus(serverBefore);
            // Waiting out the pause (not a timed assertion: the next connection must use Fast Open again).
            Thread.sleep(TimeUnit.SECONDS.toMillis(PAUSE_SECONDS) + 1000);
            Timed resumed = exchange(lab, server.address(), 22, 4000);
            FastOpenCounters total = counters(lab).minus(before);

            System.out.printf("Fast Open flow black-holed (sysctl %d s): %s in %d ms, counters %s; right after: %s"
                            + " in %d ms (%s); after waiting %d s: %s in %d ms; client counters in all %s%n",
                    PAUSE_SECONDS, blackHoled.outcome().result(), blackHoled.millis(), afterBlackHole,
                    paused.outcome().result(), paused.millis(), paused.outcome().reason(), PAUSE_SECONDS + 1,
                    resumed.outcome().result(), resumed.millis(), total);
            assertEquals(3, lab.line().packetsDropped(DelayLine.Direction.A_TO_B), "SYNs the box dropped");
            assertEquals(ClientOutcome.Result.SYN_RETRANSMITTED, blackHoled.outcome().result(), blackHoled.outcome().reason());
            assertEquals(1, afterBlackHole.blackhole(), "the third timeout paused Fast Open: " + afterBlackHole);
            // One from the black-hole detection, one when the SYN-ACK did not acknowledge the data.
            assertEquals(2, afterBlackHole.activeFail(), "TCPFastOpenActiveFail: " + afterBlackHole);

            assertEquals(ClientOutcome.Result.NOT_ATTEMPTED, paused.outcome().result(), paused.outcome().reason());
            assertEquals(0, paused.outcome().tcpInfo().fastOpenClientFail(), "a paused connect records no failure");
            assertEquals(0, serverDuringPause.cookieReqd(), "the paused SYN did not even ask for a cookie");
            assertEquals(0, serverDuringPause.passive());

            assertEquals(ClientOutcome.Result.SYN_DATA_ACKED, resumed.outcome().result(),
                    "Fast Open resumes after the pause: " + resumed.outcome().reason());
            assertEquals(1, total.blackhole(), "no second pause: " + total);
        }
    }

    /**
     * A black-holed connection that was the first to try Fast Open after a pause, and then gets its answer,
     * cancels the pause it caused: closing a connection that resumed Fast Open and received data resets the
     * kernel's count of pauses to zero, and with it the pause in force.
     */
    @Test
    void aConnectionThatResumedFastOpenAndGotItsAnswerCancelsThePauseItCaused() throws Exception {
        int pause = 3;
        try (WanLab lab = WanLab.create(LinkProfile.rtt(RTT));
             EchoServer server = fetchCookie(lab)) {
            lab.client().setSysctl(BLACKHOLE_SYSCTL, Integer.toString(pause));
            FastOpenCounters before = counters(lab);
            Timed first = blackHoledExchange(lab, server, 40);
            Timed inFirstPause = exchange(lab, server.address(), 41, 4000);
            Thread.sleep(TimeUnit.SECONDS.toMillis(pause + 1));
            Timed second = blackHoledExchange(lab, server, 42);
            Timed rightAfterSecond = exchange(lab, server.address(), 43, 4000);
            FastOpenCounters delta = counters(lab).minus(before);

            System.out.printf("pause cancelled (sysctl %d s): black hole 1 %s in %d ms, right after %s;"
                            + " %d s later black hole 2 %s in %d ms, right after %s in %d ms; client counters %s%n",
                    pause, first.outcome().result(), first.millis(), inFirstPause.outcome().result(), pause + 1,
                    second.outcome().result(), second.millis(), rightAfterSecond.outcome().result(),
                    rightAfterSecond.millis(), delta);
            assertEquals(ClientOutcome.Result.SYN_RETRANSMITTED, first.outcome().result(), first.outcome().reason());
            assertEquals(ClientOutcome.Result.NOT_ATTEMPTED, inFirstPause.outcome().result(), inFirstPause.outcome().reason());
            assertEquals(ClientOutcome.Result.SYN_RETRANSMITTED, second.outcome().result(),
                    "the first pause was over: " + second.outcome().reason());
            assertEquals(2, delta.blackhole(), "the second black hole was detected too: " + delta);
            assertEquals(ClientOutcome.Result.SYN_DATA_ACKED, rightAfterSecond.outcome().result(),
                    "no pause after the second black hole: " + rightAfterSecond.outcome().reason());
        }
    }

    /**
     * The pause doubles when the first connection to try Fast Open after a pause is black-holed and never
     * gets an answer (here its connect times out; the application's retry goes plain and completes). Each
     * check is made at least 2 s away from the end of a pause it tells apart.
     */
    @Test
    void aConnectionLostRightAfterAPauseDoublesTheNextPause() throws Exception {
        int pause = 4;
        try (WanLab lab = WanLab.create(LinkProfile.rtt(RTT));
             EchoServer server = fetchCookie(lab)) {
            lab.client().setSysctl(BLACKHOLE_SYSCTL, Integer.toString(pause));
            FastOpenCounters before = counters(lab);
            Timed first = blackHoledExchange(lab, server, 50);
            Thread.sleep(TimeUnit.SECONDS.toMillis(pause + 1));

            // Every SYN of the Fast Open flow is dropped; the kernel's third SYN timeout (3 s: the first four
            // SYN timeouts are 1 s each, net.ipv4.tcp_syn_linear_timeouts=4) pauses Fast Open again.
            lab.line().dropFilter(DelayLine.Direction.A_TO_B, new FastOpenFlowBlackHole(Integer.MAX_VALUE));
            long lostStart = System.nanoTime();
            FastOpenDialer impatient = FastOpenDialer.create().withConnectTimeout(Duration.ofMillis(4500));
            byte[] lostRequest = FastOpenMatrixTest.bytes(4000, 51);
            IOException lost = assertThrows(IOException.class, () -> lab.client().call(
                    () -> EchoServer.request(impatient, server.address(), lostRequest, IO_TIMEOUT)));
            Timed retry = exchange(lab, server.address(), 51, 4000);
            lab.line().dropFilter(DelayLine.Direction.A_TO_B, null);
            FastOpenCounters afterLost = counters(lab).minus(before);

            long detected = lostStart + TimeUnit.SECONDS.toNanos(3);
            sleepUntil(detected + TimeUnit.MILLISECONDS.toNanos(1500L * pause));
            Timed inDoubledPause = exchange(lab, server.address(), 52, 4000);
            sleepUntil(detected + TimeUnit.SECONDS.toNanos(2L * pause + 2));
            Timed afterDoubledPause = exchange(lab, server.address(), 53, 4000);
            FastOpenCounters delta = counters(lab).minus(before);

            System.out.printf("pause doubled (sysctl %d s): black hole 1 %s in %d ms; %d s later a lost connect (%s),"
                            + " its retry %s in %d ms, counters %s; %.1f s after the detection %s; %d s after it %s;"
                            + " client counters %s%n",
                    pause, first.outcome().result(), first.millis(), pause + 1, lost, retry.outcome().result(),
                    retry.millis(), afterLost, 1.5 * pause, inDoubledPause.outcome().result(), 2 * pause + 2,
                    afterDoubledPause.outcome().result(), delta);
            assertEquals(ClientOutcome.Result.SYN_RETRANSMITTED, first.outcome().result(), first.outcome().reason());
            assertEquals(2, afterLost.blackhole(), "the lost connection paused Fast Open again: " + afterLost);
            assertEquals(ClientOutcome.Result.NOT_ATTEMPTED, retry.outcome().result(), retry.outcome().reason());
            assertEquals(ClientOutcome.Result.NOT_ATTEMPTED, inDoubledPause.outcome().result(),
                    "1.5 pauses after the detection, the doubled pause holds: " + inDoubledPause.outcome().reason());
            assertEquals(ClientOutcome.Result.SYN_DATA_ACKED, afterDoubledPause.outcome().result(),
                    "Fast Open resumes after the doubled pause: " + afterDoubledPause.outcome().reason());
            assertEquals(2, delta.blackhole(), delta.toString());
        }
    }

    private static void sleepUntil(long nanoTime) throws InterruptedException {
        long left = nanoTime - System.nanoTime();
        if (left > 0) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
    }

    /** One exchange through a box that black-holes Fast Open flows until the third timeout; the path heals after. */
    private static Timed blackHoledExchange(WanLab lab, EchoServer server, int index) throws IOException {
        lab.line().dropFilter(DelayLine.Direction.A_TO_B, new FastOpenFlowBlackHole(3));
        try {
            return exchange(lab, server.address(), index, 4000);
        } finally {
            lab.line().dropFilter(DelayLine.Direction.A_TO_B, null);
        }
    }

    @Test
    void withTheSysctlAtItsDefaultZeroABlackHoledFlowPausesNothing() throws Exception {
        try (WanLab lab = WanLab.create(LinkProfile.rtt(RTT));
             EchoServer server = fetchCookie(lab)) {
            assertEquals("0", lab.client().sysctl(BLACKHOLE_SYSCTL), "a new namespace starts with the pause off");
            FastOpenCounters before = counters(lab);
            lab.line().dropFilter(DelayLine.Direction.A_TO_B, new FastOpenFlowBlackHole(3));
            Timed blackHoled = exchange(lab, server.address(), 30, 4000);
            lab.line().dropFilter(DelayLine.Direction.A_TO_B, null);
            Timed next = exchange(lab, server.address(), 31, 4000);
            FastOpenCounters delta = counters(lab).minus(before);

            System.out.printf("Fast Open flow black-holed (sysctl 0): %s in %d ms; right after: %s in %d ms;"
                            + " client counters %s%n",
                    blackHoled.outcome().result(), blackHoled.millis(), next.outcome().result(), next.millis(), delta);
            assertEquals(ClientOutcome.Result.SYN_RETRANSMITTED, blackHoled.outcome().result(), blackHoled.outcome().reason());
            assertEquals(0, delta.blackhole(), "nothing paused: " + delta);
            assertEquals(2, delta.activeFail(), "the detection still counts a failure: " + delta);
            assertEquals(ClientOutcome.Result.SYN_DATA_ACKED, next.outcome().result(),
                    "Fast Open goes on at once: " + next.outcome().reason());
        }
    }
}
