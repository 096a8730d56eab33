package io.tfo4j;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import javax.net.SocketFactory;

/**
 * A {@link SocketFactory} whose sockets use TCP Fast Open: hand it to any library that takes one (OkHttp,
 * Apache HttpClient, Commons Net, JDBC drivers) and its connections send their first bytes in the SYN
 * once the kernel has a cookie for the server.
 *
 * <p>The sockets are safe with protocols where the server speaks first (FTP, SMTP): a read before any
 * write sends the SYN first, so nothing hangs. A refused or silent server fails with
 * {@link java.net.ConnectException} or {@link java.net.SocketTimeoutException} as with a plain socket, on
 * connect or, when Fast Open deferred the connect, on the first read or write.
 *
 * <p>Needs Linux 4.11+ and the sysctl bit 0x1 (the usual default). Where Fast Open is not possible the
 * sockets are plain TCP sockets, and {@link ClientOutcome#of(Socket)} says why.
 */
public class FastOpenSocketFactory extends SocketFactory {
    private final boolean fastOpen;

    /** A factory whose sockets use Fast Open where the host can. */
    public FastOpenSocketFactory() {
        this(true);
    }

    /** A factory whose sockets use Fast Open ({@code true}) or are plain ({@code false}, for comparisons). */
    public FastOpenSocketFactory(boolean fastOpen) {
        this.fastOpen = fastOpen;
    }

    @Override
    public Socket createSocket() throws IOException {
        return new FastOpenSocket(fastOpen);
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
