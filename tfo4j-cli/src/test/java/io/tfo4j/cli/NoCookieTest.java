package io.tfo4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.tfo4j.FastOpenCounters;
import io.tfo4j.FastOpenKey;
import io.tfo4j.FastOpenKeyFile;
import io.tfo4j.lab.DelayedHosts;
import io.tfo4j.lab.LabProcess;
import io.tfo4j.lab.NetNamespace;
import io.tfo4j.lab.WanLab;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code get --no-cookie} to {@code serve --fastopen --no-cookie --key-file FILE} across a 50 ms lab link:
 * the first request, with no cookie ever issued, rides in the SYN (client SYN_DATA_ACKED, the server's
 * TCPFastOpenPassive, no cookie request) and its first byte comes after about one round trip (the server
 * warmed up first with plain connections); the serve
 * banner names the key fingerprints, never the key, and stderr says what no-cookie mode gives up.
 */
class NoCookieTest {
    private static final String SERVER = WanLab.SERVER_ADDRESS;

    @Test
    void theFirstRequestRidesInTheSynWithNoCookieOnBothSides(@TempDir Path dir) throws Exception {
        Path site = Files.createDirectory(dir.resolve("site"));
        Files.writeString(site.resolve("index.html"), "no cookie\n");
        FastOpenKey key = FastOpenKey.random();
        Path keyFile = Files.createFile(dir.resolve("fastopen.keys"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(keyFile, FastOpenKeyFile.format(key, null));
        try (DelayedHosts hosts = DelayedHosts.open(Duration.ofMillis(25))) {
            NetNamespace server = hosts.server();
            NetNamespace client = hosts.client();
            try (LabProcess serve = CliProcess.start(server, new byte[0], "serve", site.toString(), "--bind", SERVER,
                    "--port", "8081", "--fastopen", "--no-cookie", "--key-file", keyFile.toString())) {
                try {
                    DelayedHosts.awaitListening(server, 8081);
                } catch (AssertionError e) {
                    throw new AssertionError(e.getMessage() + "; tfo4j serve said: " + serve.stderr(), e);
                }
                // Warms the server's JVM with plain connections (no Fast Open option: no cookie is asked for or
                // cached), so the timed request measures round trips, not a cold Jetty.
                try (LabProcess plain = CliProcess.run(client, new byte[0], "get", "--no-fastopen", "--count", "20",
                        "http://" + SERVER + ":8081/")) {
                    assertEquals(0, plain.awaitExit(20), plain.stderr());
                }
                FastOpenCounters before = server.call(FastOpenCounters::read);
                List<JsonNode> lines;
                try (LabProcess get = CliProcess.run(client, new byte[0], "get", "--no-cookie", "--json",
                        "http://" + SERVER + ":8081/")) {
                    assertEquals(0, get.awaitExit(10), get.stderr());
                    lines = get.stdoutJson();
                    assertTrue(get.stderr().contains("--no-cookie"), get.stderr());
                }
                FastOpenCounters counted = server.call(FastOpenCounters::read).minus(before);
                JsonNode first = lines.getFirst();
                assertEquals(200, first.get("status").asInt(), first.toString());
                assertEquals("SYN_DATA_ACKED", first.get("fastOpen").get("outcome").asText(), first.toString());
                assertEquals(1, counted.passive(), counted.toString());
                assertEquals(0, counted.passiveFail(), counted.toString());
                assertEquals(0, counted.cookieReqd(), counted.toString());
                double rtts = first.get("ttfbMs").asDouble() / hosts.rttMs();
                assertTrue(rtts >= 0.9 && rtts < 1.6, "the first request took " + rtts + " RTT, expected about 1");

                String banner = serve.stdout();
                assertTrue(banner.contains("Fast Open keys from " + keyFile + ": primary sha256:" + key.fingerprint()),
                        banner);
                assertTrue(banner.contains("NO COOKIE"), banner);
                assertFalse(banner.contains(key.toHex()) || serve.stderr().contains(key.toHex()), "the key itself is never shown");
                assertTrue(serve.stderr().contains("WITHOUT a cookie: anyone who can reach this port"), serve.stderr());
            }
        }
    }
}
