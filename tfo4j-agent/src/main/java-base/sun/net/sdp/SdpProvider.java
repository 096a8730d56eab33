package sun.net.sdp;

import io.tfo4j.agent.bootstrap.Hooks;
import java.io.FileDescriptor;
import java.net.InetAddress;

/**
 * Takes the place of the JDK's own {@code sun.net.sdp.SdpProvider} on Java 17 to 24, where the tfo4j agent
 * has no class-file API to rewrite JDK code with. {@code sun.net.NetHooks} calls its provider before every
 * TCP bind and every connect of an unbound socket; the JDK's provider does something only for Sockets
 * Direct Protocol (InfiniBand), configured with {@code -Dcom.sun.sdp.conf}. The agent puts this class in
 * its place only when that property is not set, and only before {@code NetHooks} is first loaded, so no
 * SDP user loses anything. It is compiled against {@code java.base} and loaded into it.
 */
public class SdpProvider extends sun.net.NetHooks.Provider {
    public SdpProvider() {
    }

    @Override
    public void implBeforeTcpBind(FileDescriptor fd, InetAddress address, int port) {
        Hooks.beforeTcpBind(fd, address, port);
    }

    @Override
    public void implBeforeTcpConnect(FileDescriptor fd, InetAddress address, int port) {
        // The listener-only agent leaves client connections alone.
    }
}
