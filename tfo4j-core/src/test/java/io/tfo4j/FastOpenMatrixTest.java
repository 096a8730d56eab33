package io.tfo4j;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The four-way matrix: a client host that can or cannot do Fast Open, against a Fast Open listener on a
 * capable host, a Fast Open listener on a host without the server bit, and a listener that never set
 * TCP_FASTOPEN; through the channel path, the dialer, the socket factory and plain java.net sockets. Each
 * case makes three connections on a fresh pair of namespaces (so no cookie is cached at the start): two
 * small requests and one of 100 KB, far more than a SYN holds. Every byte is checked by digest, and whether Fast Open was used
 * is asserted from TCP_INFO on both ends and from both namespaces' kernel counters: it must be used exactly
 * when both sides can and a cookie is cached, i.e. from the second connection on.
 */
class FastOpenMatrixTest {
    enum ClientHost {
        /** net.ipv4.tcp_fastopen=1: the usual default. */
        CAPABLE(1),
        /** net.ipv4.tcp_fastopen=0: client Fast Open off. */
        INCAPABLE(0);

        final int sysctl;

        ClientHost(int sysctl) {
            this.sysctl = sysctl;
        }
    }

    enum Server {
        /** A listener with TCP_FASTOPEN on a host with net.ipv4.tcp_fastopen=3. */
        FAST_OPEN_LISTENER(3, true),
        /** A listener with TCP_FASTOPEN on a host with net.ipv4.tcp_fastopen=1 (no server bit). */
        HOST_WITHOUT_SERVER_BIT(1, true),
        /** A listener that never set TCP_FASTOPEN, on a capable host. */
        PLAIN_LISTENER(3, false);

        final int sysctl;
        final boolean enablesFastOpen;

        Server(int sysctl, boolean enablesFastOpen) {
            this.sysctl = sysctl;
            this.enablesFastOpen = enablesFastOpen;
        }
    }

