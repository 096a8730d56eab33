package io.tfo4j.bench;

import io.tfo4j.bench.BenchReport.LatencyRow;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The latency chart from made-up rows (no lab): every pair named in the legend, one colour each, a p90 whisker
 * per measured bar, and "n/a" where a pair was not measured. Writes the chart to target/latency-chart-test.svg
 * to look at (rsvg-convert -o chart.png target/latency-chart-test.svg).
 */
class LatencyChartTest {
    private static final List<String> PAIRS = List.of("tfo4j -> tfo4j serve (Fast Open)", "tfo4j -> tfo4j serve (plain TCP)",
            "tfo4j get -> tfo4j serve (Fast Open)", "tfo4j get -> tfo4j serve (plain TCP)", "curl -> nginx (Fast Open)",
            "curl -> tfo4j serve (Fast Open)", "tfo4j get -> nginx (Fast Open)", "JDK HttpClient -> tfo4j serve (no agent)",
            "JDK HttpClient -> tfo4j serve (agent)", "curl -> Spring Boot (no agent)", "curl -> Spring Boot (agent)",
            "Netty epoll -> Netty epoll (Fast Open)");

    private static List<LatencyRow> rows() {
        List<LatencyRow> rows = new ArrayList<>();
        for (double rtt : new double[] {10, 50, 150}) {
            for (int p = 0; p < PAIRS.size(); p++) {
                String pair = PAIRS.get(p);
                if (pair.startsWith("curl -> Spring Boot (agent)") && rtt == 50) {
                    rows.add(new LatencyRow(pair, "curl", false, rtt, 0, 0, 0, 0, 0, 0, 0, -1, 0, "the agent jar is not built", null));
                    continue;
                }
                double rounds = pair.contains("plain") || pair.contains("no agent") ? 2.05 : 1.02 + p * 0.01;
                double p90 = pair.startsWith("JDK HttpClient -> tfo4j serve (no agent)") && rtt == 10 ? 7.5 : rounds + 0.1;
                rows.add(new LatencyRow(pair, "client", false, rtt, 20, rounds * rtt, p90 * rtt, (p90 + 0.1) * rtt, rounds * rtt,
                        19, 19, 18, 23, null, null));
            }
        }
        return rows;
    }

    @Test
    void everyPairIsNamedWithItsOwnColourAndEveryMeasuredBarHasAP90Whisker() throws IOException {
        String svg = BenchReport.latencyChart(rows());
        Files.writeString(Path.of("target", "latency-chart-test.svg"), svg);
        for (int p = 0; p < PAIRS.size(); p++) {
            String legend = ">" + (p + 1) + ". " + PAIRS.get(p).replace(">", "&gt;") + "</text>";
            assertTrue(svg.contains(legend), "legend entry " + legend);
        }
        List<String> legendColours = matches(svg, "<rect x=\"\\d+\" y=\"\\d+\" width=\"12\" height=\"12\" fill=\"(#[0-9a-f]{6})\"/>");
        assertEquals(PAIRS.size(), legendColours.size());
        assertEquals(PAIRS.size(), legendColours.stream().distinct().count(), "distinct colours: " + legendColours);
        assertEquals(3 * PAIRS.size() - 1, matches(svg, "<path d=\"M[0-9.]+ [0-9.]+V[0-9.]+").size(), "one whisker per measured bar");
        assertEquals(1, matches(svg, ">(n/a)</text>").size(), "the skipped pair at 50 ms");
        assertTrue(svg.contains(">\u21917.5</text>"), "a whisker above the plot says where it ends");
        assertTrue(svg.contains("whisker: p90"), "the chart says what the whiskers are");
    }

    private static List<String> matches(String text, String regex) {
        List<String> found = new ArrayList<>();
        Matcher matcher = Pattern.compile(regex).matcher(text);
        while (matcher.find()) {
            found.add(matcher.groupCount() > 0 ? matcher.group(1) : matcher.group());
        }
        return found;
    }
}
