package io.tfo4j;

import io.tfo4j.lab.NetNamespace;
import org.junit.jupiter.api.Test;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Fast Open over IPv6 (loopback ::1 of a private namespace): the same outcomes as over IPv4. */
class Ipv6Test {

    @Test
    void dialerUsesFastOpenOverIpv6() throws Exception {
        TwoHosts.assumeNamespaces();
        try (NetNamespace namespace = NetNamespace.create(3)) {
            InetAddress loopback6 = InetAddress.getByName("::1");
            assumeTrue(loopback6 instanceof Inet6Address);
            ServerSocketChannel listener = namespace.call(() -> {
                ServerSocketChannel channel = ServerSocketChannel.open();
                channel.bind(new InetSocketAddress(loopback6, 0));
                FastOpen.enableServer(channel, 8);
                return channel;
            });
            try (listener) {
                List<ClientOutcome.Result> client = new ArrayList<>();
                List<Boolean> serverSynData = new ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    Future<Boolean> served = namespace.submit(() -> {
                        try (SocketChannel child = listener.accept()) {
                            boolean synData = ServerOutcome.of(child).synData();
                            child.read(ByteBuffer.allocate(16));
                            child.write(ByteBuffer.wrap(new byte[] {'k'}));
                            return synData;
                        }
                    });
                    client.add(namespace.call(() -> {
                        try (SocketChannel channel = FastOpenDialer.create()
                                .dial(listener.getLocalAddress(), new byte[] {'q'})) {
                            channel.read(ByteBuffer.allocate(1));
                            return ClientOutcome.of(channel).result();
                        }
                    }));
                    serverSynData.add(served.get());
                }
                assertEquals(List.of(ClientOutcome.Result.COOKIE_REQUESTED, ClientOutcome.Result.SYN_DATA_ACKED), client);
                assertEquals(List.of(false, true), serverSynData);
            }
        }
    }
}
