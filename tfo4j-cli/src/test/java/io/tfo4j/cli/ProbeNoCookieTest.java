package io.tfo4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tfo4j.lab.LabProcess;
import io.tfo4j.lab.NetNamespace;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code tfo4j probe} (a real child JVM) reports the settings that turn no-cookie mode on for a whole
 * namespace or some of its routes: in a namespace with {@code tcp_fastopen=0x205} and IPv4 and IPv6 routes
 * with {@code fastopen_no_cookie 1}, the text and the JSON name both bits and both routes; in one with 3 and
 * no such route, both say off. Where {@code ip} cannot be found, the route check says it was skipped and why.
 */
class ProbeNoCookieTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    @Test
    void theSysctlBitsAndRoutesThatTurnNoCookieModeOnAreNamed() throws Exception {
        assumeNamespaces();
        try (NetNamespace host = NetNamespace.create(0x205)) {
            host.ip("route", "add", "10.9.0.0/16", "dev", "lo", "fastopen_no_cookie", "1");
            host.ip("-6", "route", "add", "2001:db8::/32", "dev", "lo", "fastopen_no_cookie", "1");

            String text = probe(host, "probe");
            assertTrue(text.contains("no-cookie mode     ON: "), text);
            assertTrue(text.contains("  sysctl 0x4       client: every connection sends SYN data without a cookie"), text);
            assertTrue(text.contains("  sysctl 0x200     server: every Fast Open listener accepts SYN data without a cookie"),
                    text);
            assertTrue(text.lines().anyMatch(line -> line.startsWith("  route            10.9.0.0/16 dev lo")
                    && line.contains("fastopen_no_cookie 1")), text);
            assertTrue(text.lines().anyMatch(line -> line.startsWith("  route            2001:db8::/32 dev lo")), text);
            assertFalse(text.contains("route check"), text);

            JsonNode noCookie = MAPPER.readTree(probe(host, "probe", "--json")).get("noCookie");
            assertTrue(noCookie.get("on").asBoolean(), noCookie.toString());
            assertTrue(noCookie.get("clientSysctl").asBoolean(), noCookie.toString());
            assertTrue(noCookie.get("serverSysctl").asBoolean(), noCookie.toString());
            assertEquals(2, noCookie.get("routes").size(), noCookie.toString());
            assertTrue(noCookie.get("routes").get(0).asText().startsWith("10.9.0.0/16 dev lo"), noCookie.toString());
            assertTrue(noCookie.get("routes").get(1).asText().startsWith("2001:db8::/32 dev lo"), noCookie.toString());
            assertTrue(noCookie.get("routeCheckSkipped").isNull(), noCookie.toString());
        }
    }

    @Test
    void withoutThemItSaysOff() throws Exception {
        assumeNamespaces();
        try (NetNamespace host = NetNamespace.create(3)) {
            String text = probe(host, "probe");
            assertTrue(text.contains("no-cookie mode     off (sysctl bits 0x4 and 0x200 clear, no route with"
                    + " fastopen_no_cookie 1)"), text);
            assertFalse(text.contains("  sysctl 0x") || text.contains("  route "), text);

            JsonNode noCookie = MAPPER.readTree(probe(host, "probe", "--json")).get("noCookie");
            assertFalse(noCookie.get("on").asBoolean(), noCookie.toString());
            assertFalse(noCookie.get("clientSysctl").asBoolean(), noCookie.toString());
            assertFalse(noCookie.get("serverSysctl").asBoolean(), noCookie.toString());
            assertEquals(0, noCookie.get("routes").size(), noCookie.toString());
        }
    }

    @Test
    void withoutTheIpCommandTheRouteCheckIsSkippedSayingWhy(@TempDir Path empty) {
        NoCookieRoutes routes = NoCookieRoutes.find(List.of(empty.toString()));
        assertEquals(List.of(), routes.routes());
        assertEquals("the ip command (iproute2) was not found in " + empty + "; install iproute2 to check routes",
                routes.skipped());
    }

    private static void assumeNamespaces() {
        assumeTrue(NetNamespace.unavailableReason().isEmpty(),
                () -> "skipped: " + NetNamespace.unavailableReason().orElse(""));
    }

    private static String probe(NetNamespace host, String... args) throws Exception {
        try (LabProcess probe = CliProcess.run(host, new byte[0], args)) {
            assertEquals(0, probe.awaitExit(30), probe.stderr());
            return probe.stdout();
        }
    }
}
