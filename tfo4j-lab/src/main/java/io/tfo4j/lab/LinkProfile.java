package io.tfo4j.lab;

import java.time.Duration;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * What a {@link WanLab} link does to packets: round-trip time, jitter, loss and middlebox faults.
 *
 * <pre>{@code
 * LinkProfile.rtt(Duration.ofMillis(50)).withJitter(Duration.ofMillis(2)).withLoss(0.01)
 * }</pre>
 *
 * @param rtt    the round-trip time: each packet waits half of it in each direction
 * @param jitter each packet's delay varies by up to this much, either way (uniform; packets keep their order)
 * @param loss   the probability that a packet is lost, each direction, from 0 up to (not including) 1
 * @param faults the middlebox faults on the path
 * @param seed   the seed of the random jitter and loss, so that a run can be repeated
 */
public record LinkProfile(Duration rtt, Duration jitter, double loss, Set<Fault> faults, long seed) {
    public LinkProfile {
        Objects.requireNonNull(rtt, "rtt");
        Objects.requireNonNull(jitter, "jitter");
        if (rtt.isNegative()) {
            throw new IllegalArgumentException("rtt must not be negative: " + rtt);
        }
        if (jitter.isNegative()) {
            throw new IllegalArgumentException("jitter must not be negative: " + jitter);
        }
        if (!(loss >= 0 && loss < 1)) {
            throw new IllegalArgumentException("loss must be a probability from 0 up to (not including) 1, got " + loss);
        }
        faults = faults.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(faults));
    }

    /**
     * Reads a time as people write it on a command line: {@code 50ms}, {@code 0.15s} or {@code 50}
     * (milliseconds), from 0 to 60 s.
     *
     * @throws IllegalArgumentException naming the text and how to write it
     */
    public static Duration parseTime(String text) {
        String number = text.trim().toLowerCase(Locale.ROOT);
        double factorToNanos = 1e6;
        if (number.endsWith("ms")) {
            number = number.substring(0, number.length() - 2);
        } else if (number.endsWith("s")) {
            number = number.substring(0, number.length() - 1);
            factorToNanos = 1e9;
        }
        double amount;
        try {
            amount = Double.parseDouble(number.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not a time: write it like 50ms, 0.15s or 50");
        }
        if (amount < 0 || Double.isNaN(amount) || amount * factorToNanos > 60e9) {
            throw new IllegalArgumentException("'" + text + "' is not a time from 0 to 60 s");
        }
        return Duration.ofNanos(Math.round(amount * factorToNanos));
    }

    /** A clean link with this round-trip time: no jitter, no loss, no faults. */
    public static LinkProfile rtt(Duration rtt) {
        return new LinkProfile(rtt, Duration.ZERO, 0, Set.of(), 1);
    }

    /** This profile with {@code jitter}. */
    public LinkProfile withJitter(Duration jitter) {
        return new LinkProfile(rtt, jitter, loss, faults, seed);
    }

    /** This profile with a loss probability. */
    public LinkProfile withLoss(double loss) {
        return new LinkProfile(rtt, jitter, loss, faults, seed);
    }

    /** This profile with {@code fault} added. */
    public LinkProfile withFault(Fault fault) {
        EnumSet<Fault> more = faults.isEmpty() ? EnumSet.noneOf(Fault.class) : EnumSet.copyOf(faults);
        more.add(fault);
        return new LinkProfile(rtt, jitter, loss, more, seed);
    }

    /** This profile with another random seed. */
    public LinkProfile withSeed(long seed) {
        return new LinkProfile(rtt, jitter, loss, faults, seed);
    }

    /**
     * Sets {@code line} up as this profile says (jitter, loss, faults); the line's delay is set when it is made.
     * Faults act on packets from the line's first end (the client's) and, for the option strip, both ways.
     */
    void applyTo(DelayLine line) {
        if (!jitter.isZero() || loss > 0) {
            line.impair(jitter, loss, seed);
        }
        for (Fault fault : faults) {
            switch (fault) {
                case DROP_SYN_DATA -> line.dropFilter(DelayLine.Direction.A_TO_B, Packets::isSynWithData);
                case STRIP_FAST_OPEN_OPTION -> {
                    line.rewriteFilter(DelayLine.Direction.A_TO_B, Packets::withoutFastOpenOption);
                    line.rewriteFilter(DelayLine.Direction.B_TO_A, Packets::withoutFastOpenOption);
                }
                case REPLAY_SYN_DATA -> line.replayFilter(DelayLine.Direction.A_TO_B, Packets::isSynWithData);
            }
        }
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder().append(rtt.toNanos() / 1e6).append(" ms RTT");
        if (!jitter.isZero()) {
            text.append(", jitter ").append(jitter.toNanos() / 1e6).append(" ms");
        }
        if (loss > 0) {
            text.append(", loss ").append(loss * 100).append('%');
        }
        faults.forEach(fault -> text.append(", ").append(fault.name().toLowerCase(java.util.Locale.ROOT)));
        return text.toString();
    }
}