    enum Path {
        /** SocketChannel + FastOpen.enableClient; ServerSocketChannel + FastOpen.enableServer after bind. */
        CHANNEL,
        /** FastOpenDialer; ServerSocketChannel + FastOpen.enableServer before bind. */
        DIALER,
        /** FastOpenSocketFactory; FastOpenServerSocketFactory (or a plain java.net.ServerSocket). */
        SOCKET_FACTORY,
        /**
         * A plain {@code new Socket()} with FastOpen.enableClient before connect; a plain {@code new
         * ServerSocket()} with FastOpen.enableServer (both reach the descriptor through --add-opens).
         */
        PLAIN_SOCKET
    }

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (Path path : Path.values()) {
            for (ClientHost client : ClientHost.values()) {
                for (Server server : Server.values()) {
                    cases.add(Arguments.of(client, server, path));
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{2}: client {0} -> {1}")
    @MethodSource("cases")
    void bytesArriveAndFastOpenIsUsedExactlyWhenBothSidesCan(ClientHost clientHost, Server serverKind, Path path)
            throws Exception {
        try (TwoHosts hosts = TwoHosts.create(clientHost.sysctl, serverKind.sysctl)) {
            ServerSocket listener = hosts.server.call(() -> listen(serverKind, path));
            try (DigestServer server = new DigestServer(hosts.server, listener)) {
                FastOpenCounters clientBefore = hosts.client.call(FastOpenCounters::read);
                FastOpenCounters serverBefore = hosts.server.call(FastOpenCounters::read);

                byte[][] payloads = {bytes(300, 1), bytes(300, 2), bytes(100 * 1024, 3)};
                int expectedFastOpen = 0;
                for (int i = 0; i < payloads.length; i++) {
                    byte[] payload = payloads[i];
                    boolean cookieCached = i > 0;
                    boolean expectSynData = clientHost == ClientHost.CAPABLE
                            && serverKind == Server.FAST_OPEN_LISTENER && cookieCached;
                    String context = path + " " + clientHost + " -> " + serverKind + ", connection " + (i + 1);

                    DigestServer.Reply result = hosts.client.call(() -> exchange(path, server.address(), payload));
                    DigestServer.Received received = server.next();

                    assertEquals(payload.length, result.bytesConfirmed(), context + ": bytes the server read");
                    assertArrayEquals(DigestServer.sha256(payload), result.sha256(), context + ": digest");
                    assertEquals(payload.length, received.bytes(), context + ": server byte count");

                    ClientOutcome.Result expectedClient = expectedClientResult(clientHost, expectSynData);
                    assertEquals(expectedClient, result.outcome().result(),
                            context + ": client outcome (" + result.outcome().reason() + ")");
                    if (clientHost == ClientHost.INCAPABLE) {
                        assertTrue(result.outcome().reason().contains("0x1"),
                                context + ": reason names the missing client bit: " + result.outcome().reason());
                    }
                    assertEquals(expectSynData, received.outcome().synData(), context + ": server saw SYN data");
                    assertEquals(expectSynData, received.outcome().fastOpenChild(),
                            context + ": server child made by Fast Open");
                    if (expectSynData) {
                        expectedFastOpen++;
                    }
                }

                FastOpenCounters clientDelta = hosts.client.call(FastOpenCounters::read).minus(clientBefore);
                FastOpenCounters serverDelta = hosts.server.call(FastOpenCounters::read).minus(serverBefore);
                assertEquals(expectedFastOpen, clientDelta.active(), "client TCPFastOpenActive");
                assertEquals(0, clientDelta.activeFail(), "client TCPFastOpenActiveFail");
                assertEquals(expectedFastOpen, serverDelta.passive(), "server TCPFastOpenPassive");
                assertEquals(0, serverDelta.passiveFail(), "server TCPFastOpenPassiveFail");
                // The kernel counts every SYN that asks for a cookie, whatever the listener does with it:
                // a capable client asks until it holds a cookie, i.e. once against a Fast Open listener and
                // on every connection against the others.
                long expectedCookieRequests = clientHost == ClientHost.INCAPABLE ? 0
                        : serverKind == Server.FAST_OPEN_LISTENER ? 1 : payloads.length;
                assertEquals(expectedCookieRequests, serverDelta.cookieReqd(), "server TCPFastOpenCookieReqd");
            }
        }
    }

    private static ClientOutcome.Result expectedClientResult(ClientHost clientHost, boolean expectSynData) {
        if (clientHost == ClientHost.INCAPABLE) {
            return ClientOutcome.Result.NOT_ATTEMPTED;
        }
        return expectSynData ? ClientOutcome.Result.SYN_DATA_ACKED : ClientOutcome.Result.COOKIE_REQUESTED;
    }

    /** Runs in the server namespace. */
    private static ServerSocket listen(Server serverKind, Path path) throws IOException {
        InetSocketAddress bindAddress = new InetSocketAddress(TwoHosts.serverAddress(), 0);
        switch (path) {
            case CHANNEL -> {
                ServerSocketChannel channel = ServerSocketChannel.open();
                channel.bind(bindAddress);
                if (serverKind.enablesFastOpen) {
                    assertServerStatus(serverKind, FastOpen.enableServer(channel, 16));
                    assertServerStatus(serverKind, FastOpen.serverStatus(channel));
                }
                return channel.socket();
            }
            case DIALER -> {
                ServerSocketChannel channel = ServerSocketChannel.open();
                if (serverKind.enablesFastOpen) {
                    assertServerStatus(serverKind, FastOpen.enableServer(channel, 16));
                }
                channel.bind(bindAddress);
                return channel.socket();
            }
            case PLAIN_SOCKET -> {
                ServerSocket socket = new ServerSocket();
                if (serverKind.enablesFastOpen) {
                    assertServerStatus(serverKind, FastOpen.enableServer(socket, 16));
                }
                socket.bind(bindAddress);
                return socket;
            }
            default -> {
                ServerSocket socket = serverKind.enablesFastOpen
                        ? new FastOpenServerSocketFactory().createServerSocket() : new ServerSocket();
                socket.bind(bindAddress);
                if (serverKind.enablesFastOpen) {
                    assertServerStatus(serverKind, FastOpen.serverStatus(socket));
                } else {
                    FastOpenStatus status = FastOpen.serverStatus(socket);
                    assertFalse(status.active(), "a plain listener reports Fast Open off");
                    assertTrue(status.reason().contains("not set"), status.reason());
                }
                return socket;
            }
        }
    }

    private static void assertServerStatus(Server serverKind, FastOpenStatus status) {
        if (serverKind == Server.FAST_OPEN_LISTENER) {
            assertTrue(status.active(), "listener status: " + status);
        } else {
            assertFalse(status.active(), "listener status: " + status);
            assertTrue(status.reason().contains("0x2"), "reason names the server bit: " + status.reason());
            assertTrue(status.remedy().contains("sysctl -w net.ipv4.tcp_fastopen=3"), status.remedy());
        }
    }

    /** Runs in the client namespace: sends the payload, half-closes, reads the server's digest. */
    private static DigestServer.Reply exchange(Path path, InetSocketAddress server, byte[] payload) throws IOException {
        switch (path) {
            case CHANNEL -> {
                try (SocketChannel channel = SocketChannel.open()) {
                    FastOpen.enableClient(channel);
                    channel.connect(server);
                    ByteBuffer buffer = ByteBuffer.wrap(payload);
                    while (buffer.hasRemaining()) {
                        channel.write(buffer);
                    }
                    channel.shutdownOutput();
                    return DigestServer.readReply(Channels.newInputStream(channel), ClientOutcome.of(channel));
                }
            }
            case DIALER -> {
                return DigestServer.send(FastOpenDialer.create(), server, payload);
            }
            case PLAIN_SOCKET -> {
                try (Socket socket = new Socket()) {
                    FastOpenStatus status = FastOpen.enableClient(socket);
                    assertEquals(FastOpenSupport.current().client().active(), status.active(), status.toString());
                    socket.connect(server);
                    OutputStream out = socket.getOutputStream();
                    out.write(payload);
                    socket.shutdownOutput();
                    return DigestServer.readReply(socket.getInputStream(), ClientOutcome.of(socket));
                }
            }
            default -> {
                // A long first-write window: the SYN must wait for this write even on a slow machine
                // (the default 10 ms window is exercised by FtpServerSpeaksFirstTest).
                try (Socket socket = new FastOpenSocketFactory(true, Duration.ofSeconds(30)).createSocket()) {
                    socket.connect(server, 10_000);
                    OutputStream out = socket.getOutputStream();
                    out.write(payload);
                    out.flush();
                    socket.shutdownOutput();
                    return DigestServer.readReply(socket.getInputStream(), ClientOutcome.of(socket));
                }
            }
        }
    }

    static byte[] bytes(int length, long seed) {
        byte[] data = new byte[length];
        new Random(seed).nextBytes(data);
        return data;
    }
}
