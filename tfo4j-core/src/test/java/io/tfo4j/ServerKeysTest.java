package io.tfo4j;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Per-listener Fast Open keys on real sockets: read-back, the option's length rules, and, in a pair of
 * namespaces (client tcp_fastopen=1, server 3), that a cookie issued under key K is accepted by another
 * listener holding K, refused by one holding only K2, and accepted through the backup slot (counted as
 * TCPFastOpenPassiveAltKey) by one holding K2 primary + K backup. Checked with the client's TCP_INFO and
 * the server namespace's counters.
 */
class ServerKeysTest {
    private static final FastOpenKey K = FastOpenKey.fromHex("00112233445566778899aabbccddeeff");
    private static final FastOpenKey K2 = FastOpenKey.fromHex("ffeeddccbbaa99887766554433221100");

    @Test
    void keysReadBackAsSetBeforeAndAfterBindAndASinglePrimaryDropsTheBackup() throws IOException {
        try (ServerSocketChannel listener = ServerSocketChannel.open()) {
            assertEquals(Optional.empty(), FastOpen.serverKeys(listener), "a new listener has no key of its own");
            FastOpen.setServerKeys(listener, K, null);
            assertEquals(Optional.of(new FastOpenKeys(K, null)), FastOpen.serverKeys(listener));
            listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            FastOpen.enableServer(listener, 16);
            assertEquals(Optional.of(new FastOpenKeys(K, null)), FastOpen.serverKeys(listener), "kept by bind");
            FastOpen.setServerKeys(listener, K2, K);
            assertEquals(Optional.of(new FastOpenKeys(K2, K)), FastOpen.serverKeys(listener), "set on a live listener");
            FastOpen.setServerKeys(listener, K2, null);
            assertEquals(Optional.of(new FastOpenKeys(K2, null)), FastOpen.serverKeys(listener),
                    "16 bytes after 32 drop the backup");
        }
        try (ServerSocket socket = new ServerSocket()) {
            FastOpen.setServerKeys(socket, K2, K);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            assertEquals(Optional.of(new FastOpenKeys(K2, K)), FastOpen.serverKeys(socket), "java.net.ServerSocket");
        }
    }

    @Test
    void aBadLengthIsEinvalNamedInTheException() throws IOException {
        try (ServerSocketChannel listener = ServerSocketChannel.open()) {
            int fd = FileDescriptors.of(listener);
            for (int length : new int[]{0, 8, 15, 17, 31, 33, 48}) {
                SyscallException e = assertThrows(SyscallException.class,
                        () -> FastOpen.setServerKeyBytes(fd, new byte[length]), "length " + length);
                assertEquals("setsockopt(TCP_FASTOPEN_KEY) failed: EINVAL (22): Invalid argument", e.getMessage());
                assertEquals("EINVAL", e.errnoName());
            }
            assertEquals(Optional.empty(), FastOpen.serverKeys(listener), "a refused set changes nothing");
        }
    }

    @Test
    void noCookieModeIsRefusedWithEinvalOnceConnected() throws IOException {
        try (ServerSocketChannel listener = ServerSocketChannel.open()
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
             SocketChannel client = SocketChannel.open()) {
            FastOpen.setNoCookie(listener, true);
            FastOpen.setNoCookie(listener, false);
            FastOpen.setNoCookie(client, true);
            client.connect(listener.getLocalAddress());
            SyscallException e = assertThrows(SyscallException.class, () -> FastOpen.setNoCookie(client, false));
            assertEquals("setsockopt(TCP_FASTOPEN_NO_COOKIE) failed: EINVAL (22): Invalid argument", e.getMessage());
        }
    }

    @Test
    void aCookieFromOneListenerWorksAtAnotherWithTheSameKeyAndNotWithAnother() throws Exception {
        try (TwoHosts hosts = TwoHosts.create(1, 3)) {
            Round first = round(hosts, 0, K, null);
            assertEquals(ClientOutcome.Result.COOKIE_REQUESTED, first.client, first.toString());
            assertEquals(1, first.server.cookieReqd(), first.toString());

            Round sameKey = round(hosts, first.port, K, null);
            assertEquals(ClientOutcome.Result.SYN_DATA_ACKED, sameKey.client, sameKey.toString());
            assertTrue(sameKey.synDataAtServer, sameKey.toString());
            assertEquals(1, sameKey.server.passive(), sameKey.toString());
            assertEquals(0, sameKey.server.passiveFail(), sameKey.toString());

            Round otherKey = round(hosts, first.port, K2, null);
            assertNotEquals(ClientOutcome.Result.SYN_DATA_ACKED, otherKey.client, otherKey.toString());
            assertEquals(ClientOutcome.Result.DATA_NOT_ACKED, otherKey.client, otherKey.toString());
            assertTrue(otherKey.server.passiveFail() > 0, otherKey.toString());
            assertEquals(0, otherKey.server.passive(), otherKey.toString());
        }
    }

