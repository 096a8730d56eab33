package io.tfo4j.cli;

import io.tfo4j.lab.LabProcess;
import io.tfo4j.lab.NetNamespace;
import io.tfo4j.lab.WanLab;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code tfo4j demo}, run as a user would (a new JVM): plain requests take about two round trips, Fast Open
 * repeat requests about one (over HTTPS three and two), and both the client's TCP_INFO and the server's access log agree on which
 * requests rode in the SYN.
 */
class DemoTest {
    private static final Pattern ROW = Pattern.compile(
            "^\\s+(\\d+)\\s+(\\S+)\\s+(\\S+)\\s+([\\d.]+) ms\\s+([\\d.]+)$", Pattern.MULTILINE);

    private record Row(int request, String outcome, String serverSaw, double roundTrips) {
    }

    @Test
    void fastOpenRepeatRequestsTakeOneRoundTripAndPlainOnesTwo() throws Exception {
        List<Row> rows = demo(false);
        for (Row plain : rows.subList(0, 3)) {
            assertTrue(plain.roundTrips() >= 1.9 && plain.roundTrips() < 6.0, "plain: about 2 round trips: " + plain);
        }
        for (Row fastOpen : rows.subList(4, 6)) {
            assertEquals("syn-data", fastOpen.serverSaw());
            assertTrue(fastOpen.roundTrips() >= 0.9 && fastOpen.roundTrips() < 1.9, "Fast Open: about 1 round trip: " + fastOpen);
        }
    }

    /** Over HTTPS the TLS handshake adds a round trip to both; the SYN carries the ClientHello. */
    @Test
    void overTlsFastOpenRepeatRequestsTakeTwoRoundTripsAndPlainOnesThree() throws Exception {
        List<Row> rows = demo(true);
        for (Row plain : rows.subList(0, 3)) {
            assertTrue(plain.roundTrips() >= 2.9 && plain.roundTrips() < 8.0, "plain: about 3 round trips: " + plain);
        }
        for (Row fastOpen : rows.subList(4, 6)) {
            assertEquals("syn-clienthello", fastOpen.serverSaw());
            assertTrue(fastOpen.roundTrips() >= 1.9 && fastOpen.roundTrips() < 2.9, "Fast Open: about 2 round trips: " + fastOpen);
        }
    }

    /** Runs the demo at 100 ms RTT with 3 requests; checks the outcomes both ends report and returns the 6 rows. */
    private static List<Row> demo(boolean tls) throws Exception {
        assumeTrue(WanLab.unavailableReason().isEmpty(), () -> "skipped: " + WanLab.unavailableReason().orElse(""));
        List<String> args = new ArrayList<>(List.of("demo", "--rtt", "100ms", "--requests", "3"));
        if (tls) {
            args.add("--tls");
        }
        String out;
        try (NetNamespace host = NetNamespace.create(1);
             LabProcess demo = CliProcess.start(host, new byte[0], args.toArray(String[]::new))) {
            assertEquals(0, demo.awaitExit(120), demo.stderr());
            out = demo.stdout();
        }
        System.out.println(out);
        List<Row> rows = new ArrayList<>();
        Matcher matcher = ROW.matcher(out);
        while (matcher.find()) {
            rows.add(new Row(Integer.parseInt(matcher.group(1)), matcher.group(2), matcher.group(3),
                    Double.parseDouble(matcher.group(5))));
        }
        assertEquals(6, rows.size(), out);
        for (Row plain : rows.subList(0, 3)) {
            assertEquals("NOT_ATTEMPTED", plain.outcome(), out);
            assertEquals("plain", plain.serverSaw(), out);
        }
        assertEquals("COOKIE_REQUESTED", rows.get(3).outcome(), out);
        for (Row fastOpen : rows.subList(4, 6)) {
            assertEquals("SYN_DATA_ACKED", fastOpen.outcome(), out);
        }
        assertTrue(out.contains("Fast Open saved ") && out.contains(" per request (")
                && out.contains("at 100 ms RTT" + (tls ? " over HTTPS" : "")), out);
        return rows;
    }
}
