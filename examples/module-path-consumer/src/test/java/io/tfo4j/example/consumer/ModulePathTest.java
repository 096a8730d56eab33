package io.tfo4j.example.consumer;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Runs {@link Main} with tfo4j-core, as installed in the local Maven repository, on the module path: in a
 * network namespace of its own ({@code unshare --net}, root only) with {@code tcp_fastopen=3}, so the
 * second connection's request rides in the SYN, which both ends read from the kernel (TCP_INFO).
 */
class ModulePathTest {
    private static final String MODULE = "io.tfo4j.core";

    @BeforeAll
    static void needsRoot() throws Exception {
        assumeTrue(run(List.of("id", "-u")).strip().equals("0"), "skipped: unshare --net needs root");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/unshare")), "skipped: unshare (util-linux) is not installed");
    }

    @Test
    void theCoreWorksAsANamedModule() throws Exception {
        String out = runMain(List.of("--enable-native-access=" + MODULE,
                "--add-exports", "java.base/sun.nio.ch=" + MODULE));
        assertTrue(out.contains("module: " + MODULE + "\n"), out);
        assertTrue(out.contains("listener: active\n"), out);
        assertTrue(out.contains("connection 1: client COOKIE_REQUESTED, server synData=false\n"), out);
        assertTrue(out.contains("connection 2: client SYN_DATA_ACKED, server synData=true\n"), out);
    }

    @Test
    void aMissingFlagIsNamedForTheModule() throws Exception {
        String out = runMain(List.of("--enable-native-access=" + MODULE));
        assertTrue(out.contains("listener: inactive: ") && out.contains("--add-exports java.base/sun.nio.ch=" + MODULE),
                "the status names the flag with the module's name, not ALL-UNNAMED: " + out);
        assertTrue(out.contains("connection 2: exchanged, outcome unknown: "), "plain TCP still works: " + out);
    }

    private static String runMain(List<String> flags) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String modulePath = System.getProperty("consumer.classes") + ":" + System.getProperty("tfo4j.core.jar");
        List<String> command = new ArrayList<>(List.of("unshare", "--net", "sh", "-c",
                "ip link set lo up && echo 3 > /proc/sys/net/ipv4/tcp_fastopen && exec \"$0\" \"$@\"", java));
        command.addAll(flags);
        command.addAll(List.of("--module-path", modulePath,
                "--module", "io.tfo4j.example.consumer/io.tfo4j.example.consumer.Main"));
        return run(command);
    }

    private static String run(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IOException(command + " did not finish in 60 s: " + out);
        }
        assertEquals(0, process.exitValue(), command + " failed: " + out);
        return out;
    }
}
