package io.tfo4j;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@link FastOpenServerSocketFactory} with keys: its listeners carry them, bound or not; without, none of their own. */
class ServerSocketFactoryKeysTest {
    @Test
    void listenersFromAFactoryWithKeysCarryThem() throws Exception {
        FastOpenKeys keys = new FastOpenKeys(FastOpenKey.random(), FastOpenKey.random());
        FastOpenServerSocketFactory factory = new FastOpenServerSocketFactory(16, keys);
        try (ServerSocket unbound = factory.createServerSocket();
             ServerSocket bound = factory.createServerSocket(0, 50, InetAddress.getLoopbackAddress());
             ServerSocket plain = new FastOpenServerSocketFactory(16).createServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            assertEquals(Optional.of(keys), FastOpen.serverKeys(unbound));
            assertEquals(Optional.of(keys), FastOpen.serverKeys(bound));
            assertEquals(Optional.empty(), FastOpen.serverKeys(plain));
        }
    }
}
