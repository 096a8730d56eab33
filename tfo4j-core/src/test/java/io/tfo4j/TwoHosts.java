package io.tfo4j;

import io.tfo4j.lab.NetNamespace;

import java.io.IOException;
import java.net.InetAddress;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** A client host and a server host, each a network namespace with its own tcp_fastopen, joined by veth. */
final class TwoHosts implements AutoCloseable {
    static final String CLIENT_ADDRESS = "198.18.0.1";
    static final String SERVER_ADDRESS = "198.18.0.2";

    final NetNamespace client;
    final NetNamespace server;

    private TwoHosts(NetNamespace client, NetNamespace server) {
        this.client = client;
        this.server = server;
    }

    /** Skips the calling test, with the reason, where namespaces cannot be made. */
    static void assumeNamespaces() {
        assumeTrue(NetNamespace.unavailableReason().isEmpty(),
                () -> "skipped: " + NetNamespace.unavailableReason().orElse(""));
    }

    static TwoHosts create(int clientSysctl, int serverSysctl) throws IOException {
        assumeNamespaces();
        NetNamespace client = NetNamespace.create(clientSysctl);
        try {
            NetNamespace server = NetNamespace.create(serverSysctl);
            try {
                NetNamespace.link(client, CLIENT_ADDRESS, server, SERVER_ADDRESS);
                return new TwoHosts(client, server);
            } catch (IOException | RuntimeException e) {
                server.close();
                throw e;
            }
        } catch (IOException | RuntimeException e) {
            client.close();
            throw e;
        }
    }

    static InetAddress serverAddress() throws IOException {
        return InetAddress.getByName(SERVER_ADDRESS);
    }

    @Override
    public void close() {
        client.close();
        server.close();
    }
}
