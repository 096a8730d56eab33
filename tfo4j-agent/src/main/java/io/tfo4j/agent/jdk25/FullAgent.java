package io.tfo4j.agent.jdk25;

import io.tfo4j.FastOpenKeyFileWatcher;
import io.tfo4j.FastOpenStatus;
import io.tfo4j.FastOpenSupport;
import io.tfo4j.agent.bootstrap.Hooks;
import io.tfo4j.agent.common.AgentContext;
import io.tfo4j.agent.common.AgentLog;
import io.tfo4j.agent.common.AgentOptions;
import io.tfo4j.agent.common.AgentVariant;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.instrument.Instrumentation;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The agent on Java 25 and later: listeners and client connections on listed ports get Fast Open, with
 * everything a program that was not written for it needs (see {@link ClientConnections} for the deferred
 * connect, {@link AcceptedConnections} and {@link ServletGate} for replayed SYN data), through tfo4j-core
 * and a handful of rewritten JDK methods ({@link JdkRewrites}).
 *
 * <p>It needs native access for tfo4j-core's system calls. Without {@code --enable-native-access} Java 25
 * prints its warning once and allows it; where it is denied ({@code --illegal-native-access=deny}) the agent
 * switches itself off and says so.
 */
public final class FullAgent implements AgentVariant {
    @Override
    public String mode() {
        return "full";
    }

    @Override
    public void start(AgentContext context) throws Exception {
        AgentOptions options = context.options();
        AgentLog log = context.log();
        Instrumentation instrumentation = context.instrumentation();
        String denied = nativeAccessDenied();
        if (denied != null) {
            log.line("native access is denied in this JVM (" + denied + "): the agent switches itself off; allow"
                    + " it with --enable-native-access=ALL-UNNAMED");
            return;
        }
        // tfo4j-core reads descriptors through sun.nio.ch; the rewritten JDK code calls Hooks, which the boot
        // loader holds in its unnamed module, and Hooks calls sun.nio.ch.Net.accept.
        Module hooks = Hooks.class.getModule();
        instrumentation.redefineModule(Object.class.getModule(), Set.of(hooks), Map.of("sun.nio.ch",
                Set.of(FullAgent.class.getModule(), hooks)), Map.of(), Set.of(), Map.of());

        if (options.keys() != null && options.listen().isEmpty()) {
            log.line("keys=" + options.keys() + " gives its keys to the listen= listeners, and none are listed: it"
                    + " does nothing");
        }
        Set<JdkRewrites.Part> wanted = EnumSet.noneOf(JdkRewrites.Part.class);
        if (!options.listen().isEmpty()) {
            wanted.addAll(Set.of(JdkRewrites.Part.LISTENERS, JdkRewrites.Part.ACCEPTED, JdkRewrites.Part.SERVLETS));
        }
        if (options.anyConnect()) {
            wanted.add(JdkRewrites.Part.CLIENTS);
        }
        JdkRewrites rewrites = new JdkRewrites(wanted, instrumentation, log);
        rewrites.verify();
        // Before anything below loads a JDK class the agent rewrites (Net, through linkAccept), so that it is
        // loaded rewritten rather than loaded and rewritten again.
        List<Class<?>> loadedBefore = rewrites.install();
        // The probe links tfo4j-core's native calls (the FFM linker's set-up is most of the agent's start) and
        // only feeds the line about this host: it runs beside the program's own start. A hook that needs the
        // native calls before it is done waits for it.
        Thread probe = new Thread(() -> reportHost(options, log), "tfo4j-agent-probe");
        probe.setDaemon(true);
        probe.start();
        Set<JdkRewrites.Part> parts = rewrites.parts();
        if (parts.contains(JdkRewrites.Part.ACCEPTED)) {
            Hooks.linkAccept();
        }

        String policy = options.earlyData().name().toLowerCase(Locale.ROOT);
        Listeners listeners = parts.contains(JdkRewrites.Part.LISTENERS)
                ? new Listeners(context.listenPorts(), context.stats(), protection(options, parts), keyFile(options, log))
                : null;
        AcceptedConnections accepted = listeners != null && parts.contains(JdkRewrites.Part.ACCEPTED)
                ? new AcceptedConnections(listeners, log, context.stats()) : null;
        ClientConnections clients = parts.contains(JdkRewrites.Part.CLIENTS)
                ? new ClientConnections(options, log, context.stats()) : null;
        ServletGate servlets = accepted != null && parts.contains(JdkRewrites.Part.SERVLETS)
                ? new ServletGate(context.loader(), policy, log) : null;
        Hooks.install(new SocketHooks(listeners, accepted, clients, servlets, context.stats(), log, policy));
        rewrites.rewriteLoaded(loadedBefore);
        if (listeners != null) {
            context.listenPorts().watchForeignListeners();
        }
    }

