package io.tfo4j;

import io.tfo4j.lab.NetNamespace;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Set;
import java.util.concurrent.Callable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The capability probe, in namespaces whose net.ipv4.tcp_fastopen the test chooses. */
class FastOpenSupportTest {

    @ParameterizedTest(name = "tcp_fastopen={0}: client {1}, server {2}")
    @CsvSource({"0, false, false", "1, true, false", "2, false, true", "3, true, true", "1027, true, true"})
    void verdictFollowsTheSysctlBits(int sysctl, boolean client, boolean server) throws Exception {
        TwoHosts.assumeNamespaces();
        try (NetNamespace namespace = NetNamespace.create(sysctl)) {
            FastOpenSupport support = namespace.call(FastOpenSupport::current);
            assertEquals(sysctl, support.sysctl().orElseThrow());
            assertEquals(FastOpenSupport.SysctlBit.decode(sysctl), support.sysctlBits());
            assertEquals(client, support.client().available(), support.client().toString());
            assertEquals(server, support.server().available(), support.server().toString());
            assertTrue(support.socketOptions().get("TCP_FASTOPEN_CONNECT"), "kernel knows TCP_FASTOPEN_CONNECT");
            assertTrue(support.socketOptions().get("TCP_INFO"));
            if (!client) {
                assertTrue(support.client().reason().contains("0x1"), support.client().reason());
                assertTrue(support.client().remedy().contains("sysctl -w net.ipv4.tcp_fastopen=" + (sysctl | 1)),
                        support.client().remedy());
            }
            if (!server) {
                assertTrue(support.server().reason().contains("lacks the server bit 0x2"), support.server().reason());
                assertTrue(support.server().remedy().contains("/etc/sysctl.d/"), "says how to persist it");
            }
        }
    }

    @Test
    void cachedPerNamespaceAndRefreshedOnRequest() throws Exception {
        TwoHosts.assumeNamespaces();
        try (NetNamespace namespace = NetNamespace.create(1)) {
            FastOpenSupport first = namespace.call(FastOpenSupport::current);
            assertTrue(first == namespace.call(FastOpenSupport::current), "probed once, then cached");
            namespace.setSysctl("net/ipv4/tcp_fastopen", "3");
            assertFalse(namespace.call(FastOpenSupport::current).server().available(), "still the cached verdict");
            assertTrue(namespace.call(FastOpenSupport::refresh).server().available(), "refresh sees the change");
            assertTrue(namespace.call(FastOpenSupport::current).server().available());
        }
    }

    /** A socket is judged by its own namespace's sysctl, also from a thread in another namespace. */
    @Test
    void socketsAreJudgedByTheirOwnNamespace() throws Exception {
        TwoHosts.assumeNamespaces();
        try (NetNamespace namespace = NetNamespace.create(3)) {
            try (var listener = namespace.call(java.nio.channels.ServerSocketChannel::open)) {
                // This thread is in the host's namespace (tcp_fastopen=1 here), the listener in one with 3.
                FastOpenStatus status = FastOpen.enableServer(listener, 8);
                assertTrue(status.active(), status.toString());
            }
        }
    }

    @Test
    void hostVerdictMatchesItsOwnSysctl() throws Exception {
        FastOpenSupport host = FastOpenSupport.current();
        int sysctl = Integer.parseInt(new String(new java.io.FileInputStream("/proc/sys/net/ipv4/tcp_fastopen").readAllBytes()).trim());
        assertEquals(sysctl, host.sysctl().orElseThrow());
        assertEquals((sysctl & 1) != 0, host.client().available(), host.client().toString());
        assertEquals((sysctl & 2) != 0, host.server().available(), host.server().toString());
        assertEquals(System.getProperty("os.version"), host.kernelRelease());
    }

    /** The property is read when a socket is set up, and by each probe. */
    @Test
    void systemPropertySwitchesFastOpenOff() throws Exception {
        TwoHosts.assumeNamespaces();
        try (NetNamespace namespace = NetNamespace.create(3)) {
            Callable<FastOpenStatus> enableClient = () -> {
                try (var channel = java.nio.channels.SocketChannel.open()) {
                    return FastOpen.enableClient(channel);
                }
            };
            FastOpenSupport support;
            FastOpenStatus status;
            System.setProperty(FastOpenSupport.DISABLE_PROPERTY, "true");
            try {
                support = namespace.call(FastOpenSupport::refresh);
                status = namespace.call(enableClient);
            } finally {
                System.clearProperty(FastOpenSupport.DISABLE_PROPERTY);
            }
            assertTrue(support.disabledByProperty());
            assertFalse(support.client().available());
            assertFalse(support.server().available());
            assertTrue(support.client().reason().contains(FastOpenSupport.DISABLE_PROPERTY));
            assertFalse(status.active(), "the dialer and sockets fall back: " + status);
            assertTrue(status.reason().contains(FastOpenSupport.DISABLE_PROPERTY), status.reason());

            assertTrue(namespace.call(FastOpenSupport::refresh).client().available(), "back on without it");
            assertTrue(namespace.call(enableClient).active());
        }
    }

    @Test
    void sysctlBitsDecode() {
        assertEquals(Set.of(FastOpenSupport.SysctlBit.CLIENT, FastOpenSupport.SysctlBit.SERVER,
                        FastOpenSupport.SysctlBit.SERVER_ALL_LISTENERS),
                FastOpenSupport.SysctlBit.decode(0x403));
        assertEquals(Set.of(), FastOpenSupport.SysctlBit.decode(0));
    }
}
