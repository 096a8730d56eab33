package io.tfo4j.bench;

import io.tfo4j.bench.LatencyPair.Selection;
import io.tfo4j.bench.LatencyPair.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which pairs {@code bench latency --pairs} selects, and that an HTTPS pair whose tools are missing is listed,
 * skipped with the reason, and reported as skipped; the report's floors; usage errors (no lab needed: nothing
 * is run).
 */
class LatencyPairTest {
    private static final Tools EVERYTHING = new Tools(Optional.empty(), Optional.empty(), Optional.empty(),
            Optional.empty(), Optional.empty());
    private static final String NO_OPENSSL = "openssl is not installed (apt-get install openssl)";
    private static final String NO_NGINX = "nginx is not installed (apt-get install nginx-light)";

    @Test
    void httpsSelectsTheTlsPairsAndHttpTheOthers() {
        List<LatencyPair> all = LatencyPair.select(Selection.ALL, EVERYTHING);
        List<LatencyPair> https = LatencyPair.select(Selection.HTTPS, EVERYTHING);
        List<LatencyPair> http = LatencyPair.select(Selection.HTTP, EVERYTHING);
        assertEquals(all.size(), https.size() + http.size());
        assertEquals(all.size(), all.stream().map(LatencyPair::name).distinct().count(), "distinct names");
        assertTrue(https.stream().allMatch(LatencyPair::https));
        assertTrue(http.stream().noneMatch(LatencyPair::https));
        assertEquals(Set.of(LatencyServers.SERVE_TLS, LatencyServers.NGINX_TLS),
                Set.copyOf(https.stream().map(LatencyPair::port).toList()));
        assertTrue(LatencyServers.url(LatencyServers.SERVE_TLS).startsWith("https://"));
        assertTrue(LatencyServers.url(LatencyServers.SERVE).startsWith("http://"));
        List<String> names = https.stream().map(LatencyPair::name).toList();
        for (String expected : List.of("curl -k -> nginx ssl (Fast Open)", "curl -k -> nginx ssl (plain TCP)",
                "tfo4j get -k -> tfo4j serve --tls (Fast Open)", "tfo4j get -k -> tfo4j serve --tls (plain TCP)",
                "tfo4j SSLSocket -> tfo4j serve --tls (Fast Open)", "tfo4j SSLSocket -> tfo4j serve --tls (plain TCP)")) {
            assertTrue(names.contains(expected), expected + " in " + names);
        }
        assertTrue(https.stream().allMatch(p -> p.missing().isEmpty()), "nothing missing");
    }

    @Test
    void withoutOpensslEveryHttpsPairIsSkippedWithTheReasonAndTheHttpPairsAreNot() {
        Tools noOpenssl = new Tools(Optional.empty(), Optional.empty(), Optional.of(NO_OPENSSL), Optional.empty(),
                Optional.empty());
        for (LatencyPair pair : LatencyPair.select(Selection.ALL, noOpenssl)) {
            assertEquals(pair.https() ? Optional.of(NO_OPENSSL) : Optional.empty(), pair.missing(), pair.name());
        }
    }

    @Test
    void withoutNginxOnlyThePairsThatAskItAreSkipped() {
        Tools noNginx = new Tools(Optional.empty(), Optional.of(NO_NGINX), Optional.empty(), Optional.empty(),
                Optional.empty());
        for (LatencyPair pair : LatencyPair.select(Selection.HTTPS, noNginx)) {
            boolean asksNginx = pair.port() == LatencyServers.NGINX_TLS;
            assertEquals(asksNginx ? Optional.of(NO_NGINX) : Optional.empty(), pair.missing(), pair.name());
        }
    }

    @Test
    void aSkippedPairIsInTheReportWithItsReason(@TempDir Path out) throws IOException {
        Tools noOpenssl = new Tools(Optional.empty(), Optional.empty(), Optional.of(NO_OPENSSL), Optional.empty(),
                Optional.empty());
        List<LatencyPair> pairs = LatencyPair.select(Selection.HTTPS, noOpenssl);
        List<BenchReport.LatencyRow> rows = pairs.stream()
                .map(p -> BenchReport.LatencyRow.skipped(p, 50, p.missing().orElseThrow())).toList();
        BenchReport.writeLatency(out, "latency-https", rows, 20, 3, 1);
        List<String> md = Files.readAllLines(out.resolve("latency-https.md"));
        for (LatencyPair pair : pairs) {
            assertTrue(md.contains("| " + pair.name() + " | 50 | skipped: " + NO_OPENSSL + " |||||||||"),
                    pair.name() + " in\n" + String.join("\n", md));
        }
        List<String> csv = Files.readAllLines(out.resolve("latency-https.csv"));
        assertEquals(pairs.size() + 1, csv.size());
        int columns = csv.getFirst().split(",").length;
        assertTrue(csv.stream().skip(1).allMatch(l -> l.endsWith(",skipped: " + NO_OPENSSL)), String.join("\n", csv));
        assertEquals(columns, csv.get(1).replaceAll("\"[^\"]*\"", "q").split(",", -1).length, csv.get(1));
        String svg = Files.readString(out.resolve("latency-https.svg"));
        assertFalse(svg.contains("<path d="), "no bars");
        assertTrue(svg.contains(">Fast Open floor</text>") && svg.contains(">plain TCP floor</text>"), "HTTPS floors");
    }

    @Test
    void aChartOfBothProtocolsNamesEachFloorWithItsProtocol() {
        List<BenchReport.LatencyRow> rows = List.of(
                new BenchReport.LatencyRow("http pair", "client", false, 50, 20, 51, 52, 53, 51, 19, 19, 18, 23, null, null),
                new BenchReport.LatencyRow("https pair", "client", true, 50, 20, 110, 112, 115, 111, 19, 19, 18, 23, null, null));
        String svg = BenchReport.latencyChart(rows);
        for (String floor : List.of("HTTP, Fast Open", "HTTP, plain TCP", "HTTPS, Fast Open", "HTTPS, plain TCP")) {
            assertTrue(svg.contains(">" + floor + "</text>"), floor);
        }
        assertFalse(svg.contains("Fast Open floor"), "a floor without its protocol");
    }

    @Test
    void anUnknownSelectionOrReportNameIsAUsageError() {
        StringWriter err = new StringWriter();
        CommandLine commandLine = BenchMain.commandLine();
        commandLine.setErr(new PrintWriter(err));
        assertEquals(2, commandLine.execute("bench", "latency", "--pairs", "tls"));
        assertTrue(err.toString().contains("--pairs must be all, http or https, got 'tls'"), err.toString());
        assertEquals(2, commandLine.execute("bench", "latency", "--name", "../latency"));
        assertTrue(err.toString().contains("--name must be a file name without a directory, got '../latency'"), err.toString());
        assertEquals(2, commandLine.execute("peer", "tls-client", "http://127.0.0.1:1/"));
        assertTrue(err.toString().contains("not an https:// URL with a host: http://127.0.0.1:1/"), err.toString());
    }
}
