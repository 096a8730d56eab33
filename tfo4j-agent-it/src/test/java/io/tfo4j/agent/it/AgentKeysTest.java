package io.tfo4j.agent.it;

import io.tfo4j.ClientOutcome;
import io.tfo4j.FastOpen;
import io.tfo4j.FastOpenCounters;
import io.tfo4j.FastOpenDialer;
import io.tfo4j.FastOpenKey;
import io.tfo4j.FastOpenKeyFile;
import io.tfo4j.agent.it.apps.GreetingServerApp;
import io.tfo4j.lab.WanLab;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The agent's {@code keys=FILE}: an unmodified server ({@link GreetingServerApp}) under
 * {@code listen=7000,keys=FILE} in the server host accepts a cookie that another listener holding the
 * file's key issued (a listener of this test on port 7001 of the same address: cookies are per address, not
 * port): the client's SYN data is acknowledged, the server host counts TCPFastOpenPassive and no
 * PassiveFail. The file, replaced by rename with (new primary, old backup) while the program runs, is
 * applied to its live listener (TCPFastOpenPassiveAltKey). A key file the agent cannot use is one line naming
 * the file and the fix, and the listener still gets Fast Open, with the host's key (the same cookie fails).
 */
class AgentKeysTest {
    private static final String SERVER = WanLab.SERVER_ADDRESS;
    private static final int PORT = 7000;
    private static final int REFERENCE_PORT = 7001;

    @RegisterExtension
    final LabHosts lab = new LabHosts();
    @TempDir
    Path dir;

    @Test
    void theListenerTakesTheFilesKeysAndFollowsTheFile() throws Exception {
        FastOpenKey key = FastOpenKey.random();
        FastOpenKey fresh = FastOpenKey.random();
        Path file = write(FastOpenKeyFile.format(key, null), "rw-------");
        try (ServerSocketChannel reference = referenceListener(key);
             JavaProgram server = greetingServer("listen=" + PORT + ",keys=" + file)) {
            assertTrue(server.agentLines().stream().anyMatch(line -> line.contains("Fast Open keys from " + file
                    + " (primary sha256:" + key.fingerprint() + ")")), server::text);
            assertEquals(ClientOutcome.Result.COOKIE_REQUESTED, dial(REFERENCE_PORT), "the cookie, under the file's key");

            FastOpenCounters before = serverCounters();
            assertEquals(ClientOutcome.Result.SYN_DATA_ACKED, dial(PORT), server::text);
            FastOpenCounters seen = serverCounters().minus(before);
            assertEquals(1, seen.passive(), seen.toString());
            assertEquals(0, seen.passiveFail(), seen.toString());

            Path staged = write(FastOpenKeyFile.format(fresh, key), "rw-------");
            Files.move(staged, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            do {
                assertTrue(System.nanoTime() < deadline, "the replaced file was not applied within 10 s: " + server.text());
                TimeUnit.MILLISECONDS.sleep(100);
                before = serverCounters();
                assertEquals(ClientOutcome.Result.SYN_DATA_ACKED, dial(PORT), server::text);
                seen = serverCounters().minus(before);
                assertEquals(0, seen.passiveFail(), seen.toString());
            } while (seen.passiveAltKey() == 0);
        }
    }

    @Test
    void aKeyFileItCannotUseIsOneLineAndTheListenerKeepsTheHostsKey() throws Exception {
        FastOpenKey key = FastOpenKey.random();
        Path open = write(FastOpenKeyFile.format(key, null), "rw-r--r--");
        try (ServerSocketChannel reference = referenceListener(key);
             JavaProgram server = greetingServer("listen=" + PORT + ",keys=" + open)) {
            List<String> about = server.agentLines().stream().filter(line -> line.contains("keys=" + open + " cannot be used")).toList();
            assertEquals(1, about.size(), server::text);
            assertTrue(about.getFirst().contains("chmod 600 " + open) && about.getFirst().endsWith("the listeners get"
                    + " Fast Open with this host's key instead"), about::getFirst);
            assertTrue(server.agentLines().stream().anyMatch(line -> line.contains(":" + PORT + ": Fast Open on")),
                    server::text);

            assertEquals(ClientOutcome.Result.COOKIE_REQUESTED, dial(REFERENCE_PORT));
            FastOpenCounters before = serverCounters();
            ClientOutcome.Result result = dial(PORT);
            FastOpenCounters seen = serverCounters().minus(before);
            assertEquals(ClientOutcome.Result.DATA_NOT_ACKED, result, seen.toString());
            assertTrue(seen.passiveFail() > 0, "the host's own key refuses the file key's cookie: " + seen);
        }
    }

    /** A Fast Open listener of this test at the server address, holding {@code key}. */
    private ServerSocketChannel referenceListener(FastOpenKey key) throws IOException {
        return lab.server().call(() -> {
            ServerSocketChannel listener = ServerSocketChannel.open();
            FastOpen.enableServer(listener, 16);
            FastOpen.setServerKeys(listener, key, null);
            listener.bind(new InetSocketAddress(SERVER, REFERENCE_PORT));
            return listener;
        });
    }

    /** {@link GreetingServerApp} under the agent with {@code options} in the server host. */
    private JavaProgram greetingServer(String options) throws IOException {
        List<String> arguments = new ArrayList<>(List.of(JavaProgram.agent(options)));
        arguments.addAll(JavaProgram.main(GreetingServerApp.class));
        arguments.addAll(List.of(SERVER, Integer.toString(PORT)));
        return JavaProgram.start(lab.server(), JavaProgram.java25(), arguments,
                line -> line.startsWith("greeting server ready on"));
    }

    /**
     * One connection from the client host whose first bytes may ride in the SYN (the dial returns once the
     * handshake is done); on the greeting server it reads the greeting, then closes.
     */
    private ClientOutcome.Result dial(int port) throws IOException {
        return lab.client().call(() -> {
            try (SocketChannel channel = FastOpenDialer.create().dial(new InetSocketAddress(SERVER, port),
                    "bye\n".getBytes(StandardCharsets.US_ASCII))) {
                if (port == PORT) {
                    ByteBuffer greeting = ByteBuffer.allocate(64);
                    while (greeting.position() < "hello\n".length() && channel.read(greeting) >= 0) {
                        // the greeting
                    }
                }
                return ClientOutcome.of(channel).result();
            }
        });
    }

    private FastOpenCounters serverCounters() throws IOException {
        return lab.server().call(FastOpenCounters::read);
    }

    private Path write(String text, String mode) throws IOException {
        Path file = Files.createTempFile(dir, "keys", ".tmp");
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
        return file;
    }
}