    @Test
    void aCookieUnderTheBackupKeyIsAcceptedAndReplacedByAPrimaryOne() throws Exception {
        try (TwoHosts hosts = TwoHosts.create(1, 3)) {
            Round first = round(hosts, 0, K, null);
            assertEquals(ClientOutcome.Result.COOKIE_REQUESTED, first.client, first.toString());

            Round rotated = round(hosts, first.port, K2, K);
            assertEquals(ClientOutcome.Result.SYN_DATA_ACKED, rotated.client, rotated.toString());
            assertEquals(1, rotated.server.passive(), rotated.toString());
            assertEquals(1, rotated.server.passiveAltKey(), rotated.toString());
            assertEquals(0, rotated.server.passiveFail(), rotated.toString());

            // The backup-key SYN got a fresh primary (K2) cookie back, so K2 alone now accepts the data.
            Round promoted = round(hosts, first.port, K2, null);
            assertEquals(ClientOutcome.Result.SYN_DATA_ACKED, promoted.client, promoted.toString());
            assertEquals(1, promoted.server.passive(), promoted.toString());
            assertEquals(0, promoted.server.passiveAltKey(), promoted.toString());
            assertEquals(0, promoted.server.passiveFail(), promoted.toString());
        }
    }

    @Test
    void noCookieModeOnBothSidesCarriesTheFirstConnectionsDataInTheSyn() throws Exception {
        try (TwoHosts hosts = TwoHosts.create(1, 3)) {
            Round withoutServerMode = round(hosts, 0, null, null, false, true);
            assertNotEquals(ClientOutcome.Result.SYN_DATA_ACKED, withoutServerMode.client, withoutServerMode.toString());
            assertEquals(0, withoutServerMode.server.passive(), withoutServerMode.toString());
        }
        try (TwoHosts hosts = TwoHosts.create(1, 3)) {
            Round first = round(hosts, 0, null, null, true, true);
            assertEquals(ClientOutcome.Result.SYN_DATA_ACKED, first.client, first.toString());
            assertTrue(first.synDataAtServer, first.toString());
            assertEquals(1, first.server.passive(), first.toString());
            assertEquals(0, first.server.cookieReqd(), first.toString());
        }
    }

    @Test
    void theDialerWithNoCookieCarriesTheFirstConnectionsDataInTheSyn() throws Exception {
        try (TwoHosts hosts = TwoHosts.create(1, 3)) {
            Round first = round(hosts, 0, null, null, true, true, Client.DIALER);
            assertEquals(ClientOutcome.Result.SYN_DATA_ACKED, first.client, first.toString());
            assertTrue(first.synDataAtServer, first.toString());
            assertEquals(1, first.server.passive(), first.toString());
            assertEquals(0, first.server.cookieReqd(), first.toString());
        }
    }

    @Test
    void theSocketFactoryWithNoCookieCarriesTheFirstConnectionsDataInTheSyn() throws Exception {
        try (TwoHosts hosts = TwoHosts.create(1, 3)) {
            Round first = round(hosts, 0, null, null, true, true, Client.SOCKET_FACTORY);
            assertEquals(ClientOutcome.Result.SYN_DATA_ACKED, first.client, first.toString());
            assertTrue(first.synDataAtServer, first.toString());
            assertEquals(0, first.server.cookieReqd(), first.toString());
        }
        try (TwoHosts hosts = TwoHosts.create(1, 3)) {
            Round withoutClientMode = round(hosts, 0, null, null, true, false, Client.SOCKET_FACTORY);
            assertEquals(ClientOutcome.Result.COOKIE_REQUESTED, withoutClientMode.client, withoutClientMode.toString());
        }
    }

    @Test
    void theSysctlTextWithLittleEndianWordsIsTheSameKeyAsTheSocketOption() throws Exception {
        try (TwoHosts hosts = TwoHosts.create(1, 3)) {
            String text = FastOpenKey.toSysctlText(K, null);
            hosts.server.setSysctl("net/ipv4/tcp_fastopen_key", text);
            assertEquals(new FastOpenKeys(K, null),
                    FastOpenKey.fromSysctlText(hosts.server.sysctl("net/ipv4/tcp_fastopen_key")));

            Round namespaceKey = round(hosts, 0, null, null);
            assertEquals(ClientOutcome.Result.COOKIE_REQUESTED, namespaceKey.client, namespaceKey.toString());

            Round listenerKey = round(hosts, namespaceKey.port, K, null);
            assertEquals(ClientOutcome.Result.SYN_DATA_ACKED, listenerKey.client, listenerKey.toString());
            assertEquals(0, listenerKey.server.passiveFail(), listenerKey.toString());

            // The mistake FLEET-NOTES measured: the sysctl's hex copied as the key bytes.
            FastOpenKey copiedText = FastOpenKey.fromHex(text.replace("-", ""));
            Round wrong = round(hosts, namespaceKey.port, copiedText, null);
            assertEquals(ClientOutcome.Result.DATA_NOT_ACKED, wrong.client, wrong.toString());
            assertTrue(wrong.server.passiveFail() > 0, wrong.toString());
        }
    }

