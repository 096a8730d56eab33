package io.tfo4j.agent.jdk25;

import io.tfo4j.FastOpen;
import io.tfo4j.FastOpenStatus;
import io.tfo4j.agent.bootstrap.Hooks;
import io.tfo4j.agent.common.AgentStats;
import io.tfo4j.agent.common.ListenPorts;
import java.io.FileDescriptor;
import java.io.IOException;
import java.net.InetAddress;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Listeners on listed ports: {@code TCP_FASTOPEN} before the JDK binds them, one line each, and the set of
 * such listeners, so that the accept hook knows whose children to look at.
 */
final class Listeners {
    private final ListenPorts listenPorts;
    private final AgentStats stats;
    private final String protection;
    /** Listener descriptor to its port; weak, so that closed listeners' entries go. */
    private final Map<FileDescriptor, Integer> withFastOpen = Collections.synchronizedMap(new WeakHashMap<>());

    /**
     * @param protection what keeps requests from SYN data harmless on these listeners, for their line
     */
    Listeners(ListenPorts listenPorts, AgentStats stats, String protection) {
        this.listenPorts = listenPorts;
        this.stats = stats;
        this.protection = protection;
    }

    void beforeBind(FileDescriptor fd, InetAddress address, int port) {
        int queueLength = listenPorts.queueLength(port);
        if (queueLength == 0) {
            return;
        }
        listenPorts.bound(port);
        stats.registerSoon();
        FastOpenStatus status;
        try {
            status = FastOpen.enableServer(fd, queueLength);
        } catch (IOException | RuntimeException e) {
            stats.listenersOff.increment();
            listenPorts.reportOff(address, port, "setsockopt(TCP_FASTOPEN) failed: " + e.getMessage(), "");
            return;
        }
        // Watched even when the sysctl lacks the server bit: the option is set, and the listener takes
        // SYN data as soon as an administrator sets the bit.
        if (withFastOpen.put(fd, port) == null) {
            Hooks.countFastOpenListeners(1);
        }
        if (status.active()) {
            stats.listenersOn.increment();
            listenPorts.reportOn(address, port, queueLength, protection);
        } else {
            stats.listenersOff.increment();
            listenPorts.reportOff(address, port, status.reason(), status.remedy());
        }
    }

    /** The port of a listener given Fast Open, or null for any other listener. */
    Integer portOf(FileDescriptor listener) {
        return withFastOpen.get(listener);
    }
}
