package io.tfo4j;

import io.tfo4j.lab.NetNamespace;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A test server inside a namespace: for each connection it records how the connection came in
 * (ServerOutcome, read right after accept), reads everything until EOF, and answers with the byte count
 * (8 bytes) and the SHA-256 (32 bytes) of what it read, so the client can prove every byte arrived.
 */
final class DigestServer implements AutoCloseable {
    static final int REPLY_BYTES = 40;

    record Received(ServerOutcome outcome, long bytes, byte[] sha256) {
    }

    /** What a client learned: the server's byte count and digest, and the client's own outcome. */
    record Reply(long bytesConfirmed, byte[] sha256, ClientOutcome outcome) {
    }

    /** Client side, on a thread in the client's namespace: dials, sends, half-closes, reads the digest. */
    static Reply send(FastOpenDialer dialer, InetSocketAddress server, byte[] payload) throws IOException {
        try (SocketChannel channel = dialer.dial(server, payload)) {
            channel.shutdownOutput();
            return readReply(Channels.newInputStream(channel), ClientOutcome.of(channel));
        }
    }

    static Reply readReply(InputStream in, ClientOutcome outcome) throws IOException {
        DataInputStream data = new DataInputStream(in);
        long count = data.readLong();
        byte[] sha = new byte[32];
        data.readFully(sha);
        return new Reply(count, sha, outcome);
    }

    private final ServerSocket listener;
    private final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
    private final Future<?> loop;

    DigestServer(NetNamespace namespace, ServerSocket listener) {
        this.listener = listener;
        this.loop = namespace.submit(() -> {
            serve();
            return null;
        });
    }

    int port() {
        return listener.getLocalPort();
    }

    InetSocketAddress address() {
        return new InetSocketAddress(listener.getInetAddress(), listener.getLocalPort());
    }

    private void serve() throws IOException, NoSuchAlgorithmException {
        while (!listener.isClosed()) {
            Socket socket;
            try {
                socket = listener.accept();
            } catch (IOException e) {
                if (listener.isClosed()) {
                    return;
                }
                throw e;
            }
            try (socket) {
                ServerOutcome outcome = ServerOutcome.of(socket);
                MessageDigest digest = MessageDigest.getInstance("SHA-256");
                long count = 0;
                InputStream in = socket.getInputStream();
                byte[] buffer = new byte[16 * 1024];
                for (int n; (n = in.read(buffer)) > 0; ) {
                    digest.update(buffer, 0, n);
                    count += n;
                }
                byte[] sha = digest.digest();
                DataOutputStream out = new DataOutputStream(socket.getOutputStream());
                out.writeLong(count);
                out.write(sha);
                out.flush();
                received.add(new Received(outcome, count, sha));
            }
        }
    }

    /** The next connection the server finished, waiting at most 20 s. */
    Received next() throws InterruptedException {
        Received next = received.poll(20, TimeUnit.SECONDS);
        if (next == null) {
            throw new AssertionError("the server finished no connection within 20 s");
        }
        return next;
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        loop.cancel(true);
    }
}
