package io.tfo4j;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import javax.net.SocketFactory;

/**
 * A {@link SocketFactory} whose sockets use TCP Fast Open: hand it to any library that takes one (OkHttp,
 * Apache HttpClient, Commons Net, JDBC drivers) and its connections send their first bytes in the SYN
 * once the kernel has a cookie for the server.
 *
 * <p>The sockets are safe with protocols where the server speaks first (FTP, SMTP): a read before any
 * write sends the SYN first, and a socket left unused after connect sends its SYN when the first-write
 * window closes (the server may have to see it first, as with FTP data connections), so nothing hangs. A refused or silent server fails with
 * {@link java.net.ConnectException} or {@link java.net.SocketTimeoutException} as with a plain socket, on
 * connect or, when Fast Open deferred the connect, on the first read or write.
 *
 * <p>Needs Linux 4.11+ and the sysctl bit 0x1 (the usual default). Where Fast Open is not possible the
 * sockets are plain TCP sockets, and {@link ClientOutcome#of(Socket)} says why.
 */
public class FastOpenSocketFactory extends SocketFactory {
    /**
     * How long a socket whose connect was deferred waits for its first write before sending the SYN
     * without data: long enough for a client that writes right after connect (HTTP; TLS in a warm JVM),
     * short enough not to stall one that waits for the server to act on the new connection first. A TLS
     * client's first write is its ClientHello, which a cold JVM may take tens of milliseconds to make; a
     * client that always writes first (HTTP, HTTPS) loses nothing with a longer window, e.g. one second.
     * {@link ClientOutcome#of(java.net.Socket)} says when the window closed before the first write.
     */
    public static final Duration DEFAULT_FIRST_WRITE_WINDOW = Duration.ofMillis(10);

    private final boolean fastOpen;
    private final Duration firstWriteWindow;
    private final boolean tcpNoDelay;
    private final boolean noCookie;

    /** A factory whose sockets use Fast Open where the host can. */
    public FastOpenSocketFactory() {
        this(true);
    }

    /** A factory whose sockets use Fast Open ({@code true}) or are plain ({@code false}, for comparisons). */
    public FastOpenSocketFactory(boolean fastOpen) {
        this(fastOpen, DEFAULT_FIRST_WRITE_WINDOW);
    }

    /**
     * A factory with its own first-write window (see {@link #DEFAULT_FIRST_WRITE_WINDOW}).
     *
     * @throws IllegalArgumentException when the window is negative
     */
    public FastOpenSocketFactory(boolean fastOpen, Duration firstWriteWindow) {
        this(fastOpen, firstWriteWindow, false, false);
    }

    private FastOpenSocketFactory(boolean fastOpen, Duration firstWriteWindow, boolean tcpNoDelay, boolean noCookie) {
        if (firstWriteWindow.isNegative()) {
            throw new IllegalArgumentException("first-write window must not be negative: " + firstWriteWindow);
        }
        this.fastOpen = fastOpen;
        this.firstWriteWindow = firstWriteWindow;
        this.tcpNoDelay = tcpNoDelay;
        this.noCookie = noCookie;
    }

    /**
     * A factory like this one whose sockets have {@code TCP_NODELAY} set ({@code true}) before they connect.
     * HTTPS clients want it: their request follows the TLS Finished message in a second small write, which
     * Nagle's algorithm holds until the server acknowledges the first, a round trip more. (Like every
     * {@code with} method, it returns a plain {@code FastOpenSocketFactory}, not a copy of a subclass.)
     */
    public FastOpenSocketFactory withTcpNoDelay(boolean on) {
        return new FastOpenSocketFactory(fastOpen, firstWriteWindow, on, noCookie);
    }

    /**
     * A factory like this one whose sockets send their first data in the SYN even without a cookie
     * ({@code TCP_FASTOPEN_NO_COOKIE}, see {@link FastOpen#setNoCookie(Socket, boolean)}): the first connection
     * to a server that accepts data without a cookie takes one round trip. Only on a network where the
     * server trusts every client address; a server that does not accept it acknowledges the SYN without its
     * data, and the data follows the handshake. Needs Linux 4.15+; ignored when Fast Open is off.
     */
    public FastOpenSocketFactory withNoCookie(boolean on) {
        return new FastOpenSocketFactory(fastOpen, firstWriteWindow, tcpNoDelay, on);
    }

    @Override
    public Socket createSocket() throws IOException {
        Socket socket = new FastOpenSocket(fastOpen, firstWriteWindow);
        try {
            if (tcpNoDelay) {
                socket.setTcpNoDelay(true);
            }
            if (noCookie && fastOpen) {
                FastOpen.setNoCookie(socket, true);
            }
            return socket;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        return connected(new InetSocketAddress(host, port), null);
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        return connected(new InetSocketAddress(host, port), new InetSocketAddress(localHost, localPort));
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        return connected(new InetSocketAddress(host, port), null);
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
            throws IOException {
        return connected(new InetSocketAddress(address, port), new InetSocketAddress(localAddress, localPort));
    }

    private Socket connected(InetSocketAddress remote, InetSocketAddress local) throws IOException {
        Socket socket = createSocket();
        try {
            if (local != null) {
                socket.bind(local);
            }
            socket.connect(remote);
            return socket;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }
}
