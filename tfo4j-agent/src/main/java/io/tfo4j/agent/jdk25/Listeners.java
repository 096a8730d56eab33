package io.tfo4j.agent.jdk25;

import io.tfo4j.FastOpen;
import io.tfo4j.FastOpenKeyFileWatcher;
import io.tfo4j.FastOpenStatus;
import io.tfo4j.agent.bootstrap.Hooks;
import io.tfo4j.agent.common.AgentLog;
import io.tfo4j.agent.common.AgentStats;
import io.tfo4j.agent.common.ListenPorts;
import java.io.FileDescriptor;
import java.io.IOException;
import java.net.InetAddress;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Listeners on listed ports: {@code TCP_FASTOPEN} before the JDK binds them (and the keys of the
 * {@code keys=} file, when given), one line each, and the set of such listeners, so that the accept hook
 * knows whose children to look at.
 */
final class Listeners {
    private final ListenPorts listenPorts;
    private final AgentStats stats;
    private final String protection;
    private final KeyFile keyFile;
    /** Listener descriptor to its port; weak, so that closed listeners' entries go. */
    private final Map<FileDescriptor, Integer> withFastOpen = Collections.synchronizedMap(new WeakHashMap<>());

    /**
     * @param protection what keeps requests from SYN data harmless on these listeners, for their line
     */
    Listeners(ListenPorts listenPorts, AgentStats stats, String protection, KeyFile keyFile) {
        this.listenPorts = listenPorts;
        this.stats = stats;
        this.protection = protection;
        this.keyFile = keyFile;
    }

    /**
     * The {@code keys=} file being followed, or null.
     *
     * @param path    the file as given
     * @param watcher the watcher that gives its keys to the listeners added to it
     * @param log     where a listener that cannot take the keys is reported
     */
    record KeyFile(String path, FastOpenKeyFileWatcher watcher, AgentLog log) {
        /** Gives a listener the file's keys; it keeps the host's key if the kernel refuses them. */
        void add(FileDescriptor fd, int port) {
            try {
                watcher.addListener(fd);
            } catch (IOException | RuntimeException e) {
                log.once("keys refused", "the keys of " + path + " could not be set on the listener on port " + port
                        + " (" + e.getMessage() + "): it keeps this host's Fast Open key; per-listener keys need"
                        + " Linux 4.15+, a backup key 5.2+");
            }
        }
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
        if (keyFile != null) {
            keyFile.add(fd, port);
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
