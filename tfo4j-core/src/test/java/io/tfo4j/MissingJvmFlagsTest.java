package io.tfo4j;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Without the JVM flags, tfo4j falls back to plain TCP and every message names the missing flag. */
class MissingJvmFlagsTest {

    /** Run in a JVM started without tfo4j's flags. */
    public static void main(String[] args) throws IOException {
        System.out.println("client: " + FastOpenSupport.current().client());
        try (SocketChannel channel = SocketChannel.open()) {
            System.out.println("enableClient(channel): " + FastOpen.enableClient(channel));
            try {
                TcpInfo.of(channel);
                System.out.println("TcpInfo.of(channel): no error");
            } catch (UnsupportedOperationException e) {
                System.out.println("TcpInfo.of(channel): " + e.getMessage());
            }
        }
        try (Socket socket = new Socket()) {
            System.out.println("enableClient(socket): " + FastOpen.enableClient(socket));
        }
    }

    @Test
    void everyMessageNamesTheMissingFlag() throws Exception {
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), MissingJvmFlagsTest.class.getName());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), "child JVM finished");
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, process.exitValue(), output);
        String exports = "--add-exports java.base/sun.nio.ch=ALL-UNNAMED";
        assertTrue(output.contains("client: FastOpenStatus[active=false"), output);
        assertTrue(output.contains("remedy=start the JVM with " + exports), output);
        assertTrue(output.contains("enableClient(channel): FastOpenStatus[active=false"), output);
        assertTrue(output.contains("TcpInfo.of(channel): tfo4j cannot read a channel's file descriptor: add the JVM flag "
                + exports), output);
        assertTrue(output.contains("enableClient(socket): FastOpenStatus[active=false")
                && output.contains("--add-opens java.base/java.net=ALL-UNNAMED"), output);
    }
}
