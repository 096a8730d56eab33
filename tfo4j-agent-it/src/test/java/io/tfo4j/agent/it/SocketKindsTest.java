package io.tfo4j.agent.it;

import io.tfo4j.FastOpenCounters;
import io.tfo4j.agent.it.apps.EchoClientApp;
import io.tfo4j.agent.it.apps.EchoServersApp;
import io.tfo4j.lab.WanLab;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every kind of JDK socket, on both sides, under the agent: listeners that are a {@code ServerSocketChannel},
 * a {@code ServerSocket} and an {@code AsynchronousServerSocketChannel} (one plain program,
 * {@link EchoServersApp}, {@code listen=} their three ports), and clients that are a blocking
 * {@code SocketChannel}, a {@code Socket}, an {@code AsynchronousSocketChannel}, and a {@code Socket} that
 * binds to a local address before it connects (which the JDK's own connect hook skips; the agent's does
 * not). With the cookie cached, each client's six connections carry their request in the SYN: the client
 * host's TCPFastOpenActive (SYN data acknowledged) and the server host's TCPFastOpenPassive.
 */
class SocketKindsTest {
    private static final String SERVER = WanLab.SERVER_ADDRESS;
    private static final List<String> PORTS = List.of("9001", "9002", "9003");

    @RegisterExtension
    final LabHosts lab = new LabHosts();
    private JavaProgram servers;

    @BeforeEach
    void hosts() throws Exception {
        List<String> arguments = new ArrayList<>(List.of(JavaProgram.agent("listen=9001-9003")));
        arguments.addAll(JavaProgram.main(EchoServersApp.class));
        arguments.add(SERVER);
        arguments.addAll(PORTS);
        servers = JavaProgram.start(lab.server(), JavaProgram.java25(), arguments, line -> line.equals("ready"));
        // The first connection to the server host fetches the cookie that all later ones use.
        client("channel", 1, List.of("9001"));
    }

    @AfterEach
    void close() throws Exception {
        if (servers != null) {
            servers.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"channel", "socket", "async", "bound-socket"})
    void eachKindOfClientRidesInTheSynToEachKindOfListener(String kind) throws Exception {
        FastOpenCounters clientBefore = lab.client().call(FastOpenCounters::read);
        FastOpenCounters serverBefore = lab.server().call(FastOpenCounters::read);
        JavaProgram.Finished run = client(kind, 2, PORTS);
        FastOpenCounters client = lab.client().call(FastOpenCounters::read).minus(clientBefore);
        FastOpenCounters server = lab.server().call(FastOpenCounters::read).minus(serverBefore);
        assertEquals(6, client.active(), () -> kind + ": client " + client + "\n" + run.text());
        assertEquals(6, server.passive(), () -> kind + ": server " + server + "\n" + servers.text());
    }

    private JavaProgram.Finished client(String kind, int count, List<String> ports) throws Exception {
        // window=200: a cold JVM's first write may come later than the default 10 ms after connect.
        List<String> arguments = new ArrayList<>(List.of(JavaProgram.agent("connect=9001-9003,window=200")));
        arguments.addAll(JavaProgram.main(EchoClientApp.class));
        arguments.addAll(List.of(kind, SERVER, Integer.toString(count)));
        arguments.addAll(ports);
        arguments.addAll(List.of("--bind", WanLab.CLIENT_ADDRESS));
        JavaProgram.Finished run = JavaProgram.run(lab.client(), JavaProgram.java25(), arguments, Duration.ofSeconds(60));
        assertEquals(0, run.exitCode(), run::text);
        return run;
    }
}
