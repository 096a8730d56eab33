package io.tfo4j.bench;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code tfo4j peer}: hidden, its options parse as documented, and Netty stays out of the other commands. */
class PeerCommandTest {

    private static CommandLine.ParseResult parse(String... args) {
        return BenchMain.commandLine().parseArgs(args).subcommand().subcommand();
    }

    @Test
    void nettyClientFastOpenIsOnUnlessSwitchedOff() {
        String url = "http://127.0.0.1:1/";
        assertEquals(true, parse("peer", "netty-client", url).matchedOptionValue("--fastopen", true));
        assertEquals(true, parse("peer", "netty-client", "--fastopen", url).matchedOptionValue("--fastopen", false));
        assertEquals(false, parse("peer", "netty-client", "--no-fastopen", url).matchedOptionValue("--fastopen", true));
    }

    @Test
    void badInputIsNamed() {
        StringWriter err = new StringWriter();
        CommandLine commandLine = BenchMain.commandLine();
        commandLine.setErr(new PrintWriter(err));
        assertEquals(2, commandLine.execute("peer", "jdk-client", "https://example.invalid/"));
        assertTrue(err.toString().contains("not an http:// URL with a host: https://example.invalid/"), err.toString());
        assertEquals(2, commandLine.execute("peer", "netty-client", "--count", "0", "http://127.0.0.1:1/"));
        assertTrue(err.toString().contains("--count must be at least 1, got 0"), err.toString());
        assertEquals(2, commandLine.execute("peer", "netty-server", "--fastopen=-1"));
        assertTrue(err.toString().contains("--fastopen queue length must not be negative, got -1"), err.toString());
    }

    @Test
    void nettyServerSaysWhenItsPortIsTaken() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            StringWriter err = new StringWriter();
            CommandLine commandLine = BenchMain.commandLine();
            commandLine.setErr(new PrintWriter(err));
            assertEquals(1, commandLine.execute("peer", "netty-server", "--port", Integer.toString(taken.getLocalPort())));
            assertTrue(err.toString().contains("tfo4j netty-server: cannot listen on /127.0.0.1:" + taken.getLocalPort()
                    + ": bind(..) failed"), err.toString());
        }
    }

    @Test
    void peerIsHiddenFromTheHelp() {
        String usage = BenchMain.commandLine().getUsageMessage();
        assertFalse(usage.contains("peer"), usage);
        assertTrue(usage.contains("bench"), usage);
    }

    @Test
    void benchDoesNotLoadNettyUntilANettyPeerRuns() throws Exception {
        List<String> command = new ArrayList<>(ChildJvm.command("bench", "latency", "--help"));
        command.add(1, "-verbose:class");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), "tfo4j finished");
        assertEquals(0, process.exitValue(), output);
        assertTrue(output.contains("io.tfo4j.bench.peer.NettyClientCommand"), "the model of peer was built: " + output);
        assertFalse(output.contains("io.netty."), () -> output.lines().filter(l -> l.contains("io.netty.")).toList().toString());
    }
}
