package io.tfo4j.agent.common;

import io.tfo4j.agent.bootstrap.AgentClassLoader;
import java.lang.instrument.Instrumentation;

/**
 * What an agent variant starts with.
 *
 * @param options         what it was asked to do
 * @param instrumentation the JVM's instrumentation, to rewrite classes and open modules
 * @param log             where its lines go
 * @param stats           its counters
 * @param listenPorts     the listen ports, which of them were bound, and the lines about them
 * @param loader          the loader of the agent's own classes, which also reads the agent jar
 */
public record AgentContext(AgentOptions options, Instrumentation instrumentation, AgentLog log, AgentStats stats,
                           ListenPorts listenPorts, AgentClassLoader loader) {
}