    /**
     * The {@code keys=} file, read now and followed from now on (a daemon thread), or null when none is
     * given or it cannot be used: then one line names the file and the fix, and the listeners keep the
     * host's key (they still get Fast Open).
     */
    private static Listeners.KeyFile keyFile(AgentOptions options, AgentLog log) {
        String path = options.keys();
        if (path == null) {
            return null;
        }
        try {
            FastOpenKeyFileWatcher watcher = FastOpenKeyFileWatcher.watch(Path.of(path),
                    line -> log.line(line.startsWith("tfo4j: ") ? line.substring("tfo4j: ".length()) : line));
            log.line("Fast Open keys from " + path + " (primary sha256:" + watcher.current().primary().fingerprint()
                    + (watcher.current().backup() == null ? "" : ", backup sha256:"
                    + watcher.current().backup().fingerprint()) + ") for the listeners, followed while the program runs");
            return new Listeners.KeyFile(path, watcher, log);
        } catch (IOException | RuntimeException e) {
            // The file's own problems name the file and the fix; these two do not.
            String why = e instanceof java.nio.file.NoSuchFileException ? "no such file; make one with: tfo4j keys new"
                    + " > " + path + "; chmod 600 " + path
                    : e instanceof java.nio.file.AccessDeniedException ? "permission denied; let the program's user,"
                    + " and only it, read the file: chown USER " + path + "; chmod 600 " + path
                    : e.getMessage();
            log.line("keys=" + path + " cannot be used (" + why + "): the listeners get Fast Open with this host's"
                    + " key instead");
            return null;
        }
    }

    /** Null when restricted methods may be called from the agent's module, else why not. */
    private static String nativeAccessDenied() {
        try {
            // A restricted method: refused when native access is denied, allowed (with the JDK's warning) by default.
            MemorySegment.NULL.reinterpret(0);
            return null;
        } catch (IllegalCallerException e) {
            return e.getMessage();
        }
    }

    /** One line on what this network namespace allows, for the sides the options ask for (and never fails). */
    private static void reportHost(AgentOptions options, AgentLog log) {
        FastOpenSupport support;
        try {
            support = FastOpenSupport.current();
        } catch (RuntimeException | LinkageError e) {
            log.line("this host could not be probed (" + e + "); each listener and destination will say what it got");
            return;
        }
        StringBuilder line = new StringBuilder("this host (kernel " + support.kernelRelease() + ", net.ipv4.tcp_fastopen="
                + (support.sysctl().isPresent() ? support.sysctl().getAsInt() : "unreadable") + "):");
        if (!options.listen().isEmpty()) {
            line.append(" listeners ").append(verdict(support.server()));
        }
        if (options.anyConnect()) {
            line.append(options.listen().isEmpty() ? "" : ";").append(" connections ").append(verdict(support.client()));
        }
        log.line(line.toString());
    }

    private static String verdict(FastOpenStatus verdict) {
        return verdict.active() ? "can use Fast Open" : "cannot use Fast Open: " + verdict.reason()
                + (verdict.remedy().isEmpty() ? "" : " (" + verdict.remedy() + ")");
    }

    /** What keeps replayed SYN data harmless on the listeners, for their line. */
    private static String protection(AgentOptions options, Set<JdkRewrites.Part> parts) {
        String others = "; other servers on this port (the JDK HttpServer, Netty, Vert.x, Undertow's own"
                + " handlers) run requests from SYN data at once, so give them Fast Open only where that is harmless";
        if (!parts.contains(JdkRewrites.Part.SERVLETS)) {
            return "on this JDK the agent cannot hold requests that arrive in SYN data, so they run at once";
        }
        return switch (options.earlyData()) {
            case WAIT -> "servlet requests (jakarta HttpServlet) that are not idempotent wait for the handshake and"
                    + " never run if it does not complete (early-data=wait)" + others;
            case REJECT -> "servlet requests (jakarta HttpServlet) that are not idempotent are answered 425 Too"
                    + " Early and sent again by the client after the handshake (early-data=reject)" + others;
            case ALLOW -> "every request from SYN data runs at once (early-data=allow): use it only where running"
                    + " a request twice is harmless";
        };
    }
}