    /** What one connection did: the client's outcome and the server namespace's counter changes. */
    private record Round(int port, ClientOutcome.Result client, String reason, boolean synDataAtServer,
                         FastOpenCounters server) {
    }

    private static Round round(TwoHosts hosts, int port, FastOpenKey primary, FastOpenKey backup) throws Exception {
        return round(hosts, port, primary, backup, false, false);
    }

    /**
     * Opens a Fast Open listener at the server address and {@code port} (0: any) with the given keys (none
     * when {@code primary} is null), makes one connection that sends 300 bytes, and closes the listener.
     */
    private static Round round(TwoHosts hosts, int port, FastOpenKey primary, FastOpenKey backup,
                               boolean serverNoCookie, boolean clientNoCookie) throws Exception {
        return round(hosts, port, primary, backup, serverNoCookie, clientNoCookie, Client.CHANNEL);
    }

    /** How the client of a round connects. */
    private enum Client { CHANNEL, DIALER, SOCKET_FACTORY }

    /** As above; the client connects as {@code kind} says. */
    private static Round round(TwoHosts hosts, int port, FastOpenKey primary, FastOpenKey backup,
                               boolean serverNoCookie, boolean clientNoCookie, Client kind) throws Exception {
        ServerSocketChannel channel = hosts.server.call(() -> {
            ServerSocketChannel listener = ServerSocketChannel.open();
            listener.setOption(java.net.StandardSocketOptions.SO_REUSEADDR, true);
            if (primary != null) {
                FastOpen.setServerKeys(listener, primary, backup);
            }
            if (serverNoCookie) {
                FastOpen.setNoCookie(listener, true);
            }
            bindSoon(listener, new InetSocketAddress(TwoHosts.serverAddress(), port));
            assertTrue(FastOpen.enableServer(listener, 16).active());
            if (primary != null) {
                assertEquals(Optional.of(new FastOpenKeys(primary, backup)), FastOpen.serverKeys(listener));
            }
            return listener;
        });
        byte[] payload = FastOpenMatrixTest.bytes(300, port);
        try (DigestServer server = new DigestServer(hosts.server, channel.socket())) {
            FastOpenCounters before = hosts.server.call(FastOpenCounters::read);
            DigestServer.Reply reply = hosts.client.call(() -> {
                if (kind == Client.DIALER) {
                    try (SocketChannel client = FastOpenDialer.create().withNoCookie(clientNoCookie)
                            .dial(server.address(), payload)) {
                        client.shutdownOutput();
                        return DigestServer.readReply(Channels.newInputStream(client), ClientOutcome.of(client));
                    }
                }
                if (kind == Client.SOCKET_FACTORY) {
                    try (Socket client = new FastOpenSocketFactory().withTcpNoDelay(true).withNoCookie(clientNoCookie)
                            .createSocket()) {
                        assertTrue(client.getTcpNoDelay(), "TCP_NODELAY set by the factory");
                        client.connect(server.address());
                        client.getOutputStream().write(payload);
                        client.shutdownOutput();
                        return DigestServer.readReply(client.getInputStream(), ClientOutcome.of(client));
                    }
                }
                try (SocketChannel client = SocketChannel.open()) {
                    assertTrue(FastOpen.enableClient(client).active());
                    if (clientNoCookie) {
                        FastOpen.setNoCookie(client, true);
                    }
                    client.connect(server.address());
                    client.write(ByteBuffer.wrap(payload));
                    client.shutdownOutput();
                    return DigestServer.readReply(Channels.newInputStream(client), ClientOutcome.of(client));
                }
            });
            DigestServer.Received received = server.next();
            assertArrayEquals(DigestServer.sha256(payload), reply.sha256(), "every byte arrived");
            FastOpenCounters delta = hosts.server.call(FastOpenCounters::read).minus(before);
            return new Round(server.port(), reply.outcome().result(), reply.outcome().reason(),
                    received.outcome().synData(), delta);
        }
    }

    /**
     * Binds, retrying for a while: the previous listener on the port is closed from another thread while
     * its accept loop is blocked, and the JDK releases the descriptor only when that thread has left.
     */
    private static void bindSoon(ServerSocketChannel listener, InetSocketAddress address) throws Exception {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (true) {
            try {
                listener.bind(address);
                return;
            } catch (java.net.BindException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(10);
            }
        }
    }
}
