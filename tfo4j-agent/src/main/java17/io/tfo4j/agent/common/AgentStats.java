package io.tfo4j.agent.common;

import java.lang.management.ManagementFactory;
import java.util.StringJoiner;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import javax.management.ObjectName;

/**
 * The agent's counters: what {@link AgentMXBean} shows and the summary line at exit says.
 *
 * <p>The MBean is registered on first use from a background thread, not in {@code premain}: touching the
 * platform MBean server that early starts java.util.logging before the program can choose its own log
 * manager.
 */
public final class AgentStats implements AgentMXBean {
    /** The MBean's name. */
    public static final String OBJECT_NAME = "io.tfo4j:type=Agent";

    public final LongAdder listenersOn = new LongAdder();
    public final LongAdder listenersOff = new LongAdder();
    public final LongAdder accepted = new LongAdder();
    public final LongAdder acceptedWithSynData = new LongAdder();
    public final LongAdder earlyDataHeld = new LongAdder();
    public final LongAdder earlyDataRejected = new LongAdder();
    public final LongAdder earlyDataDropped = new LongAdder();
    public final LongAdder earlyDataAllowed = new LongAdder();
    public final LongAdder connectionsAttempted = new LongAdder();
    public final LongAdder synDataAcknowledged = new LongAdder();
    public final LongAdder cookieRequested = new LongAdder();
    public final LongAdder fallbacks = new LongAdder();
    public final LongAdder synWithoutData = new LongAdder();
    public final LongAdder connectionsOff = new LongAdder();

    private final String version;
    private final String mode;
    private final String options;
    private final AgentLog log;
    private final AtomicBoolean registered = new AtomicBoolean();

    public AgentStats(String version, String mode, String options, AgentLog log) {
        this.version = version;
        this.mode = mode;
        this.options = options;
        this.log = log;
    }

    /** Registers the MBean once, on a background thread. */
    public void registerSoon() {
        if (registered.compareAndSet(false, true)) {
            Thread thread = new Thread(this::register, "tfo4j-agent-jmx");
            thread.setDaemon(true);
            thread.start();
        }
    }

    private void register() {
        try {
            ManagementFactory.getPlatformMBeanServer().registerMBean(this, new ObjectName(OBJECT_NAME));
        } catch (Exception | LinkageError e) {
            log.once("jmx", "the counters could not be registered as " + OBJECT_NAME + " (" + e
                    + "); they are still in the summary at exit");
        }
    }

    /** True when a listener or a connection on a listed port was seen. */
    public boolean anything() {
        return listenersOn.sum() + listenersOff.sum() + connectionsAttempted.sum() + connectionsOff.sum() > 0;
    }

    /** One line with the counters, leaving out the parts that are zero. */
    public String summary() {
        StringJoiner parts = new StringJoiner("; ");
        if (listenersOn.sum() + listenersOff.sum() > 0) {
            parts.add(counts("listeners with Fast Open " + listenersOn.sum(), "without", listenersOff.sum()));
            if (accepted.sum() > 0) {
                parts.add(counts("accepted on them " + accepted.sum(), "with SYN data", acceptedWithSynData.sum(),
                        "early requests held", earlyDataHeld.sum(), "answered 425", earlyDataRejected.sum(),
                        "dropped", earlyDataDropped.sum(), "allowed", earlyDataAllowed.sum()));
            }
        }
        if (connectionsAttempted.sum() + connectionsOff.sum() > 0) {
            parts.add(counts("connections with Fast Open " + connectionsAttempted.sum(),
                    "SYN data acknowledged", synDataAcknowledged.sum(), "cookie requested", cookieRequested.sum(),
                    "fell back", fallbacks.sum(), "SYN without data", synWithoutData.sum(),
                    "without Fast Open", connectionsOff.sum()));
        }
        return parts.toString();
    }

    /** {@code head}, then each nonzero {@code label value} pair after a comma. */
    private static String counts(String head, Object... labelsAndValues) {
        StringBuilder text = new StringBuilder(head);
        for (int i = 0; i < labelsAndValues.length; i += 2) {
            long value = (Long) labelsAndValues[i + 1];
            if (value > 0) {
                text.append(", ").append(labelsAndValues[i]).append(' ').append(value);
            }
        }
        return text.toString();
    }

    @Override
    public String getVersion() {
        return version;
    }

    @Override
    public String getMode() {
        return mode;
    }

    @Override
    public String getOptions() {
        return options;
    }

    @Override
    public long getListenersOn() {
        return listenersOn.sum();
    }

    @Override
    public long getListenersOff() {
        return listenersOff.sum();
    }

    @Override
    public long getAccepted() {
        return accepted.sum();
    }

    @Override
    public long getAcceptedWithSynData() {
        return acceptedWithSynData.sum();
    }

    @Override
    public long getEarlyDataHeld() {
        return earlyDataHeld.sum();
    }

    @Override
    public long getEarlyDataRejected() {
        return earlyDataRejected.sum();
    }

    @Override
    public long getEarlyDataDropped() {
        return earlyDataDropped.sum();
    }

    @Override
    public long getEarlyDataAllowed() {
        return earlyDataAllowed.sum();
    }

    @Override
    public long getConnectionsAttempted() {
        return connectionsAttempted.sum();
    }

    @Override
    public long getSynDataAcknowledged() {
        return synDataAcknowledged.sum();
    }

    @Override
    public long getCookieRequested() {
        return cookieRequested.sum();
    }

    @Override
    public long getFallbacks() {
        return fallbacks.sum();
    }

    @Override
    public long getSynWithoutData() {
        return synWithoutData.sum();
    }

    @Override
    public long getConnectionsOff() {
        return connectionsOff.sum();
    }
}
