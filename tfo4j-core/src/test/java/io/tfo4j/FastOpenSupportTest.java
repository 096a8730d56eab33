package io.tfo4j;

import io.tfo4j.FastOpenSupport.TcpOption;
import io.tfo4j.lab.NetNamespace;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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
            assertEquals(client, support.client().active(), support.client().toString());
            assertEquals(server, support.server().active(), support.server().toString());
            assertTrue(support.knows(TcpOption.TCP_FASTOPEN_CONNECT), "kernel knows TCP_FASTOPEN_CONNECT");
            assertTrue(support.knows(TcpOption.TCP_INFO));
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

    /**
     * current() reads the thread's namespace each time; a socket is judged by its namespace's sysctl as
     * cached when the first socket of that namespace was judged, until refresh().
     */
    @Test
    void currentFollowsTheSysctlAndSocketsFollowAfterRefresh() throws Exception {
        TwoHosts.assumeNamespaces();
        try (NetNamespace namespace = NetNamespace.create(1);
             ServerSocketChannel listener = namespace.call(ServerSocketChannel::open)) {
            // This thread is in the host's namespace; the listener in one with tcp_fastopen=1.
            FastOpenStatus before = FastOpen.enableServer(listener, 8);
            assertFalse(before.active(), before.toString());
            assertTrue(before.reason().contains("tcp_fastopen=1"), before.reason());

            namespace.setSysctl("net/ipv4/tcp_fastopen", "3");
            assertTrue(namespace.call(FastOpenSupport::current).server().active(), "current() reads the sysctl now");
            assertFalse(FastOpen.serverStatus(listener).active(), "the listener's namespace: still the cached sysctl");
            FastOpenSupport.refresh();
            FastOpenStatus after = FastOpen.serverStatus(listener);
            assertTrue(after.active(), "after refresh(): " + after);
        }
    }

    /**
     * enableServer sets TCP_FASTOPEN even where the server bit is off, because the kernel checks the bit on
     * every SYN: once it is set, the same listener accepts data in the SYN (TCP_INFO and the counter say so).
     */
    @Test
    void listenerEnabledBeforeTheServerBitAcceptsSynDataOnceItIsSet() throws Exception {
        try (TwoHosts hosts = TwoHosts.create(1, 1)) {
            ServerSocketChannel listener = hosts.server.call(() -> {
                ServerSocketChannel channel = ServerSocketChannel.open();
                channel.bind(new java.net.InetSocketAddress(TwoHosts.serverAddress(), 0));
                FastOpenStatus status = FastOpen.enableServer(channel, 8);
                assertFalse(status.active(), status.toString());
                assertTrue(status.reason().contains("server bit 0x2"), status.reason());
                return channel;
            });
            hosts.server.setSysctl("net/ipv4/tcp_fastopen", "3");
            try (DigestServer server = new DigestServer(hosts.server, listener.socket())) {
                FastOpenCounters before = hosts.server.call(FastOpenCounters::read);
                for (int i = 0; i < 2; i++) {
                    hosts.client.call(() -> DigestServer.send(FastOpenDialer.create(), server.address(), new byte[] {1, 2, 3}));
                }
                assertFalse(server.next().outcome().synData(), "first connection: asks for a cookie");
                assertTrue(server.next().outcome().synData(), "second connection: data in the SYN");
                assertEquals(1, hosts.server.call(FastOpenCounters::read).minus(before).passive());
            }
        }
    }

    /** A socket is judged by its own namespace's sysctl, also from a thread in another namespace. */
    @Test
    void socketsAreJudgedByTheirOwnNamespace() throws Exception {
        TwoHosts.assumeNamespaces();
        try (NetNamespace namespace = NetNamespace.create(3)) {
            try (var listener = namespace.call(ServerSocketChannel::open)) {
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
        assertEquals((sysctl & 1) != 0, host.client().active(), host.client().toString());
        assertEquals((sysctl & 2) != 0, host.server().active(), host.server().toString());
        assertEquals(System.getProperty("os.version"), host.kernelRelease());
    }

    /**
     * The property is read on every call, by every entry point: support, client and server, enable and
     * status. While it is set nothing is switched on (the kernel shows the listener's option unset).
     */
    @Test
    void systemPropertySwitchesEveryEntryPointOff() throws Exception {
        TwoHosts.assumeNamespaces();
        try (NetNamespace namespace = NetNamespace.create(3)) {
            Callable<FastOpenStatus> enableClient = () -> {
                try (SocketChannel channel = SocketChannel.open()) {
                    return FastOpen.enableClient(channel);
                }
            };
            Callable<List<FastOpenStatus>> enableServer = () -> {
                try (ServerSocketChannel listener = ServerSocketChannel.open()) {
                    FastOpenStatus enabled = FastOpen.enableServer(listener, 8);
                    int queue = Linux.getIntOption(FileDescriptors.of(listener), Linux.IPPROTO_TCP,
                            Linux.TCP_FASTOPEN, "TCP_FASTOPEN");
                    return List.of(enabled, FastOpen.serverStatus(listener),
                            queue > 0 ? FastOpenStatus.on() : FastOpenStatus.off("kernel: TCP_FASTOPEN unset", ""));
                }
            };
            List<FastOpenStatus> statuses = new ArrayList<>();
            FastOpenSupport support;
            System.setProperty(FastOpenSupport.DISABLE_PROPERTY, "true");
            try {
                support = namespace.call(FastOpenSupport::current);
                statuses.add(namespace.call(enableClient));
                statuses.addAll(namespace.call(enableServer));
            } finally {
                System.clearProperty(FastOpenSupport.DISABLE_PROPERTY);
            }
            assertTrue(support.disabledByProperty());
            statuses.add(support.client());
            statuses.add(support.server());
            assertEquals(6, statuses.size());
            for (FastOpenStatus status : statuses) {
                assertFalse(status.active(), status.toString());
                assertTrue(status.reason().contains(FastOpenSupport.DISABLE_PROPERTY)
                        || status.reason().equals("kernel: TCP_FASTOPEN unset"), status.reason());
            }

            assertTrue(namespace.call(FastOpenSupport::current).client().active(), "back on without it");
            assertTrue(namespace.call(enableClient).active());
            for (FastOpenStatus status : namespace.call(enableServer)) {
                assertTrue(status.active(), status.toString());
            }
        }
    }

    /** Run by {@link #currentOpensNoSocketAfterTheFirstCall} under strace. */
    public static void main(String[] args) {
        System.out.println("first: " + FastOpenSupport.current());
        System.out.println("tfo4j-mark");
        System.out.flush();
        for (int i = 0; i < 3; i++) {
            FastOpenSupport.current();
        }
        System.out.println("later: " + FastOpenSupport.current());
    }

    /** Seen by the kernel: strace counts the socket() calls before and after the first current() returned. */
    @Test
    void currentOpensNoSocketAfterTheFirstCall() throws Exception {
        Path strace = Path.of("/usr/bin/strace");
        assumeTrue(Files.isExecutable(strace), "skipped: strace is not installed (apt-get install strace)");
        Path trace = Files.createTempFile("tfo4j-current", ".strace");
        try {
            List<String> command = new ArrayList<>(List.of(strace.toString(), "-f", "-qq", "-e", "trace=socket,write",
                    "-o", trace.toString(), Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "--add-exports", "java.base/sun.nio.ch=ALL-UNNAMED",
                    "-cp", System.getProperty("java.class.path"), FastOpenSupportTest.class.getName()));
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(process.waitFor(60, TimeUnit.SECONDS), "child JVM finished");
            assertEquals(0, process.exitValue(), output);
            assertTrue(output.contains("first: FastOpenSupport[") && output.contains("later: "), output);

            List<String> lines = Files.readAllLines(trace);
            int mark = -1;
            for (int i = 0; i < lines.size() && mark < 0; i++) {
                if (lines.get(i).contains("write(1, \"tfo4j-mark")) {
                    mark = i;
                }
            }
            assertTrue(mark > 0, "the trace shows the mark: " + lines.size() + " lines");
            long before = lines.subList(0, mark).stream().filter(FastOpenSupportTest::tcpSocketCall).count();
            long after = lines.subList(mark, lines.size()).stream().filter(FastOpenSupportTest::tcpSocketCall).count();
            assertEquals(1, before, "the first call asks one throwaway socket about the kernel's options");
            assertEquals(0, after, "later calls open no socket");
        } finally {
            Files.deleteIfExists(trace);
        }
    }

    private static boolean tcpSocketCall(String straceLine) {
        return straceLine.matches("\\d+\\s+socket\\(AF_INET6?, SOCK_STREAM.*");
    }

    @Test
    void sysctlBitsDecode() {
        assertEquals(Set.of(FastOpenSupport.SysctlBit.CLIENT, FastOpenSupport.SysctlBit.SERVER,
                        FastOpenSupport.SysctlBit.SERVER_ALL_LISTENERS),
                FastOpenSupport.SysctlBit.decode(0x403));
        assertEquals(Set.of(), FastOpenSupport.SysctlBit.decode(0));
    }
}
