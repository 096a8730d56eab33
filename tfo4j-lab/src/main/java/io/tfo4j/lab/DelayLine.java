package io.tfo4j.lab;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.Random;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A user-space delay line: a point-to-point link between two {@link NetNamespace}s with an exact, repeatable
 * round-trip time, for kernels without the netem qdisc.
 *
 * <h2>Mechanism</h2>
 * <ul>
 *   <li>{@link #connect} makes a TUN device called {@value #DEVICE} ({@code IFF_TUN | IFF_NO_PI}: the device
 *       carries bare IP packets) in each namespace, by opening {@code /dev/net/tun} and calling
 *       {@code ioctl(TUNSETIFF)} through the Foreign Function &amp; Memory API on a thread inside that
 *       namespace (a TUN device is made in the namespace of the thread that opens it). It then gives each
 *       device a point-to-point address ({@code ip -n NS addr add LOCAL peer REMOTE dev tfo0}), MTU 1500,
 *       turns IPv6 off on it when both addresses are IPv4 (so no stray router solicitations cross the line),
 *       and brings it up.</li>
 *   <li>Per direction, one platform thread takes each packet the kernel routes into one device ({@code read(2)}
 *       on a non-blocking descriptor), stamps its arrival time and queues it, and hands it to the other device
 *       ({@code write(2)}, so the other kernel receives it) exactly {@code oneWayDelay} after its arrival.
 *       Between packets it sleeps in {@code ppoll(2)} on the first device until shortly before the next
 *       packet falls due (so a new arrival wakes it at once), then spins the last 0.2 ms; its timer slack is
 *       set to 1 ns. Packets keep their order.</li>
 *   <li>So every round trip across the line costs {@code 2 * oneWayDelay}, plus the time the kernels and the
 *       threads at both ends take to wake up: the line writes a packet within microseconds of its due time
 *       (rarely up to 0.2 ms late), and Java sockets across a 25 ms line measured round trips of 50.5 to
 *       51 ms in a 2-vCPU VM (0.06 ms over veth). Unless told otherwise the line adds no jitter, no
 *       bandwidth limit and no loss, and changes no packet. Told: {@link #impair} adds random delay and loss;
 *       middlebox faults come from a {@linkplain #dropFilter drop filter}, a {@linkplain #rewriteFilter
 *       rewrite filter} and a {@linkplain #replayFilter replay filter}. More than 100,000 packets waiting
 *       in one direction are dropped. Each packet costs a few system calls and a copy:
 *       a bulk TCP transfer measured 25 to 50 MB/s, so this suits latency tests rather than throughput
 *       tests.</li>
 *   <li>{@link #close} stops the threads (within about 50 ms) and closes both descriptors, which removes the
 *       devices and their addresses and routes.</li>
 * </ul>
 * Needs Linux, {@code /dev/net/tun}, iproute2 and root (CAP_NET_ADMIN; CAP_SYS_ADMIN for the namespaces),
 * and the JVM flag {@code --enable-native-access=ALL-UNNAMED}. Close the line before its namespaces; only
 * one line can end in a given namespace, as both devices are called {@value #DEVICE}.
 */
public final class DelayLine implements AutoCloseable {
    /** The name of the TUN device in each namespace. */
    public static final String DEVICE = "tfo0";

    /** A direction of travel over the line. */
    public enum Direction {
        /** From the first namespace given to {@link #connect} to the second. */
        A_TO_B,
        /** From the second namespace given to {@link #connect} to the first. */
        B_TO_A
    }

    private static final AtomicInteger SEQUENCE = new AtomicInteger();
    private static final int MTU = 1500;
    /** Packets the kernel holds for the line's thread to read (500 by default): room for bursts. */
    private static final int TX_QUEUE_LENGTH = 10_000;
    private static final int BUFFER_SIZE = 65536;
    private static final int QUEUE_LIMIT = 100_000;
    private static final int READ_BATCH = 64;
    /** The most copies {@link #replayFilter(Direction, Predicate, int)} makes of one packet. */
    private static final int MAX_REPLAY_COPIES = 1000;
    private static final long IDLE_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final long SPIN_NANOS = 200_000;
    private static final long STOP_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(2);

    private final String description;
    private final Duration oneWayDelay;
    private final int fdA;
    private final int fdB;
    private final Pipe aToB;
    private final Pipe bToA;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile boolean stopping;

    private DelayLine(String description, Duration oneWayDelay, int fdA, int fdB) {
        this.description = description;
        this.oneWayDelay = oneWayDelay;
        this.fdA = fdA;
        this.fdB = fdB;
        String prefix = "tfo4j-delayline-" + SEQUENCE.incrementAndGet();
        this.aToB = new Pipe(prefix + "-a2b", fdA, fdB, oneWayDelay.toNanos());
        this.bToA = new Pipe(prefix + "-b2a", fdB, fdA, oneWayDelay.toNanos());
    }

    /**
     * Joins {@code a} and {@code b} by a link that delays every packet by {@code oneWayDelay} each way
     * (round-trip time {@code 2 * oneWayDelay}). {@code addressA} and {@code addressB} become the local
     * and peer addresses of device {@value #DEVICE} in {@code a} and in {@code b}, for example
     * {@code 198.19.0.1} and {@code 198.19.0.2}.
     *
     * @throws IOException when a device cannot be made or configured (the message names the failed call
     *                     and its errno, or the failed {@code ip} command)
     */
    public static DelayLine connect(NetNamespace a, String addressA, NetNamespace b, String addressB,
                                    Duration oneWayDelay) throws IOException {
        Objects.requireNonNull(a, "a");
        Objects.requireNonNull(b, "b");
        Objects.requireNonNull(addressA, "addressA");
        Objects.requireNonNull(addressB, "addressB");
        Objects.requireNonNull(oneWayDelay, "oneWayDelay");
        if (oneWayDelay.isNegative()) {
            throw new IllegalArgumentException("oneWayDelay must not be negative: " + oneWayDelay);
        }
        if (a == b) {
            throw new IllegalArgumentException("a delay line needs two different namespaces");
        }
        String problem = Libc.tunUnavailableReason();
        if (problem != null) {
            throw new IOException("cannot make TUN devices: " + problem);
        }
        int fdA = -1;
        int fdB = -1;
        try {
            fdA = a.call(() -> Libc.createTun(DEVICE));
            fdB = b.call(() -> Libc.createTun(DEVICE));
            configure(a, addressA, addressB);
            configure(b, addressB, addressA);
            DelayLine line = new DelayLine(a.name() + "/" + addressA + " <-> " + b.name() + "/" + addressB
                    + ", " + oneWayDelay.toNanos() / 1e6 + " ms each way", oneWayDelay, fdA, fdB);
            line.start();
            return line;
        } catch (IOException | RuntimeException e) {
            closeQuietly(fdA);
            closeQuietly(fdB);
            throw e;
        }
    }

    private static void configure(NetNamespace ns, String local, String peer) throws IOException {
        ns.ip("link", "set", "dev", DEVICE, "mtu", Integer.toString(MTU), "txqueuelen", Integer.toString(TX_QUEUE_LENGTH));
        if (!local.contains(":") && !peer.contains(":")) {
            try {
                ns.setSysctl("net/ipv6/conf/" + DEVICE + "/disable_ipv6", "1");
            } catch (IOException | RuntimeException ignored) {
                // no IPv6 in this kernel: nothing to turn off
            }
        }
        ns.ip("addr", "add", local, "peer", peer, "dev", DEVICE);
        ns.ip("link", "set", "dev", DEVICE, "up");
    }

    private void start() {
        aToB.start();
        bToA.start();
    }

    /** The delay each packet gets in each direction. */
    public Duration oneWayDelay() {
        return oneWayDelay;
    }

    /** How many packets have been delivered in {@code direction} so far. */
    public long packetsForwarded(Direction direction) {
        return pipe(direction).forwarded.get();
    }

    /** How many packets were dropped in {@code direction} so far: by the drop filter, or queue overflow. */
    public long packetsDropped(Direction direction) {
        return pipe(direction).dropped.get();
    }

    /**
     * Drops, from now on, every packet going in {@code direction} for which {@code filter} returns true; null
     * removes the filter. The filter sees a read-only buffer holding one whole IP packet (from the IP header
     * on) and runs on the line's forwarding thread as the packet arrives, so it must be quick.
     */
    public void dropFilter(Direction direction, Predicate<ByteBuffer> filter) {
        pipe(direction).dropFilter = filter;
    }

    /**
     * From now on, adds to each packet's delay, in both directions, a random amount between {@code -jitter}
     * and {@code +jitter} (uniform, never below zero in total), and loses each packet with probability
     * {@code loss}. Packets keep their order, as in a single queue: one that would overtake the packet ahead
     * of it waits for it. The randomness is seeded with {@code seed}, so a run can be repeated. Lost packets
     * count as dropped.
     */
    public void impair(Duration jitter, double loss, long seed) {
        Objects.requireNonNull(jitter, "jitter");
        if (jitter.isNegative()) {
            throw new IllegalArgumentException("jitter must not be negative: " + jitter);
        }
        if (!(loss >= 0 && loss < 1)) {
            throw new IllegalArgumentException("loss must be a probability from 0 up to (not including) 1, got " + loss);
        }
        aToB.impair(jitter.toNanos(), loss, new Random(seed));
        bToA.impair(jitter.toNanos(), loss, new Random(seed + 1));
    }

    /**
     * From now on, replaces every packet going in {@code direction} by what {@code rewriter} returns for it:
     * a whole new IP packet, or null to pass it unchanged; null removes the rewriter. Runs on the line's
     * forwarding thread, after the drop filter and before the replay filter. For example
     * {@link Packets#withoutFastOpenOption} strips the Fast Open option, as some middleboxes do.
     */
    public void rewriteFilter(Direction direction, Function<ByteBuffer, byte[]> rewriter) {
        pipe(direction).rewriteFilter = rewriter;
    }

    /**
     * From now on, delivers every packet going in {@code direction} for which {@code filter} returns true
     * twice: as sent, and right after it a copy from another TCP source port ({@link #replayPort}), as an
     * attacker on the path who replays a captured SYN would. IPv4 TCP packets only; null removes the filter.
     * With {@link Packets#isSynWithData} this replays Fast Open SYNs: the server accepts the copy as a new
     * connection with the same data, and its SYN-ACK goes to a port where nothing listens, so the client's
     * host resets it.
     */
    public void replayFilter(Direction direction, Predicate<ByteBuffer> filter) {
        replayFilter(direction, filter, 1);
    }

    /**
     * Like {@link #replayFilter(Direction, Predicate)}, with {@code copies} copies of each packet the filter
     * accepts (1 to 1000), each from its own source port ({@link #replayPort(int, int)}): a replay flood.
     */
    public void replayFilter(Direction direction, Predicate<ByteBuffer> filter, int copies) {
        if (copies < 1 || copies > MAX_REPLAY_COPIES) {
            throw new IllegalArgumentException("copies must be 1 to " + MAX_REPLAY_COPIES + ", got " + copies);
        }
        Pipe pipe = pipe(direction);
        pipe.replayCopies = copies;
        pipe.replayFilter = filter;
    }

    /** How many copies {@link #replayFilter} has added in {@code direction} so far. */
    public long packetsReplayed(Direction direction) {
        return pipe(direction).replayed.get();
    }

    /** The source port of a replayed copy of a packet from {@code port}: far from it, never below 1024. */
    public static int replayPort(int port) {
        return replayPort(port, 0);
    }

    /** The source port of replayed copy number {@code copy} (from 0) of a packet from {@code port}. */
    public static int replayPort(int port, int copy) {
        return 1024 + (port - 1024 + 20_011 + 7 * copy) % (65536 - 1024);
    }

    /** The forwarding threads, for tests. */
    List<Thread> threads() {
        return List.of(aToB.thread, bToA.thread);
    }

    /**
     * Stops forwarding and removes both devices. Waits at most 2 s for the threads; safe to call twice.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        stopping = true;
        List<Thread> threads = threads();
        long deadline = System.nanoTime() + STOP_TIMEOUT_NANOS;
        boolean interrupted = false;
        for (Thread thread : threads) {
            while (thread.isAlive()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                try {
                    thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (threads.stream().anyMatch(Thread::isAlive)) {
            // A thread might still touch the descriptors; a closed number could be reused by another file.
            System.err.println("tfo4j-lab: delay line " + description
                    + ": forwarding threads did not stop within 2 s; its TUN descriptors stay open");
            return;
        }
        closeQuietly(fdA);
        closeQuietly(fdB);
    }

    @Override
    public String toString() {
        return "DelayLine[" + description + "]";
    }

    private Pipe pipe(Direction direction) {
        return switch (Objects.requireNonNull(direction, "direction")) {
            case A_TO_B -> aToB;
            case B_TO_A -> bToA;
        };
    }

    private static void closeQuietly(int fd) {
        if (fd < 0) {
            return;
        }
        try {
            Libc.close(fd);
        } catch (IOException e) {
            System.err.println("tfo4j-lab: " + e.getMessage());
        }
    }

    private record Packet(long dueNanos, byte[] data) {
    }

    /** Random extra delay and loss for one direction; {@code random} is null when there is neither. */
    private record Impairment(long jitterNanos, double loss, Random random) {
        boolean lose() {
            return loss > 0 && random.nextDouble() < loss;
        }

        long jitter() {
            return jitterNanos == 0 ? 0 : random.nextLong(-jitterNanos, jitterNanos + 1);
        }
    }

    /**
     * One direction: a platform thread that reads packets from one device, stamps and queues them, and writes
     * each to the other device when its time has come, sleeping in {@code ppoll(2)} on the first device until
     * then so that it wakes at once for a new packet.
     */
    private final class Pipe {
        final AtomicLong forwarded = new AtomicLong();
        final AtomicLong dropped = new AtomicLong();
        final AtomicLong replayed = new AtomicLong();
        final Thread thread;
        private long lastDueNanos = Long.MIN_VALUE;
        private volatile Impairment impairment = new Impairment(0, 0, null);
        final int inFd;
        final int outFd;
        final long delayNanos;
        volatile Predicate<ByteBuffer> dropFilter;
        volatile Predicate<ByteBuffer> replayFilter;
        volatile int replayCopies = 1;
        volatile Function<ByteBuffer, byte[]> rewriteFilter;

        Pipe(String name, int inFd, int outFd, long delayNanos) {
            this.inFd = inFd;
            this.outFd = outFd;
            this.delayNanos = delayNanos;
            this.thread = new Thread(this::run, name);
            thread.setDaemon(true);
        }

        void start() {
            thread.start();
        }

        private void run() {
            ArrayDeque<Packet> queue = new ArrayDeque<>();
            try (Libc.Io io = new Libc.Io(BUFFER_SIZE)) {
                try {
                    io.preciseTimers();
                } catch (IOException e) {
                    // keep the default 50 us timer slack: the spin at the end of each wait absorbs it
                }
                while (!stopping) {
                    // Take in what has arrived (a bounded batch, so a flood cannot hold up delivery).
                    for (int i = 0; i < READ_BATCH; i++) {
                        byte[] data = io.read(inFd);
                        if (data == null) {
                            break;
                        }
                        long arrival = System.nanoTime();
                        Impairment now = impairment;
                        if (drop(data) || now.lose() || queue.size() >= QUEUE_LIMIT) {
                            dropped.incrementAndGet();
                        } else {
                            data = rewrite(data);
                            long due = Math.max(arrival + Math.max(0, delayNanos + now.jitter()), lastDueNanos);
                            lastDueNanos = due;
                            queue.add(new Packet(due, data));
                            if (replays(data)) {
                                ByteBuffer view = ByteBuffer.wrap(data).asReadOnlyBuffer();
                                int port = Packets.sourcePort(view);
                                for (int copy = 0, copies = replayCopies; copy < copies; copy++) {
                                    queue.add(new Packet(due, Packets.withSourcePort(view, replayPort(port, copy))));
                                    replayed.incrementAndGet();
                                }
                            }
                        }
                    }
                    // Deliver what is due, in order.
                    Packet head;
                    while ((head = queue.peek()) != null && head.dueNanos() - System.nanoTime() <= 0) {
                        queue.poll();
                        deliver(io, head);
                    }
                    // Wait for the next packet to arrive or the head to fall due, whichever comes first.
                    if (head == null) {
                        io.poll(inFd, IDLE_POLL_NANOS);
                    } else {
                        long left = head.dueNanos() - System.nanoTime();
                        if (left > SPIN_NANOS) {
                            io.poll(inFd, Math.min(left - SPIN_NANOS, IDLE_POLL_NANOS));
                        } else {
                            Thread.onSpinWait(); // the last moments: loop, still reading new arrivals
                        }
                    }
                }
            } catch (IOException | RuntimeException e) {
                if (!stopping) {
                    System.err.println("tfo4j-lab: delay line " + description + ", " + thread.getName()
                            + " stopped: " + e);
                }
            }
        }

        private void deliver(Libc.Io io, Packet packet) {
            try {
                io.write(outFd, packet.data());
                forwarded.incrementAndGet();
            } catch (IOException e) {
                dropped.incrementAndGet();
                if (!stopping) {
                    System.err.println("tfo4j-lab: delay line " + description + ": " + e.getMessage());
                }
            }
        }

        void impair(long jitterNanos, double loss, Random random) {
            impairment = new Impairment(jitterNanos, loss, random);
        }

        private byte[] rewrite(byte[] packet) {
            Function<ByteBuffer, byte[]> rewriter = rewriteFilter;
            if (rewriter == null) {
                return packet;
            }
            try {
                byte[] rewritten = rewriter.apply(ByteBuffer.wrap(packet).asReadOnlyBuffer());
                return rewritten == null ? packet : rewritten;
            } catch (RuntimeException e) {
                System.err.println("tfo4j-lab: delay line rewrite filter failed, packet passes unchanged: " + e);
                return packet;
            }
        }

        /** True when the replay filter asks for copies of {@code packet} (an IPv4 TCP packet, or it fails). */
        private boolean replays(byte[] packet) {
            Predicate<ByteBuffer> filter = replayFilter;
            if (filter == null) {
                return false;
            }
            try {
                ByteBuffer view = ByteBuffer.wrap(packet).asReadOnlyBuffer();
                if (filter.test(view)) {
                    Packets.sourcePort(view); // an IPv4 TCP packet, or the RuntimeException below
                    return true;
                }
                return false;
            } catch (RuntimeException e) {
                System.err.println("tfo4j-lab: delay line replay filter failed, packet not replayed: " + e);
                return false;
            }
        }

        private boolean drop(byte[] packet) {
            Predicate<ByteBuffer> filter = dropFilter;
            if (filter == null) {
                return false;
            }
            try {
                return filter.test(ByteBuffer.wrap(packet).asReadOnlyBuffer());
            } catch (RuntimeException e) {
                System.err.println("tfo4j-lab: delay line drop filter failed, packet passes: " + e);
                return false;
            }
        }
    }
}
