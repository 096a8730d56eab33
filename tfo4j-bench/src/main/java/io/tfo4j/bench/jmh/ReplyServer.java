package io.tfo4j.bench.jmh;

import io.tfo4j.FastOpen;
import io.tfo4j.FastOpenStatus;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A one-thread request/reply server for the benchmark: accepts a connection, reads a request of a fixed
 * size, writes a reply of a fixed size, closes, and accepts the next. It serves one connection at a time,
 * like the single benchmark thread that calls it.
 *
 * <p>The listener is opened by the thread that calls {@link #start}, so it lives in that thread's network
 * namespace; the accept loop runs on its own platform thread and stops when {@link #close()} closes the
 * listener.
 */
public final class ReplyServer implements AutoCloseable {
    private static final int BACKLOG = 1024;
    private static final long STOP_WAIT_MILLIS = 5_000;
    /** A listener that fails this often in a row (EMFILE, say) would only spin: the loop gives up. */
    private static final int MAX_ACCEPT_FAILURES_IN_A_ROW = 1_000;

    private final ServerSocketChannel listener;
    private final InetSocketAddress address;
    private final int requestBytes;
    private final ByteBuffer reply;
    private final Thread acceptLoop;
    private final AtomicLong served = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private volatile IOException firstFailure;

    private ReplyServer(ServerSocketChannel listener, int requestBytes, int replyBytes) throws IOException {
        this.listener = listener;
        this.address = (InetSocketAddress) listener.getLocalAddress();
        this.requestBytes = requestBytes;
        this.reply = ByteBuffer.allocateDirect(replyBytes);
        for (int i = 0; i < replyBytes; i++) {
            reply.put(i, (byte) ('a' + i % 26));
        }
        this.acceptLoop = Thread.ofPlatform().daemon().name("reply-server-" + address.getPort()).unstarted(this::serve);
    }

    /**
     * Opens a listener on {@code 127.0.0.1}, an ephemeral port, in the calling thread's namespace, and starts
     * its accept loop.
     *
     * @param fastOpenQueue 0 for a plain listener; otherwise the Fast Open queue length passed to
     *                      {@link FastOpen#enableServer}, which must report Fast Open active
     * @throws IllegalStateException when Fast Open was asked for but the listener does not accept it, with
     *                               tfo4j's reason
     */
    public static ReplyServer start(int fastOpenQueue, int requestBytes, int replyBytes) throws IOException {
        ServerSocketChannel listener = ServerSocketChannel.open();
        try {
            listener.bind(new InetSocketAddress("127.0.0.1", 0), BACKLOG);
            if (fastOpenQueue > 0) {
                FastOpenStatus status = FastOpen.enableServer(listener, fastOpenQueue);
                if (!status.active()) {
                    throw new IllegalStateException("the Fast Open listener is not active: " + status.reason()
                            + " (remedy: " + status.remedy() + ")");
                }
            }
            ReplyServer server = new ReplyServer(listener, requestBytes, replyBytes);
            server.acceptLoop.start();
            return server;
        } catch (IOException | RuntimeException e) {
            listener.close();
            throw e;
        }
    }

    /** Where the listener is bound. */
    public InetSocketAddress address() {
        return address;
    }

    /** Connections answered so far. */
    public long served() {
        return served.get();
    }

    /** Connections that failed (the client closed early, a reset), or 0. */
    public long failed() {
        return failed.get();
    }

    /** The first failure of a connection, or null. */
    public IOException firstFailure() {
        return firstFailure;
    }

    private void serve() {
        ByteBuffer request = ByteBuffer.allocateDirect(requestBytes);
        ByteBuffer replyView = reply.duplicate();
        int acceptFailuresInARow = 0;
        while (listener.isOpen() && acceptFailuresInARow < MAX_ACCEPT_FAILURES_IN_A_ROW) {
            SocketChannel connection;
            try {
                connection = listener.accept();
                acceptFailuresInARow = 0;
            } catch (ClosedChannelException stopped) {
                // close() closed the listener (AsynchronousCloseException is a ClosedChannelException)
                return;
            } catch (IOException e) {
                recordFailure(e);
                acceptFailuresInARow++;
                continue;
            }
            try (connection) {
                request.clear();
                while (request.hasRemaining()) {
                    if (connection.read(request) < 0) {
                        throw new IOException("the client closed after " + request.position() + " of "
                                + requestBytes + " request bytes");
                    }
                }
                replyView.clear();
                while (replyView.hasRemaining()) {
                    connection.write(replyView);
                }
                served.incrementAndGet();
            } catch (IOException e) {
                recordFailure(e);
            }
        }
    }

    private void recordFailure(IOException e) {
        if (failed.getAndIncrement() == 0) {
            firstFailure = e;
        }
    }

    /** Closes the listener and waits (at most 5 s) for the accept loop to end. */
    @Override
    public void close() throws IOException {
        listener.close();
        try {
            acceptLoop.join(STOP_WAIT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (acceptLoop.isAlive()) {
            throw new IOException(acceptLoop.getName() + " did not stop within " + STOP_WAIT_MILLIS + " ms");
        }
    }
}
