package io.tfo4j.lab;

import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** A MariaDB server in a namespace speaks first, is gone after close, and explains why it did not start. */
class MariaDbTest {
    private static final String ADDRESS = "127.0.0.1";
    private static final int PORT = 3306;

    /** The start of the server's first packet, read before the client writes anything. */
    private record Handshake(int length, int sequence, int protocol, String serverVersion) {
    }

    @Test
    void theServerSendsItsHandshakeFirstAndIsGoneAfterClose() throws Exception {
        assumeAvailable();
        try (NetNamespace namespace = NetNamespace.create(3)) {
            long started = System.nanoTime();
            MariaDb server = MariaDb.start(namespace, ADDRESS, PORT);
            try {
                System.out.printf("MariaDB started in %d ms%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
                assertEquals("jdbc:mariadb://127.0.0.1:3306/tfo4j", server.jdbcUrl());

                Handshake handshake = namespace.call(MariaDbTest::readHandshake);
                assertEquals(0, handshake.sequence(), "sequence id of the server's first packet");
                assertEquals(10, handshake.protocol(), "protocol version of the handshake");
                assertTrue(handshake.length() > 40 && handshake.length() < 1024, "length " + handshake.length());
                assertTrue(handshake.serverVersion().contains("MariaDB"), handshake.serverVersion());
            } finally {
                server.close();
                server.close(); // idempotent
            }
            assertThrows(ConnectException.class, () -> namespace.call(() -> {
                try (Socket socket = new Socket()) {
                    socket.connect(new InetSocketAddress(ADDRESS, PORT), 2000);
                }
                return null;
            }), "nothing listens after close");
        }
    }

    @Test
    void aServerThatCannotStartQuotesItsErrorLog() throws Exception {
        assumeAvailable();
        try (NetNamespace namespace = NetNamespace.create(3)) {
            // Something else has the port, so mariadbd cannot bind it and exits. (An address the namespace
            // lacks would not do: mariadbd binds with IP_FREEBIND.)
            try (ServerSocket squatter = namespace.call(() -> new ServerSocket(PORT, 50, InetAddress.getByName(ADDRESS)))) {
                IOException failure = assertThrows(IOException.class, () -> MariaDb.start(namespace, ADDRESS, PORT));
                assertTrue(failure.getMessage().contains("Address already in use"), failure.getMessage());
            }
        }
    }

    /** Runs in the namespace: connects, writes nothing, and reads the first packet's header and version. */
    private static Handshake readHandshake() throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(ADDRESS, PORT), 5000);
            socket.setSoTimeout(5000); // a SocketTimeoutException fails the test: the server did not speak first
            DataInputStream in = new DataInputStream(socket.getInputStream());
            byte[] header = new byte[5];
            in.readFully(header);
            int length = (header[0] & 0xff) | (header[1] & 0xff) << 8 | (header[2] & 0xff) << 16;
            return new Handshake(length, header[3] & 0xff, header[4] & 0xff, readNullTerminated(in));
        }
    }

    private static String readNullTerminated(InputStream in) throws IOException {
        StringBuilder text = new StringBuilder();
        for (int b = in.read(); b > 0; b = in.read()) {
            text.append((char) b);
        }
        return text.toString();
    }

    private static void assumeAvailable() {
        assumeTrue(NetNamespace.unavailableReason().isEmpty(),
                () -> "skipped: " + NetNamespace.unavailableReason().orElse(""));
        assumeTrue(MariaDb.unavailableReason().isEmpty(), () -> "skipped: " + MariaDb.unavailableReason().orElse(""));
    }
}
