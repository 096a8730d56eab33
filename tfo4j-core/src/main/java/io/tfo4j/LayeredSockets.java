package io.tfo4j;

import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * Finds the tfo4j socket under a socket layered on it: the {@code SSLSocket} that
 * {@code SSLSocketFactory.createSocket(socket, host, port, autoClose)} makes, as OkHttp, Apache HttpClient
 * and most TLS code do. The JDK has no public way from such a socket to the one under it, but it reports
 * that socket's local and remote addresses as its own; among the open {@link FastOpenSocket}s, the one
 * with both is the transport.
 *
 * <p>The set of open sockets holds them weakly (a socket dropped without close does not leak) and each
 * socket leaves it when closed. Looking up scans it: it holds the sockets this JVM has open through
 * tfo4j's factory, a few hundred at most for a client.
 */
final class LayeredSockets {
    private static final Set<FastOpenSocket> OPEN =
            Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));

    private LayeredSockets() {
    }

    static void opened(FastOpenSocket socket) {
        OPEN.add(socket);
    }

    static void closed(FastOpenSocket socket) {
        OPEN.remove(socket);
    }

    /**
     * The open tfo4j socket whose addresses {@code layered} reports, or null when there is none (the
     * layered socket is on another kind of socket, or made its own connection).
     *
     * @throws SocketException when {@code layered} is not connected, or when two open tfo4j sockets have
     *                         its addresses (possible only in two network namespaces of one JVM)
     */
    static Socket transportOf(Socket layered) throws SocketException {
        SocketAddress remote = layered.getRemoteSocketAddress();
        SocketAddress local = layered.getLocalSocketAddress();
        if (remote == null || local == null) {
            throw new SocketException("the socket is not connected, so no connection is under it yet");
        }
        List<FastOpenSocket> matches = new ArrayList<>(1);
        synchronized (OPEN) {
            for (FastOpenSocket candidate : OPEN) {
                if (candidate != layered && remote.equals(candidate.getRemoteSocketAddress())
                        && local.equals(candidate.getLocalSocketAddress())) {
                    matches.add(candidate);
                }
            }
        }
        if (matches.size() > 1) {
            throw new SocketException("two open tfo4j sockets have the addresses " + local + " -> " + remote
                    + " (in two network namespaces?): read the outcome from the socket the TLS socket was layered on");
        }
        return matches.isEmpty() ? null : matches.getFirst();
    }
}
