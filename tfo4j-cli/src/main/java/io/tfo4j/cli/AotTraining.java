package io.tfo4j.cli;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * The training run of the launcher's JDK ahead-of-time cache (JEP 483/514): the launcher runs this class
 * once per build with {@code -XX:AOTCacheOutput} and the JVM flags of its short commands, and later starts
 * those commands (probe, nc, get, --version, help) with {@code -XX:AOTCache}, so that the classes this run
 * loaded and linked, and the profiles it gathered, are there from the first instruction. It runs what they
 * run, talking only to this host's loopback: {@code --version}, {@code probe}, and one {@code nc} and one
 * {@code get} round to a loopback responder (and one over TLS), each through its warm-up. Their output is the launcher's to
 * discard.
 */
public final class AotTraining {
    private AotTraining() {
    }

    /** Runs the training commands; exits 0 whatever they return (a failed round only trains less). */
    public static void main(String[] args) throws Exception {
        Main.commandLine().execute("--version");
        Main.commandLine().execute("probe");
        Main.commandLine().execute("probe", "--json");
        try (ClientWarmUp.Responder responder = ClientWarmUp.Responder.start()) {
            InputStream stdin = System.in;
            System.setIn(new ByteArrayInputStream(
                    "GET / HTTP/1.1\r\nHost: training\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
            Main.commandLine().execute("nc", "--json", "127.0.0.1", String.valueOf(responder.port()));
            System.setIn(stdin);
            Main.commandLine().execute("get", "--json", responder.url());
        }
        try (ClientWarmUp.Responder responder = ClientWarmUp.Responder.startTls()) {
            Main.commandLine().execute("get", "--json", "--insecure", responder.url());
        }
        System.exit(0);
    }
}
