package io.tfo4j.agent.jdk17;

import io.tfo4j.agent.bootstrap.AgentClassLoader;
import io.tfo4j.agent.bootstrap.Hooks;
import io.tfo4j.agent.common.AgentContext;
import io.tfo4j.agent.common.AgentStats;
import io.tfo4j.agent.common.AgentVariant;
import io.tfo4j.agent.common.ListenPorts;
import io.tfo4j.agent.common.TcpFastOpenSysctl;
import java.io.FileDescriptor;
import java.io.IOException;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.net.InetAddress;
import java.security.ProtectionDomain;
import java.util.Map;
import java.util.Set;

/**
 * The agent on Java 17 to 24: listeners on listed ports get {@code TCP_FASTOPEN}, nothing else.
 *
 * <p>These JVMs have no class-file API (final in Java 24, but tfo4j-core needs 25) and the agent carries no
 * bytecode library, so it rewrites nothing. It takes the one slot the JDK itself calls before every TCP
 * bind: the SDP provider of {@code sun.net.NetHooks} (see {@code sun.net.sdp.SdpProvider} in this module),
 * and sets the option with the JDK's own {@code Net.setIntOption0} (no native access needed).
 *
 * <p>What it cannot do here, and says so: client Fast Open ({@code connect=}), which needs the deferred
 * connect handled at the first read and write; holding requests that came in SYN data, which needs
 * the servlet hook; and the listener keys of {@code keys=}, a byte-array option that {@code Net} cannot set. So a listener's line says that requests from SYN data run at once.
 */
public final class ListenerOnlyAgent implements AgentVariant {
    private static final int IPPROTO_TCP = 6;
    private static final int TCP_FASTOPEN = 23;
    private static final String SDP_PROVIDER = "sun/net/sdp/SdpProvider";
    private static final String PROTECTION = "on Java " + Runtime.version().feature() + " the agent cannot hold"
            + " requests that arrive in SYN data, so they run at once: turn Fast Open on only for services where"
            + " running the first request of a connection twice is harmless, or run on Java 25";

    @Override
    public String mode() {
        return "listeners";
    }

    @Override
    public void start(AgentContext context) throws Exception {
        var log = context.log();
        if (context.options().anyConnect()) {
            log.line("connect=" + context.options().connectText() + " needs Java 25 (this is Java "
                    + Runtime.version() + "): client connections stay plain TCP");
        }
        if (context.options().listen().isEmpty()) {
            return;
        }
        if (context.options().keys() != null) {
            // Keys are a byte array option, which the JDK's Net.setIntOption0 cannot set, and this agent has
            // no native access of its own here (tfo4j-core's FFM needs Java 25).
            log.line("keys=" + context.options().keys() + " needs Java 25 (this is Java " + Runtime.version()
                    + "): the listeners get Fast Open with this host's key");
        }
        if (System.getProperty("com.sun.sdp.conf") != null) {
            log.line("Sockets Direct Protocol is configured (-Dcom.sun.sdp.conf): the agent leaves the JDK's SDP"
                    + " provider alone and changes nothing");
            return;
        }
        Instrumentation instrumentation = context.instrumentation();
        for (Class<?> loaded : instrumentation.getAllLoadedClasses()) {
            if (loaded.getName().equals("sun.net.NetHooks") || loaded.getName().equals("sun.net.sdp.SdpProvider")) {
                log.line("a TCP socket was bound before the agent started, so the JDK's bind hook is already set"
                        + " (put -javaagent first): the agent changes nothing");
                return;
            }
        }
        AgentClassLoader loader = context.loader();
        byte[] provider = loader.entry("java-base/" + SDP_PROVIDER + ".class");
        if (provider == null) {
            log.line("the agent jar has no java-base/" + SDP_PROVIDER + ".class (a broken build): the agent"
                    + " changes nothing");
            return;
        }
        NetSocketOptions socketOptions;
        try {
            socketOptions = NetSocketOptions.link(instrumentation);
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.line("this JDK's sun.nio.ch.Net differs from what the agent knows (" + e + "): it changes nothing");
            return;
        }
        // The replacement provider in java.base calls Hooks, which the boot loader holds in its unnamed module.
        instrumentation.redefineModule(Object.class.getModule(), Set.of(Hooks.class.getModule()), Map.of(),
                Map.of(), Set.of(), Map.of());
        Hooks.install(new BindHandler(context.listenPorts(), context.stats(), socketOptions, log));
        instrumentation.addTransformer(new ClassFileTransformer() {
            @Override
            public byte[] transform(Module module, ClassLoader classLoader, String className, Class<?> redefined,
                                    ProtectionDomain domain, byte[] classfile) {
                return classLoader == null && SDP_PROVIDER.equals(className) && redefined == null ? provider : null;
            }
        });
        context.listenPorts().watchForeignListeners();
    }

    /** Sets TCP_FASTOPEN before listed ports are bound, and says what that did. */
    private static final class BindHandler implements Hooks.Handler {
        private final ListenPorts listenPorts;
        private final AgentStats stats;
        private final NetSocketOptions socketOptions;
        private final io.tfo4j.agent.common.AgentLog log;

        BindHandler(ListenPorts listenPorts, AgentStats stats, NetSocketOptions socketOptions,
                    io.tfo4j.agent.common.AgentLog log) {
            this.listenPorts = listenPorts;
            this.stats = stats;
            this.socketOptions = socketOptions;
            this.log = log;
        }

        @Override
        public void beforeTcpBind(FileDescriptor fd, InetAddress address, int port) {
            int queueLength = listenPorts.queueLength(port);
            if (queueLength == 0) {
                return;
            }
            listenPorts.bound(port);
            stats.registerSoon();
            try {
                socketOptions.setInt(fd, IPPROTO_TCP, TCP_FASTOPEN, queueLength);
            } catch (IOException e) {
                stats.listenersOff.increment();
                listenPorts.reportOff(address, port, "setsockopt(TCP_FASTOPEN) failed: " + e.getMessage(), "");
                return;
            }
            TcpFastOpenSysctl sysctl = TcpFastOpenSysctl.read();
            if (sysctl.serverEnabled()) {
                stats.listenersOn.increment();
                listenPorts.reportOn(address, port, queueLength, PROTECTION);
            } else {
                stats.listenersOff.increment();
                listenPorts.reportOff(address, port, sysctl.serverProblem(), sysctl.serverRemedy());
            }
        }

        @Override
        public void failed(String hook, Throwable failure) {
            log.once("failed " + hook, "the " + hook + " hook failed (" + failure + "); the socket works as"
                    + " without the agent");
        }
    }
}
