package io.tfo4j.agent.common;

/**
 * The agent's counters over JMX, as {@code io.tfo4j:type=Agent} in the platform MBean server (jconsole or
 * any JMX client). All counts are since the JVM started.
 */
public interface AgentMXBean {
    /** The agent's version. */
    String getVersion();

    /** "full" on Java 25 and later; "listeners" on Java 17 to 24, where only listeners get Fast Open. */
    String getMode();

    /** The options in effect, written as the agent reads them. */
    String getOptions();

    /** Listeners that were given Fast Open and accept data in the SYN. */
    long getListenersOn();

    /** Listeners on listed ports that could not be given Fast Open (the log says why). */
    long getListenersOff();

    /** Connections accepted on Fast Open listeners. */
    long getAccepted();

    /** Accepted connections whose SYN carried data (their first request rode in the SYN). */
    long getAcceptedWithSynData();

    /** Requests from SYN data the servlet filter held until the handshake completed. */
    long getEarlyDataHeld();

    /** Requests from SYN data the servlet filter answered with 425 Too Early. */
    long getEarlyDataRejected();

    /** Requests from SYN data whose connection was reset before its handshake (replays): not run. */
    long getEarlyDataDropped();

    /** Requests from SYN data run at once under early-data=allow. */
    long getEarlyDataAllowed();

    /** Client connections given TCP_FASTOPEN_CONNECT. */
    long getConnectionsAttempted();

    /** Client connections whose data in the SYN the server acknowledged. */
    long getSynDataAcknowledged();

    /** Client connections whose SYN asked for a cookie (the first to each server, or a server without Fast Open). */
    long getCookieRequested();

    /** Client connections whose SYN data was not acknowledged, or whose SYN was retransmitted: data went after the handshake. */
    long getFallbacks();

    /** Client connections whose SYN left without data: the first operation was a read, the window closed, or early=safe held the write. */
    long getSynWithoutData();

    /** Client connections on listed ports that could not use Fast Open (the log says why). */
    long getConnectionsOff();
}
