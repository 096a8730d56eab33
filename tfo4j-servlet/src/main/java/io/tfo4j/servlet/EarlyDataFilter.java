package io.tfo4j.servlet;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Locale;
import java.util.Set;

/**
 * A servlet filter that makes TCP Fast Open safe for the servlets behind it (Tomcat, Jetty, Undertow, Spring
 * Boot): a request that is not idempotent, on a connection whose SYN carried data and whose three-way
 * handshake has not completed, may be a replay (RFC 7413 section 6). Such a request waits for the handshake
 * ({@code wait}, the default) and does not run at all if the connection is reset first, which is what
 * happens to a replayed SYN; or is answered {@code 425 Too Early} (RFC 8470), which clients send again
 * after the handshake ({@code reject}); or runs at once ({@code allow}). Every other request passes at once:
 * GET, HEAD, OPTIONS, TRACE, PUT and DELETE, and every request on a connection that did not carry data in
 * its SYN or has completed its handshake.
 *
 * <p><b>Needs the tfo4j agent</b> ({@code -javaagent:tfo4j-agent.jar=listen=PORT}, Java 25): the agent gives
 * the container's listener Fast Open, reads each accepted connection's TCP_INFO, and tells this filter
 * which connections still wait for their handshake, looked up by the request's local port and remote
 * address and port. The agent also runs this filter by itself before every {@code HttpServlet}, so an
 * application needs no change; registering it first in the chain also covers the filters before the
 * servlet. Without the agent it lets every request through and says so once in the servlet log. It must
 * see the socket's own addresses: put it before anything that rewrites the remote address (Spring's
 * {@code ForwardedHeaderFilter}); Tomcat's {@code RemoteIpValve} rewrites it before any filter runs, and
 * then connections that carried SYN data are not found.
 *
 * <p>Init parameters: {@code policy} ({@code wait}, {@code reject} or {@code allow}; by default the agent's
 * {@code early-data} option) and {@code handshake-timeout-ms} (5000: a request still waiting after it is
 * answered 425 and its connection closed). What it did is put on the request as {@link #DECISION_ATTRIBUTE}.
 */
public final class EarlyDataFilter implements Filter {
    /** The request attribute saying what the filter did: "held-Nms", "rejected", "dropped" or "allowed". */
    public static final String DECISION_ATTRIBUTE = "io.tfo4j.earlyData";
    /** The init parameter naming the policy. */
    public static final String POLICY_PARAMETER = "policy";
    /** The init parameter giving the handshake timeout of {@code wait}, in milliseconds. */
    public static final String TIMEOUT_PARAMETER = "handshake-timeout-ms";
    /** How long {@code wait} waits for a handshake by default: one lost SYN-ACK and its resend fit in it. */
    public static final long DEFAULT_HANDSHAKE_TIMEOUT_MILLIS = 5000;

    /** RFC 9110's safe methods plus PUT and DELETE, which are idempotent. */
    private static final Set<String> IDEMPOTENT_METHODS = Set.of("GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE");
    private static final int TOO_EARLY = 425;

    private final AgentConnections connections;
    private volatile String policy;
    private volatile long handshakeTimeoutMillis = DEFAULT_HANDSHAKE_TIMEOUT_MILLIS;

    /** A filter with the agent's policy, or the {@code policy} init parameter. */
    public EarlyDataFilter() {
        this(null);
    }

    /**
     * A filter with {@code policy} ("wait", "reject" or "allow"); null for the agent's.
     *
     * @throws IllegalArgumentException for any other policy
     */
    public EarlyDataFilter(String policy) {
        this.connections = AgentConnections.find();
        this.policy = policy == null ? null : checkedPolicy(policy);
    }

    private static String checkedPolicy(String policy) {
        String lower = policy.trim().toLowerCase(Locale.ROOT);
        if (!Set.of("wait", "reject", "allow").contains(lower)) {
            throw new IllegalArgumentException("early-data policy '" + policy + "' is not wait, reject or allow");
        }
        return lower;
    }

    @Override
    public void init(FilterConfig config) throws ServletException {
        try {
            String configured = config.getInitParameter(POLICY_PARAMETER);
            if (configured != null) {
                policy = checkedPolicy(configured);
            }
            String timeout = config.getInitParameter(TIMEOUT_PARAMETER);
            if (timeout != null) {
                handshakeTimeoutMillis = Long.parseLong(timeout.trim());
                if (handshakeTimeoutMillis <= 0) {
                    throw new IllegalArgumentException(TIMEOUT_PARAMETER + " must be positive, got " + timeout);
                }
            }
        } catch (IllegalArgumentException e) {
            throw new ServletException("tfo4j EarlyDataFilter: " + e.getMessage(), e);
        }
        if (connections.absence() != null) {
            config.getServletContext().log("tfo4j EarlyDataFilter: " + connections.absence());
        }
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        if (admit(request, response)) {
            chain.doFilter(request, response);
        }
    }

    /**
     * Decides about one request, waiting for the handshake where the policy says so.
     *
     * @return true to run the request now; false when it was answered 425 or must not run (its connection
     *         was reset before its handshake)
     */
    public boolean admit(ServletRequest request, ServletResponse response) throws IOException {
        if (!(request instanceof HttpServletRequest http) || !(response instanceof HttpServletResponse httpResponse)
                || request.getAttribute(DECISION_ATTRIBUTE) != null || IDEMPOTENT_METHODS.contains(http.getMethod())) {
            return true;
        }
        int localPort = request.getLocalPort();
        String remoteAddress = request.getRemoteAddr();
        int remotePort = request.getRemotePort();
        int state = connections.state(localPort, remoteAddress, remotePort);
        if (state == connections.none) {
            return true;
        }
        String chosen = policy != null ? policy : connections.policy();
        if (state == connections.reset) {
            return decide(request, "dropped", false);
        }
        switch (chosen) {
            case "allow":
                return decide(request, "allowed", true);
            case "reject":
                tooEarly(httpResponse);
                return decide(request, "rejected", false);
            default:
                long start = System.nanoTime();
                state = connections.awaitHandshake(localPort, remoteAddress, remotePort, handshakeTimeoutMillis);
                if (state == connections.none) {
                    long micros = (System.nanoTime() - start) / 1000;
                    request.setAttribute(DECISION_ATTRIBUTE, String.format(Locale.ROOT, "held-%.1fms", micros / 1000.0));
                    connections.decided("held");
                    return true;
                }
                if (state == connections.waiting) {
                    tooEarly(httpResponse);
                    return decide(request, "rejected", false);
                }
                return decide(request, "dropped", false);
        }
    }

    private boolean decide(ServletRequest request, String decision, boolean run) {
        request.setAttribute(DECISION_ATTRIBUTE, decision);
        connections.decided(decision);
        return run;
    }

    private static void tooEarly(HttpServletResponse response) throws IOException {
        if (!response.isCommitted()) {
            response.setHeader("Connection", "close");
            response.sendError(TOO_EARLY, "Too Early: the request came in TCP Fast Open data; send it again");
        }
    }
}
