package io.tfo4j.http;

import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.QuietException;
import org.eclipse.jetty.io.ssl.SslConnection;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The deadline for one connection's request head (request line and headers), as nginx's
 * {@code client_header_timeout} and Apache's {@code mod_reqtimeout} have it. Jetty's idle timeout starts again
 * at every byte read, so a client that sends one byte just inside every idle timeout holds a connection, and a
 * descriptor, for ever; Jetty 12 has nothing that bounds the head as a whole ({@code HttpConfiguration} has the
 * idle timeout and minimum data rates, which {@code MinimumDataRateHandler} applies to bodies once the head has
 * been handled), hence this.
 *
 * <p>The clock starts when the connection opens and, on a kept-alive HTTP/1 connection, at the first bytes read
 * after the previous exchange completed; it stops when the head has been parsed and the request reaches
 * {@link HeadCompleteHandler} (the first handler of the chain). A connection whose head is late is answered
 * {@code 408 Request Timeout} and closed ({@link FastOpenServerConnector} looks every tenth of the timeout);
 * under TLS, where writing an answer needs the TLS session, it is closed without one, and the deadline covers
 * the TLS handshake and the first request only (HTTP/2 streams run side by side, and a stream does not own the
 * connection).
 */
final class RequestHeadDeadline {
    private static final int WAITING = 0;
    private static final int HANDLING = 1;
    private static final int BETWEEN_REQUESTS = 2;
    private static final int EXPIRED = 3;
    private static final int OVER = 4;

    private static final byte[] REQUEST_TIMEOUT = ("HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n"
            + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII);

    private final long timeoutNanos;
    private final AtomicInteger state = new AtomicInteger(WAITING);
    /** Requests whose head is complete and whose exchange is not: more than one when requests are pipelined. */
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile long deadline;

    /** Starts the clock for the connection's first request head. */
    RequestHeadDeadline(long timeoutNanos) {
        this.timeoutNanos = timeoutNanos;
        this.deadline = System.nanoTime() + timeoutNanos;
    }

    /** Bytes came in: the first ones after an exchange start the clock for the next head. */
    void bytesRead() {
        if (state.get() == BETWEEN_REQUESTS) {
            deadline = System.nanoTime() + timeoutNanos;
            state.compareAndSet(BETWEEN_REQUESTS, WAITING);
        }
    }

    /** The head is complete: stops the clock; false when it had already run out (the connection is closing). */
    boolean headComplete() {
        inFlight.incrementAndGet();
        while (true) {
            int now = state.get();
            if (now == EXPIRED) {
                inFlight.decrementAndGet();
                return false;
            }
            if (now != WAITING && now != BETWEEN_REQUESTS) {
                return true; // HTTP/2 streams after the first, or a second head while one request runs
            }
            if (state.compareAndSet(now, HANDLING)) {
                return true;
            }
        }
    }

    /**
     * An exchange completed; when no other is in flight (a pipelined request may already be running) and
     * {@code another}, the connection's next head gets a deadline too.
     */
    void exchangeComplete(boolean another) {
        if (inFlight.decrementAndGet() == 0 || !another) {
            state.compareAndSet(HANDLING, another ? BETWEEN_REQUESTS : OVER);
        }
    }

    /**
     * When the head is late at {@code now}, marks it so (once) and answers 408 and closes {@code endPoint}, the
     * network endpoint of the connection; under TLS only closes it.
     */
    void expireIfLate(EndPoint endPoint, long now) {
        if (state.get() != WAITING || now - deadline < 0 || !state.compareAndSet(WAITING, EXPIRED)) {
            return;
        }
        if (endPoint.getConnection() instanceof SslConnection) {
            endPoint.close();
            return;
        }
        try {
            endPoint.write(Callback.from(endPoint::close, failure -> endPoint.close()), ByteBuffer.wrap(REQUEST_TIMEOUT));
        } catch (RuntimeException e) {
            endPoint.close(); // a write in progress: nothing to add to it
        }
    }

    /** The network endpoint under {@code endPoint}: itself, or the one under TLS. */
    static EndPoint networkEndPoint(EndPoint endPoint) {
        return endPoint instanceof SslConnection.SslEndPoint tls ? tls.getSslConnection().getEndPoint() : endPoint;
    }

    /**
     * The first handler of the chain: tells each request's connection deadline that its head is complete, and
     * when the exchange completed. A request whose deadline ran out while it was being parsed is dropped (the
     * connection has its 408 and is closing).
     */
    static final class HeadCompleteHandler extends Handler.Wrapper {
        HeadCompleteHandler(Handler next) {
            super(next);
        }

        @Override
        public boolean handle(Request request, Response response, Callback callback) throws Exception {
            EndPoint endPoint = networkEndPoint(request.getConnectionMetaData().getConnection().getEndPoint());
            if (!(endPoint instanceof PromptCloseEndPoint prompt) || prompt.headDeadline() == null) {
                return super.handle(request, response, callback);
            }
            RequestHeadDeadline deadline = prompt.headDeadline();
            if (!deadline.headComplete()) {
                endPoint.close();
                callback.failed(new Late());
                return true;
            }
            boolean http1 = !(endPoint.getConnection() instanceof SslConnection);
            Request.addCompletionListener(request, failure -> deadline.exchangeComplete(http1 && failure == null));
            return super.handle(request, response, callback);
        }
    }

    /** Expected: the connection already had its 408. */
    private static final class Late extends IOException implements QuietException {
        Late() {
            super("tfo4j: the request head came after its deadline");
        }
    }
}
