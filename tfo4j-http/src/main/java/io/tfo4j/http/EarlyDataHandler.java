package io.tfo4j.http;

import io.tfo4j.TcpInfo;
import io.tfo4j.TcpState;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.QuietException;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A Jetty 12 handler that makes Fast Open safe for the handlers it wraps: a request that is not idempotent
 * and arrived in the data of a Fast Open SYN, on a connection whose three-way handshake has not completed,
 * is held, rejected with 425 or run, as its {@link EarlyDataPolicy} says. Every other request passes at
 * once.
 *
 * <pre>{@code
 * server.setHandler(new EarlyDataHandler(EarlyDataPolicy.WAIT, applicationHandler));
 * }</pre>
 *
 * <p>How it knows: the connection's TCP_INFO says whether its SYN carried data ({@code TCPI_OPT_SYN_DATA})
 * and whether the client's final ACK has come ({@code tcpi_state} ESTABLISHED rather than SYN_RECV). Under
 * {@link EarlyDataPolicy#WAIT} it looks again every millisecond, without holding a thread, until the state
 * changes or the handshake timeout (5 s by default: one lost SYN-ACK and its retransmission after the
 * kernel's 1 s timeout fit in it) runs out. Each decision is put on the request as the attribute
 * {@link #DECISION_ATTRIBUTE}, for logs.
 *
 * <p>Under TLS it passes every request: a Fast Open SYN carries the TLS ClientHello there, and a request can
 * only follow a completed TLS handshake, which the client finishes after the TCP handshake.
 *
 * <p>Needs a connector whose endpoints are {@code SocketChannelEndPoint}s (Jetty's {@code ServerConnector})
 * and the JVM flags tfo4j-core needs to read TCP_INFO. Without them no Fast Open listener can exist either,
 * so every request passes.
 */
public final class EarlyDataHandler extends Handler.Wrapper {
    /** The request attribute that names what this handler did with an early request: held, rejected, dropped or allowed. */
    public static final String DECISION_ATTRIBUTE = "io.tfo4j.earlyData";
    /** How long {@link EarlyDataPolicy#WAIT} waits for the handshake by default. */
    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(5);

    /** RFC 9110's safe methods plus PUT and DELETE, which are idempotent. */
    private static final Set<String> IDEMPOTENT_METHODS = Set.of("GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE");
    private static final long POLL_MILLIS = 1;
    /** RFC 8470; Jetty has no constant for it. */
    private static final int TOO_EARLY = 425;

    private final EarlyDataPolicy policy;
    private final long handshakeTimeoutNanos;

    /** Wraps {@code next} with {@code policy} and the default handshake timeout. */
    public EarlyDataHandler(EarlyDataPolicy policy, Handler next) {
        this(policy, DEFAULT_HANDSHAKE_TIMEOUT, next);
    }

    /** Wraps {@code next} with {@code policy}; {@code WAIT} drops a request whose handshake takes longer than {@code handshakeTimeout}. */
    public EarlyDataHandler(EarlyDataPolicy policy, Duration handshakeTimeout, Handler next) {
        super(next);
        this.policy = Objects.requireNonNull(policy, "policy");
        if (handshakeTimeout.isNegative() || handshakeTimeout.isZero()) {
            throw new IllegalArgumentException("handshakeTimeout must be positive, got " + handshakeTimeout);
        }
        this.handshakeTimeoutNanos = handshakeTimeout.toNanos();
    }

    /** The policy this handler applies. */
    public EarlyDataPolicy policy() {
        return policy;
    }

    /** True for the methods that may run from SYN data under any policy. */
    public static boolean idempotent(String method) {
        return IDEMPOTENT_METHODS.contains(method);
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        if (idempotent(request.getMethod())) {
            return super.handle(request, response, callback); // without a getsockopt: most requests are GETs
        }
        ConnectionFacts.RequestFacts facts = ConnectionFacts.of(request);
        // Under TLS no request is early: it came after the TLS handshake, whose client half follows the TCP
        // handshake's final ACK (and neither the JDK nor Jetty does TLS 0-RTT).
        if (!facts.connectionSynData() || facts.tls() || handshakeDone(facts.channel())) {
            return super.handle(request, response, callback);
        }
        switch (policy) {
            case ALLOW -> {
                request.setAttribute(DECISION_ATTRIBUTE, "allowed");
                return super.handle(request, response, callback);
            }
            case REJECT -> {
                request.setAttribute(DECISION_ATTRIBUTE, "rejected");
                Response.writeError(request, response, callback, TOO_EARLY,
                        "Too Early: the request came in a TCP Fast Open SYN before the handshake completed;"
                                + " send it again on this connection");
                return true;
            }
            case WAIT -> {
                new Hold(request, response, callback, facts.channel()).check();
                return true;
            }
        }
        throw new AssertionError(policy);
    }

    private static boolean handshakeDone(SocketChannel channel) {
        TcpState state = stateOf(channel);
        // CLOSE_WAIT too: a FIN is only taken after the ACK that completes the handshake.
        return state == TcpState.ESTABLISHED || state == TcpState.CLOSE_WAIT;
    }

    private static TcpState stateOf(SocketChannel channel) {
        try {
            return TcpInfo.of(channel).state();
        } catch (IOException | RuntimeException e) {
            return TcpState.CLOSE; // the socket is gone
        }
    }

    /** One held request: looks at its connection's state every millisecond on Jetty's scheduler. */
    private final class Hold {
        private final Request request;
        private final Response response;
        private final Callback callback;
        private final SocketChannel channel;
        private final long started = System.nanoTime();

        Hold(Request request, Response response, Callback callback, SocketChannel channel) {
            this.request = request;
            this.response = response;
            this.callback = callback;
            this.channel = channel;
        }

        void check() {
            TcpState state = stateOf(channel);
            long waited = System.nanoTime() - started;
            if (state == TcpState.ESTABLISHED || state == TcpState.CLOSE_WAIT) {
                request.setAttribute(DECISION_ATTRIBUTE, String.format(java.util.Locale.ROOT, "held-%.1fms", waited / 1e6));
                request.getComponents().getExecutor().execute(this::run);
            } else if (state != TcpState.SYN_RECV && state != TcpState.NEW_SYN_RECV) {
                drop("the connection was reset before the handshake completed (state " + state + ")");
            } else if (waited >= handshakeTimeoutNanos) {
                drop("the handshake did not complete within " + TimeUnit.NANOSECONDS.toMillis(handshakeTimeoutNanos) + " ms");
            } else {
                request.getComponents().getScheduler().schedule(this::check, POLL_MILLIS, TimeUnit.MILLISECONDS);
            }
        }

        private void run() {
            try {
                if (!EarlyDataHandler.super.handle(request, response, callback)) {
                    Response.writeError(request, response, callback, HttpStatus.NOT_FOUND_404);
                }
            } catch (Throwable failure) {
                callback.failed(failure);
            }
        }

        private void drop(String why) {
            request.setAttribute(DECISION_ATTRIBUTE, "dropped");
            request.getConnectionMetaData().getConnection().getEndPoint().close();
            callback.failed(new Dropped("tfo4j: dropped a " + request.getMethod() + " that came in a Fast Open SYN: " + why));
        }
    }

    /** Expected, and already in the access log: Jetty logs a quiet exception at debug level only. */
    private static final class Dropped extends IOException implements QuietException {
        Dropped(String message) {
            super(message);
        }
    }
}
