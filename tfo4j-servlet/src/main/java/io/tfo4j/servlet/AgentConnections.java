package io.tfo4j.servlet;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * The tfo4j agent's view of accepted connections, reached through its {@code io.tfo4j.agent.bootstrap.Hooks}
 * in the boot loader (never a copy on the application's class path, which would know no connection). When
 * no agent runs in this JVM, every connection reads as "not early".
 */
final class AgentConnections {
    private static final String HOOKS = "io.tfo4j.agent.bootstrap.Hooks";

    /** The connection is not waiting for its handshake. */
    final int none;
    /** The SYN carried data and the handshake has not completed. */
    final int waiting;
    /** The SYN carried data and the connection was reset before its handshake. */
    final int reset;

    private final MethodHandle state;
    private final MethodHandle await;
    private final MethodHandle decision;
    private final MethodHandle policy;
    private final String absence;

    private AgentConnections(int none, int waiting, int reset, MethodHandle state, MethodHandle await,
                             MethodHandle decision, MethodHandle policy, String absence) {
        this.none = none;
        this.waiting = waiting;
        this.reset = reset;
        this.state = state;
        this.await = await;
        this.decision = decision;
        this.policy = policy;
        this.absence = absence;
    }

    static AgentConnections find() {
        try {
            Class<?> hooks = Class.forName(HOOKS, true, null);
            MethodHandles.Lookup lookup = MethodHandles.publicLookup();
            return new AgentConnections(
                    hooks.getField("EARLY_DATA_NONE").getInt(null),
                    hooks.getField("EARLY_DATA_WAITING").getInt(null),
                    hooks.getField("EARLY_DATA_RESET").getInt(null),
                    lookup.findStatic(hooks, "earlyDataState",
                            MethodType.methodType(int.class, int.class, String.class, int.class)),
                    lookup.findStatic(hooks, "awaitEarlyDataHandshake",
                            MethodType.methodType(int.class, int.class, String.class, int.class, long.class)),
                    lookup.findStatic(hooks, "earlyDataDecision", MethodType.methodType(void.class, String.class)),
                    lookup.findStatic(hooks, "earlyDataPolicy", MethodType.methodType(String.class)),
                    null);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return new AgentConnections(0, 1, 2, null, null, null, null,
                    "the tfo4j agent is not running in this JVM (" + e.getClass().getSimpleName() + "), so the"
                            + " filter cannot see which connections carried data in their SYN and lets every"
                            + " request through; start the JVM with -javaagent:tfo4j-agent.jar=listen=PORT");
        }
    }

    /** Why the agent cannot be asked, or null when it can. */
    String absence() {
        return absence;
    }

    int state(int localPort, String remoteAddress, int remotePort) {
        if (state == null) {
            return none;
        }
        try {
            return (int) state.invokeExact(localPort, remoteAddress, remotePort);
        } catch (Throwable t) {
            return none;
        }
    }

    int awaitHandshake(int localPort, String remoteAddress, int remotePort, long timeoutMillis) {
        if (await == null) {
            return none;
        }
        try {
            return (int) await.invokeExact(localPort, remoteAddress, remotePort, timeoutMillis);
        } catch (Throwable t) {
            return none;
        }
    }

    void decided(String what) {
        if (decision != null) {
            try {
                decision.invokeExact(what);
            } catch (Throwable ignored) {
                // counting is best effort
            }
        }
    }

    /** The agent's early-data option, or "wait" without an agent. */
    String policy() {
        if (policy == null) {
            return "wait";
        }
        try {
            return (String) policy.invokeExact();
        } catch (Throwable t) {
            return "wait";
        }
    }
}
