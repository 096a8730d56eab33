package io.tfo4j.agent.common;

/**
 * One way the agent can work on this JVM: {@code io.tfo4j.agent.jdk25.FullAgent} on Java 25 and later,
 * {@code io.tfo4j.agent.jdk17.ListenerOnlyAgent} on Java 17 to 24. {@link AgentStarter} picks one by name,
 * so that a JVM never loads the classes of the other.
 */
public interface AgentVariant {
    /** "full" or "listeners", for the start line and {@link AgentMXBean#getMode()}. */
    String mode();

    /**
     * Installs the hooks. Returns normally when it did, or when it decided to change nothing (after saying
     * why); throws only on unexpected failures, which the starter reports in one line.
     */
    void start(AgentContext context) throws Exception;
}
