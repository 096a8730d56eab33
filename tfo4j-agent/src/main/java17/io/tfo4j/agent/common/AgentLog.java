package io.tfo4j.agent.common;

import java.io.PrintStream;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The agent's lines, each starting with {@code [tfo4j-agent]}, on the standard error stream the JVM started
 * with (kept at start, so a program that later replaces {@code System.err} does not swallow them). Lines
 * that could repeat are said once per key.
 */
public final class AgentLog {
    /** What every line starts with, so that a program's log can be searched for the agent's. */
    public static final String PREFIX = "[tfo4j-agent] ";
    private static final int MAX_KEYS = 4096;

    private final PrintStream out;
    private final boolean verbose;
    private final Set<String> said = ConcurrentHashMap.newKeySet();

    public AgentLog(PrintStream out, boolean verbose) {
        this.out = out;
        this.verbose = verbose;
    }

    /** Says one line. */
    public void line(String text) {
        out.println(PREFIX + text);
    }

    /** Says one line the first time {@code key} is seen (a bounded number of keys; later ones are not said). */
    public void once(String key, String text) {
        if (said.size() < MAX_KEYS && said.add(key)) {
            line(text);
        }
    }

    /**
     * Says one line when the agent was asked to be verbose. The text is made only then: these lines are per
     * connection, on the program's own threads.
     */
    public void verbose(Supplier<String> text) {
        if (verbose) {
            line(text.get());
        }
    }

    /** True when asked for one line per connection. */
    public boolean isVerbose() {
        return verbose;
    }
}
