package io.tfo4j;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Errors name the call, the option, the errno name, number and text; misuse is refused clearly. */
class SyscallErrorsTest {

    @Test
    void settingConnectOptionAfterConnectNamesCallOptionAndErrno() throws IOException {
        try (ServerSocketChannel listener = ServerSocketChannel.open()
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
             SocketChannel channel = SocketChannel.open(listener.getLocalAddress())) {
            SyscallException e = assertThrows(SyscallException.class, () -> Linux.setIntOption(
                    FileDescriptors.of(channel), Linux.IPPROTO_TCP, Linux.TCP_FASTOPEN_CONNECT,
                    "TCP_FASTOPEN_CONNECT", 1));
            assertEquals("setsockopt(TCP_FASTOPEN_CONNECT) failed: EINVAL (22): Invalid argument", e.getMessage());
            assertEquals("setsockopt", e.call());
            assertEquals("TCP_FASTOPEN_CONNECT", e.option());
            assertEquals(22, e.errno());
            assertEquals("EINVAL", e.errnoName());

            IllegalStateException late = assertThrows(IllegalStateException.class, () -> FastOpen.enableClient(channel));
            assertTrue(late.getMessage().contains("before connect()"), late.getMessage());
        }
    }

    @Test
    void unknownOptionIsUnsupportedWithTheErrnoAsCause() throws IOException {
        try (SocketChannel channel = SocketChannel.open()) {
            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                    () -> Linux.getIntOption(FileDescriptors.of(channel), Linux.IPPROTO_TCP, 9999, "OPTION_9999"));
            assertTrue(e.getMessage().contains("OPTION_9999 is not supported by this kernel"), e.getMessage());
            SyscallException cause = assertInstanceOf(SyscallException.class, e.getCause());
            assertEquals("ENOPROTOOPT", cause.errnoName());
        }
    }

    @Test
    void closedChannelsAndSocketsAreRefusedNotProbed() throws IOException {
        SocketChannel channel = SocketChannel.open();
        channel.close();
        assertThrows(java.nio.channels.ClosedChannelException.class, () -> TcpInfo.of(channel));
        Socket socket = new FastOpenSocketFactory().createSocket();
        socket.close();
        java.net.SocketException e = assertThrows(java.net.SocketException.class, () -> ClientOutcome.of(socket));
        assertEquals("Socket is closed", e.getMessage());
    }

    @Test
    void queueLengthMustBePositive() throws IOException {
        try (ServerSocketChannel listener = ServerSocketChannel.open()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> FastOpen.enableServer(listener, 0));
            assertTrue(e.getMessage().contains("at least 1, got 0"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> new FastOpenServerSocketFactory(-5));
    }

    @Test
    void plainJavaNetSocketsWorkThroughReflection() throws IOException {
        // A plain java.net.Socket has no channel: its descriptor is found through Socket.impl (--add-opens).
        try (ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             Socket socket = new Socket()) {
            FastOpenStatus status = FastOpen.enableClient(socket);
            assertEquals(FastOpenSupport.current().client().active(), status.active(), status.toString());
            socket.connect(listener.getLocalSocketAddress());
            try (Socket accepted = listener.accept()) {
                assertEquals(TcpState.ESTABLISHED, TcpInfo.of(socket).state());
                assertEquals(TcpState.ESTABLISHED, ServerOutcome.of(accepted).state());
                assertTrue(FastOpen.serverStatus(listener).reason().contains("not set")
                        || !FastOpen.serverStatus(listener).active());
            }
        }
    }
}
