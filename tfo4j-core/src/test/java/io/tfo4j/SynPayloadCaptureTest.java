package io.tfo4j;

import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A witness outside the two endpoints: nftables in the server namespace counts the SYNs that arrive, and
 * those longer than any header can be (IP 20 + TCP 20 + options 40 = 80 bytes), i.e. SYNs with payload.
 * This proves on the wire that the data rode in the SYN from the second connection on.
 */
class SynPayloadCaptureTest {
    private static final String RULESET = """
            table ip tfo4j {
              counter syn_all { }
              counter syn_with_payload { }
              chain input {
                type filter hook input priority 0; policy accept;
                tcp flags & (syn | ack) == syn counter name syn_all
                tcp flags & (syn | ack) == syn ip length > 80 counter name syn_with_payload
              }
            }
            """;

    record Counter(long packets, long bytes) {
    }

    @Test
    void synsCarryPayloadExactlyWhenFastOpenIsUsed() throws Exception {
        TwoHosts.assumeNamespaces();
        assumeTrue(Files.isExecutable(Path.of("/usr/sbin/nft")), "skipped: nftables is not installed (apt-get install nftables)");
        try (TwoHosts hosts = TwoHosts.create(1, 3)) {
            Process nft = hosts.server.command("nft", "-f", "-").redirectErrorStream(true).start();
            nft.getOutputStream().write(RULESET.getBytes(StandardCharsets.US_ASCII));
            nft.getOutputStream().close();
            assertEquals(0, nft.waitFor(), new String(nft.getInputStream().readAllBytes(), StandardCharsets.UTF_8));

            ServerSocketChannel listener = hosts.server.call(() -> {
                ServerSocketChannel channel = ServerSocketChannel.open();
                channel.bind(new InetSocketAddress(TwoHosts.serverAddress(), 0));
                FastOpen.enableServer(channel, 16);
                return channel;
            });
            try (DigestServer server = new DigestServer(hosts.server, listener.socket())) {
                byte[][] payloads = {FastOpenMatrixTest.bytes(300, 7), FastOpenMatrixTest.bytes(300, 8),
                        FastOpenMatrixTest.bytes(100 * 1024, 9)};
                for (byte[] payload : payloads) {
                    byte[] reply = hosts.client.call(() -> {
                        try (SocketChannel channel = FastOpenDialer.create().dial(server.address(), payload)) {
                            channel.shutdownOutput();
                            DataInputStream in = new DataInputStream(Channels.newInputStream(channel));
                            in.readLong();
                            byte[] sha = new byte[32];
                            in.readFully(sha);
                            return sha;
                        }
                    });
                    assertArrayEquals(DigestServer.sha256(payload), reply);
                    server.next();
                }
            }
            Counter all = counter(hosts, "syn_all");
            Counter withPayload = counter(hosts, "syn_with_payload");
            assertEquals(3, all.packets(), "SYNs that reached the server");
            assertEquals(2, withPayload.packets(), "SYNs with payload: connections 2 and 3");
            // Connection 2 put its 300 bytes in the SYN; connection 3 filled a whole SYN (about 1400 bytes
            // on a 1500-byte MTU), the rest of its 100 KB followed the handshake.
            long payloadBytesAtLeast = 300 + 1200;
            assertTrue(withPayload.bytes() > payloadBytesAtLeast, "bytes in SYNs with payload: " + withPayload);
        }
    }

    private static Counter counter(TwoHosts hosts, String name) throws IOException, InterruptedException {
        Process list = hosts.server.command("nft", "-j", "list", "counter", "ip", "tfo4j", name)
                .redirectErrorStream(true).start();
        String json = new String(list.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, list.waitFor(), json);
        Matcher matcher = Pattern.compile("\"packets\": (\\d+), \"bytes\": (\\d+)").matcher(json);
        assertTrue(matcher.find(), json);
        return new Counter(Long.parseLong(matcher.group(1)), Long.parseLong(matcher.group(2)));
    }
}
