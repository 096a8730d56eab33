package io.tfo4j;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.StandardSocketOptions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A factory socket behaves as a java.net.Socket in everything but Fast Open (loopback, no cookie involved). */
class FastOpenSocketTest {

    @Test
    void optionsAddressesAndStateAreTheSocketsOwn() throws IOException {
        try (ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             Socket socket = new FastOpenSocketFactory().createSocket()) {
            socket.setTcpNoDelay(true);
            socket.setSoLinger(true, 7);
            socket.setSoTimeout(1234);
            socket.setKeepAlive(true);
            socket.setReceiveBufferSize(64 * 1024);
            assertTrue(socket.getTcpNoDelay());
            assertEquals(7, socket.getSoLinger());
            assertEquals(1234, socket.getSoTimeout());
            assertTrue(socket.getKeepAlive());
            assertTrue(socket.getOption(StandardSocketOptions.TCP_NODELAY));
            assertTrue(socket.supportedOptions().contains(StandardSocketOptions.SO_KEEPALIVE));
            socket.setSoLinger(false, 0);
            assertEquals(-1, socket.getSoLinger());

            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            assertTrue(socket.isBound());
            assertFalse(socket.isConnected());
            socket.connect(listener.getLocalSocketAddress(), 5_000);
            try (Socket accepted = listener.accept()) {
                assertTrue(socket.isConnected());
                assertEquals(listener.getLocalPort(), socket.getPort());
                assertEquals(InetAddress.getLoopbackAddress(), socket.getInetAddress());
                assertEquals(InetAddress.getLoopbackAddress(), socket.getLocalAddress());
                assertEquals(accepted.getPort(), socket.getLocalPort());
                assertEquals(accepted.getRemoteSocketAddress(), socket.getLocalSocketAddress());
                assertNull(socket.getChannel(), "the channel would bypass the deferred-connect handling");

                socket.getOutputStream().write("ping".getBytes());
                socket.shutdownOutput();
                assertTrue(socket.isOutputShutdown());
                assertEquals("ping", new String(accepted.getInputStream().readAllBytes()));
                accepted.getOutputStream().write('!');
                assertEquals('!', socket.getInputStream().read());
            }
        }
    }

    @Test
    void closingAnUnusedSocketClosesItsChannel() throws IOException {
        FastOpenSocket socket = (FastOpenSocket) new FastOpenSocketFactory().createSocket();
        var channel = socket.channel();
        socket.close();
        assertTrue(socket.isClosed());
        assertFalse(channel.isOpen(), "no descriptor left open");
        assertThrows(SocketException.class, () -> socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), 9)));
    }
}
