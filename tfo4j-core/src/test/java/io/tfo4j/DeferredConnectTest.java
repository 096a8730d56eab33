package io.tfo4j;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What happens after a connect that Fast Open deferred (a cookie is cached, so connect sent nothing):
 * a server that speaks first must not hang the client, and a closed port must give a ConnectException,
 * not a hang and not a false success.
 */
class DeferredConnectTest {
    /**
     * A first-write window far longer than any test step, so that "connect was deferred" can be asserted
     * after connect without racing the window timer (FtpServerSpeaksFirstTest covers the timer).
     */
    private static final FastOpenSocketFactory LONG_WINDOW = new FastOpenSocketFactory(true, Duration.ofSeconds(30));
    private TwoHosts hosts;

    @BeforeEach
    void createHosts() throws IOException {
        hosts = TwoHosts.create(1, 3);
    }

    @AfterEach
    void closeHosts() {
        if (hosts != null) {
            hosts.close();
        }
    }

    /** A server-speaks-first service (like FTP or SMTP): greeting, then one command, then goodbye. */
    private final class GreetingServer implements AutoCloseable {
        final ServerSocket listener;
        final BlockingQueue<ServerOutcome> outcomes = new LinkedBlockingQueue<>();
        final Future<?> loop;

        GreetingServer() throws IOException {
            listener = hosts.server.call(() -> {
                ServerSocketChannel channel = ServerSocketChannel.open();
                channel.bind(new InetSocketAddress(TwoHosts.serverAddress(), 0));
                assertTrue(FastOpen.enableServer(channel, 16).active());
                return channel.socket();
            });
            loop = hosts.server.submit(() -> {
                while (true) {
                    try (Socket socket = listener.accept()) {
                        outcomes.add(ServerOutcome.of(socket));
                        PrintWriter out = new PrintWriter(socket.getOutputStream(), true, StandardCharsets.US_ASCII);
                        BufferedReader in = new BufferedReader(
                                new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
                        out.print("220 greeting\r\n");
                        out.flush();
                        String command = in.readLine();
                        out.print("221 bye " + command + "\r\n");
                        out.flush();
                    } catch (IOException e) {
                        if (listener.isClosed()) {
                            return null;
                        }
                    }
                }
            });
        }

        InetSocketAddress address() {
            return new InetSocketAddress(listener.getInetAddress(), listener.getLocalPort());
        }

        ServerOutcome nextOutcome() throws InterruptedException {
            ServerOutcome outcome = outcomes.poll(20, TimeUnit.SECONDS);
            if (outcome == null) {
                throw new AssertionError("the greeting server accepted no connection within 20 s");
            }
            return outcome;
        }

        /**
         * Closes the listener and waits for the accept loop to end. The JDK releases a listening socket whose
         * thread is blocked in accept only when that thread has left poll(); until then a SYN still finds
         * the port open, which made closedPortWithCachedCookieGivesConnectException fail on a busy machine.
         */
        @Override
        public void close() throws IOException {
            listener.close();
            try {
                loop.get(5, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException e) {
                loop.cancel(true);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** One session through the socket factory, reading the greeting before writing anything. */
    private static String greetingSession(InetSocketAddress server, boolean expectDeferred) throws IOException {
        try (Socket socket = LONG_WINDOW.createSocket()) {
            socket.setSoTimeout(10_000);
            socket.connect(server, 10_000);
            ClientOutcome.Result afterConnect = ClientOutcome.of(socket).result();
            assertEquals(expectDeferred ? ClientOutcome.Result.PENDING : ClientOutcome.Result.COOKIE_REQUESTED,
                    afterConnect, "outcome right after connect");
            BufferedReader in = new BufferedReader(
                    new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            String greeting = in.readLine();
            OutputStream out = socket.getOutputStream();
            out.write("QUIT\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return greeting + "|" + in.readLine();
        }
    }

    @Test
    void socketFactorySocketReadsGreetingFirstWithCachedCookie() throws Exception {
        try (GreetingServer server = new GreetingServer()) {
            assertEquals("220 greeting|221 bye QUIT",
                    hosts.client.call(() -> greetingSession(server.address(), false)));
            ServerOutcome first = server.nextOutcome();
            assertFalse(first.fastOpenChild(), "first connection: no cookie yet");

            FastOpenCounters before = hosts.server.call(FastOpenCounters::read);
            // Cookie cached now: connect is deferred, and the first operation is a read.
            assertEquals("220 greeting|221 bye QUIT",
                    hosts.client.call(() -> greetingSession(server.address(), true)));
            ServerOutcome second = server.nextOutcome();
            assertTrue(second.fastOpenChild(), "the SYN carried a valid cookie: " + second);
            assertFalse(second.synData(), "but no data, because the client read first: " + second);
            assertEquals(1, hosts.server.call(FastOpenCounters::read).minus(before).passive());
        }
    }

    @Test
    void rawChannelTrapAndStartHandshake() throws Exception {
        try (GreetingServer server = new GreetingServer()) {
            hosts.client.call(() -> greetingSession(server.address(), false));
            server.nextOutcome();

            String greeting = hosts.client.call(() -> {
                try (SocketChannel channel = SocketChannel.open(); Selector selector = Selector.open()) {
                    assertTrue(FastOpen.enableClient(channel).active());
                    assertTrue(channel.connect(server.address()), "deferred connect returns at once");
                    assertEquals(TcpState.SYN_SENT, TcpInfo.of(channel).state());
                    channel.configureBlocking(false);
                    channel.register(selector, SelectionKey.OP_READ);
                    // The trap: nothing was sent, so the greeting can never arrive.
                    assertEquals(0, selector.select(500), "no SYN was sent, so nothing can be read");
                    FastOpen.startHandshake(channel);
                    assertEquals(1, selector.select(10_000), "after startHandshake the greeting arrives");
                    ByteBuffer buffer = ByteBuffer.allocate(64);
                    channel.read(buffer);
                    channel.write(ByteBuffer.wrap("QUIT\r\n".getBytes(StandardCharsets.US_ASCII)));
                    return new String(buffer.array(), 0, buffer.position(), StandardCharsets.US_ASCII);
                }
            });
            assertEquals("220 greeting\r\n", greeting);
            assertTrue(server.nextOutcome().fastOpenChild());
        }
    }

    /** A server that drops every SYN (nftables in its namespace): the connect timeout holds. */
    @Test
    void silentServerWithCachedCookieTimesOut() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/sbin/nft")), "skipped: nftables is not installed");
        InetSocketAddress silent = port9WithCachedCookie();
        nft("add table ip drop9; add chain ip drop9 input"
                + " { type filter hook input priority 0; }; add rule ip drop9 input tcp dport 9 drop");

        long started = System.nanoTime();
        Exception dialer = hosts.client.call(() -> assertThrows(IOException.class,
                () -> FastOpenDialer.create().withConnectTimeout(Duration.ofMillis(300))
                        .dial(silent, "hello".getBytes(StandardCharsets.US_ASCII))));
        assertInstanceOf(SocketTimeoutException.class, dialer, "dialer: " + dialer);

        Exception socket = hosts.client.call(() -> {
            Socket s = LONG_WINDOW.createSocket();
            s.connect(silent, 300);
            return assertThrows(IOException.class, () -> s.getOutputStream().write(1));
        });
        assertInstanceOf(SocketTimeoutException.class, socket, "socket, write first: " + socket);
        assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(5), "both gave up after about 300 ms");
    }

    /**
     * startHandshake on a connection whose SYN has left changes nothing: the kernel answers the zero-length
     * send with EAGAIN and sends no second SYN. A server that drops SYNs to port 9 (so the handshake stays
     * open) counts them with nftables; the only other SYNs are the kernel's own retransmissions.
     */
    @Test
    void startHandshakeOnASynAlreadySentChangesNothing() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/sbin/nft")), "skipped: nftables is not installed");
        InetSocketAddress silent = port9WithCachedCookie();
        nft("add table ip count9; add chain ip count9 input { type filter hook input priority 0; };"
                + " add rule ip count9 input tcp dport 9 tcp flags syn counter drop");

        try (SocketChannel channel = hosts.client.call(SocketChannel::open)) {
            assertTrue(FastOpen.enableClient(channel).active());
            assertTrue(channel.connect(silent), "deferred: the cookie is cached for the address");
            assertEquals(0, synsToPort9(), "a deferred connect sends nothing");

            FastOpen.startHandshake(channel);
            assertEquals(1 + TcpInfo.of(channel).totalRetrans(), synsToPort9(), "startHandshake sent the SYN");

            assertEquals(-Errno.EAGAIN, Linux.sendNonBlocking(FileDescriptors.of(channel), null, 0, 0),
                    "the kernel's answer to a zero-length send on a SYN already sent");
            FastOpen.startHandshake(channel);
            TcpInfo info = TcpInfo.of(channel);
            assertEquals(TcpState.SYN_SENT, info.state());
            assertEquals(1 + info.totalRetrans(), synsToPort9(), "no SYN but the kernel's retransmissions");
        }
    }

    /** Port 9 of the server host, for which the client holds a cookie (cookies are per address, not port). */
    private InetSocketAddress port9WithCachedCookie() throws Exception {
        try (GreetingServer server = new GreetingServer()) {
            hosts.client.call(() -> greetingSession(server.address(), false));
            server.nextOutcome();
            return new InetSocketAddress(server.address().getAddress(), 9);
        }
    }

    private void nft(String script) throws Exception {
        Process nft = hosts.server.command("nft", script).redirectErrorStream(true).start();
        assertEquals(0, nft.waitFor(), new String(nft.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    private long synsToPort9() throws Exception {
        Process nft = hosts.server.command("nft", "list chain ip count9 input").redirectErrorStream(true).start();
        String listing = new String(nft.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, nft.waitFor(), listing);
        java.util.regex.Matcher counter = java.util.regex.Pattern.compile("counter packets (\\d+)").matcher(listing);
        assertTrue(counter.find(), listing);
        return Long.parseLong(counter.group(1));
    }

    @Test
    void closedPortWithCachedCookieGivesConnectException() throws Exception {
        InetSocketAddress closedAddress;
        try (GreetingServer server = new GreetingServer()) {
            hosts.client.call(() -> greetingSession(server.address(), false));
            server.nextOutcome();
            closedAddress = server.address();
        }
        // The cookie is cached per server IP address, so every connect to that address is now deferred.
        long started = System.nanoTime();

        Exception dialer = hosts.client.call(() -> assertThrows(IOException.class,
                () -> FastOpenDialer.create().dial(closedAddress, "hello".getBytes(StandardCharsets.US_ASCII))));
        assertInstanceOf(ConnectException.class, dialer, "dialer: " + dialer);

        Exception dialerWithTimeout = hosts.client.call(() -> assertThrows(IOException.class,
                () -> FastOpenDialer.create().withConnectTimeout(Duration.ofSeconds(5))
                        .dial(closedAddress, "hello".getBytes(StandardCharsets.US_ASCII))));
        assertInstanceOf(ConnectException.class, dialerWithTimeout, "dialer with a timeout: " + dialerWithTimeout);

        Exception writeFirst = hosts.client.call(() -> {
            Socket socket = LONG_WINDOW.createSocket();
            socket.connect(closedAddress, 5_000);
            assertEquals(ClientOutcome.Result.PENDING, ClientOutcome.of(socket).result(), "connect was deferred");
            IOException e = assertThrows(IOException.class, () -> socket.getOutputStream().write(1));
            assertTrue(socket.isClosed(), "a failed deferred connect closes the socket");
            return e;
        });
        assertInstanceOf(ConnectException.class, writeFirst, "socket, write first: " + writeFirst);

        Exception readFirst = hosts.client.call(() -> {
            Socket socket = LONG_WINDOW.createSocket();
            socket.connect(closedAddress, 5_000);
            return assertThrows(IOException.class, () -> socket.getInputStream().read());
        });
        assertInstanceOf(ConnectException.class, readFirst, "socket, read first: " + readFirst);

        Exception channel = hosts.client.call(() -> {
            try (SocketChannel raw = SocketChannel.open()) {
                FastOpen.enableClient(raw);
                raw.connect(closedAddress);
                return assertThrows(IOException.class, () -> raw.write(ByteBuffer.wrap(new byte[] {1})));
            }
        });
        assertTrue(channel.getMessage().contains("refused"), "raw channel: the JDK's own error: " + channel);

        assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(10), "failed fast, no hang");
    }
}
