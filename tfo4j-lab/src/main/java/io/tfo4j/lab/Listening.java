package io.tfo4j.lab;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.TimeUnit;

/** Waits until a server started in a namespace accepts connections. */
public final class Listening {
    private static final long TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(20);

    private Listening() {
    }

    /**
     * Connects to {@code address:port} from inside {@code namespace} until it works (at most 20 s).
     *
     * @throws IOException when {@code process} (if any) exits first, or nothing answers in time
     */
    public static void await(NetNamespace namespace, String address, int port, Process process) throws IOException {
        long deadline = System.nanoTime() + TIMEOUT_NANOS;
        while (System.nanoTime() < deadline) {
            if (process != null && !process.isAlive()) {
                throw new IOException("the server exited (code " + process.exitValue() + ") before it listened on "
                        + address + ":" + port);
            }
            boolean up = namespace.call(() -> {
                try (Socket socket = new Socket()) {
                    socket.connect(new InetSocketAddress(address, port), 200);
                    return true;
                } catch (IOException e) {
                    return false;
                }
            });
            if (up) {
                return;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for " + address + ":" + port, e);
            }
        }
        throw new IOException("nothing listens on " + address + ":" + port + " in " + namespace + " after 20 s");
    }
}
