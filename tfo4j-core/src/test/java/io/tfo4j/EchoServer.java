package io.tfo4j;

import io.tfo4j.lab.NetNamespace;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A Fast Open test server inside a namespace that answers each request byte-exact: it reads everything
 * until the client half-closes and writes it back. Each connection is served on its own virtual thread,
 * so hundreds can be open at once; it counts the accepted connections whose SYN carried data (TCP_INFO),
 * for a cross-check against the clients' outcomes and the kernel counters.
 */
final class EchoServer implements AutoCloseable {
    private static final int SO_TIMEOUT_MILLIS = 30_000;

    private final ServerSocketChannel listener;
    private final ExecutorService handlers = Executors.newVirtualThreadPerTaskExecutor();
    private final Future<?> acceptLoop;
    private final AtomicInteger accepted = new AtomicInteger();
    private final AtomicInteger withSynData = new AtomicInteger();
    private final AtomicInteger failed = new AtomicInteger();

    private EchoServer(NetNamespace namespace, ServerSocketChannel listener) {
        this.listener = listener;
        this.acceptLoop = namespace.submit(() -> {
            acceptAll();
            return null;
        });
    }

    /**
     * Opens a listener on {@code address} in {@code namespace} with an accept backlog of {@code backlog} and
     * a Fast Open queue of {@code fastOpenQueue}, and starts serving.
     */
    static EchoServer start(NetNamespace namespace, String address, int backlog, int fastOpenQueue) throws IOException {
        ServerSocketChannel listener = namespace.call(() -> {
            ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.INET);
            try {
                channel.bind(new InetSocketAddress(InetAddress.getByName(address), 0), backlog);
                FastOpenStatus status = FastOpen.enableServer(channel, fastOpenQueue);
                if (!status.active()) {
                    throw new IOException("Fast Open is off on the test listener: " + status.reason());
                }
                return channel;
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
        });
        return new EchoServer(namespace, listener);
    }

    InetSocketAddress address() throws IOException {
        return (InetSocketAddress) listener.getLocalAddress();
    }

    private void acceptAll() throws IOException {
        while (listener.isOpen()) {
            SocketChannel channel;
            try {
                channel = listener.accept();
            } catch (IOException e) {
                if (!listener.isOpen()) {
                    return;
                }
                throw e;
            }
            accepted.incrementAndGet();
            handlers.submit(() -> echo(channel));
        }
    }

    private void echo(SocketChannel channel) {
        try (channel) {
            if (ServerOutcome.of(channel).synData()) {
                withSynData.incrementAndGet();
            }
            Socket socket = channel.socket();
            socket.setSoTimeout(SO_TIMEOUT_MILLIS);
            InputStream in = socket.getInputStream();
            byte[] request = in.readAllBytes();
            ByteBuffer answer = ByteBuffer.wrap(request);
            while (answer.hasRemaining()) {
                channel.write(answer);
            }
        } catch (IOException e) {
            failed.incrementAndGet();
        }
    }

    /** Connections accepted so far. */
    int accepted() {
        return accepted.get();
    }

    /** Accepted connections whose SYN carried data the server took (TCPI_OPT_SYN_DATA on the child). */
    int withSynData() {
        return withSynData.get();
    }

    /** Connections whose echo failed with an IOException (timeout, reset). */
    int failed() {
        return failed.get();
    }

    /** What a client got back, and its Fast Open outcome read after the answer arrived. */
    record Answer(byte[] bytes, ClientOutcome outcome) {
    }

    /**
     * Client side, on a thread in the client's namespace: dials with {@code request} as the initial data (in
     * the SYN when it can), half-closes, and reads the whole answer, each read waiting at most {@code timeout}.
     */
    static Answer request(FastOpenDialer dialer, InetSocketAddress server, byte[] request, Duration timeout)
            throws IOException {
        try (SocketChannel channel = dialer.dial(server, request)) {
            channel.shutdownOutput();
            Socket socket = channel.socket();
            socket.setSoTimeout((int) timeout.toMillis());
            byte[] answer = socket.getInputStream().readAllBytes();
            return new Answer(answer, ClientOutcome.of(channel));
        }
    }

    @Override
    public void close() throws IOException {
        try {
            listener.close();
        } finally {
            acceptLoop.cancel(true);
            handlers.shutdownNow();
            try {
                handlers.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
