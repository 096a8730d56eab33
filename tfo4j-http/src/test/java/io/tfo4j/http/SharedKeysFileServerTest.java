package io.tfo4j.http;

import io.tfo4j.ClientOutcome;
import io.tfo4j.FastOpenCounters;
import io.tfo4j.FastOpenKey;
import io.tfo4j.FastOpenKeyFile;
import io.tfo4j.FastOpenKeys;
import io.tfo4j.lab.NetNamespace;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.List;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Two {@link FastOpenFileServer}s given the same key file, one after the other on the same address (as two
 * backends behind one address would be): a cookie the first issued is accepted by the second (the kernel's
 * TCPFastOpenPassive, no PassiveFail, the client's SYN data acknowledged); a server with another key refuses
 * it. In a namespace with {@code tcp_fastopen=3}, client and server on its loopback.
 */
class SharedKeysFileServerTest {
    private static final String REQUEST = "GET /text.txt HTTP/1.1\r\nHost: tfo4j.test\r\nConnection: close\r\n\r\n";

    @TempDir
    Path dir;
    private NetNamespace host;

    @BeforeEach
    void createHost() throws Exception {
        assumeTrue(NetNamespace.unavailableReason().isEmpty(),
                () -> "skipped: " + NetNamespace.unavailableReason().orElse(""));
        Files.createDirectory(dir.resolve("site"));
        Files.writeString(dir.resolve("site/text.txt"), "shared keys\n");
        host = NetNamespace.create(3);
    }

    @AfterEach
    void closeHost() {
        if (host != null) {
            host.close();
        }
    }

    private Path keyFile(String name, FastOpenKey primary) throws IOException {
        Path file = Files.createFile(dir.resolve(name),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, FastOpenKeyFile.format(primary, null));
        return file;
    }

    /** What one request did: the client's outcome and the server namespace's counter changes. */
    private record Round(int port, ClientOutcome.Result client, String answer, FastOpenCounters server) {
    }

    /** Starts a server on {@code port} with the keys of {@code file}, makes one request, stops the server. */
    private Round round(int port, Path file) throws Exception {
        FastOpenKeys keys = FastOpenKeyFile.read(file);
        FastOpenFileServer server = host.call(() -> FastOpenFileServer.builder(dir.resolve("site")).port(port)
                .fastOpen(16).fastOpenKeys(keys).start());
        try {
            assertTrue(server.fastOpenStatus().active(), server.fastOpenStatus().toString());
            FastOpenCounters before = host.call(FastOpenCounters::read);
            Round round = host.call(() -> {
                try (SocketChannel channel = RawHttp.FAST_OPEN.dial(new InetSocketAddress("127.0.0.1", server.port()),
                        REQUEST.getBytes(StandardCharsets.US_ASCII))) {
                    StringBuilder answer = new StringBuilder();
                    ByteBuffer buffer = ByteBuffer.allocate(4096);
                    while (channel.read(buffer.clear()) >= 0) {
                        answer.append(StandardCharsets.ISO_8859_1.decode(buffer.flip()));
                    }
                    return new Round(server.port(), ClientOutcome.of(channel).result(), answer.toString(), null);
                }
            });
            return new Round(round.port(), round.client(), round.answer(), host.call(FastOpenCounters::read).minus(before));
        } finally {
            server.close();
        }
    }

    @Test
    void aCookieFromOneServerIsAcceptedByTheNextWithTheSameKeyFileAndRefusedWithAnother() throws Exception {
        Path shared = keyFile("shared.keys", FastOpenKey.random());
        Path other = keyFile("other.keys", FastOpenKey.random());

        Round first = round(0, shared);
        assertEquals(ClientOutcome.Result.COOKIE_REQUESTED, first.client(), first.toString());
        assertTrue(first.answer().contains("shared keys"), first.answer());
        int port = first.port();

        Round second = round(port, shared);
        assertEquals(ClientOutcome.Result.SYN_DATA_ACKED, second.client(), second.toString());
        assertEquals(1, second.server().passive(), second.toString());
        assertEquals(0, second.server().passiveFail(), second.toString());
        assertTrue(second.answer().startsWith("HTTP/1.1 200") && second.answer().contains("shared keys"), second.answer());

        Round otherKey = round(port, other);
        assertEquals(ClientOutcome.Result.DATA_NOT_ACKED, otherKey.client(), otherKey.toString());
        assertEquals(0, otherKey.server().passive(), otherKey.toString());
        assertTrue(otherKey.server().passiveFail() > 0, otherKey.toString());
        assertTrue(otherKey.answer().startsWith("HTTP/1.1 200"), "the request still gets its answer: " + otherKey.answer());
    }

    /**
     * One server whose key file is replaced while it runs (by rename, as a fleet's tooling does): the live
     * listener takes the new keys without a restart. The file goes to (new primary, old backup), the
     * rotation's second step, so the client's cookie, made with the old key, is accepted through the backup:
     * the kernel counts TCPFastOpenPassiveAltKey, which only a listener holding the new keys can make.
     */
    @Test
    void aKeyFileReplacedWhileTheServerRunsIsAppliedWithoutARestart() throws Exception {
        FastOpenKey old = FastOpenKey.random();
        FastOpenKey fresh = FastOpenKey.random();
        Path file = keyFile("live.keys", old);
        List<String> problems = new java.util.concurrent.CopyOnWriteArrayList<>();
        FastOpenFileServer server = host.call(() -> FastOpenFileServer.builder(dir.resolve("site")).port(0)
                .fastOpen(16).fastOpenKeyFile(file, problems::add).start());
        try {
            InetSocketAddress address = new InetSocketAddress("127.0.0.1", server.port());
            assertEquals(ClientOutcome.Result.COOKIE_REQUESTED, request(address), "the first connection fetches the cookie");
            assertEquals(ClientOutcome.Result.SYN_DATA_ACKED, request(address));

            Path staged = Files.createFile(dir.resolve(".live.keys.tmp"),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(staged, FastOpenKeyFile.format(fresh, old));
            Files.move(staged, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);

            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            FastOpenCounters delta;
            do {
                assertTrue(System.nanoTime() < deadline, "the new keys were not applied within 10 s");
                TimeUnit.MILLISECONDS.sleep(100);
                FastOpenCounters before = host.call(FastOpenCounters::read);
                assertEquals(ClientOutcome.Result.SYN_DATA_ACKED, request(address), "no cookie is lost on the way");
                delta = host.call(FastOpenCounters::read).minus(before);
            } while (delta.passiveAltKey() == 0);
            assertEquals(0, delta.passiveFail(), delta.toString());
            assertEquals(List.of(), problems);
        } finally {
            server.close();
        }
    }

    private ClientOutcome.Result request(InetSocketAddress address) throws Exception {
        return host.call(() -> {
            try (SocketChannel channel = RawHttp.FAST_OPEN.dial(address, REQUEST.getBytes(StandardCharsets.US_ASCII))) {
                ByteBuffer buffer = ByteBuffer.allocate(4096);
                while (channel.read(buffer.clear()) >= 0) {
                    // read the answer to its end
                }
                return ClientOutcome.of(channel).result();
            }
        });
    }
}
