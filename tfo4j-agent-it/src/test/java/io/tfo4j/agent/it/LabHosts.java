package io.tfo4j.agent.it;

import io.tfo4j.lab.LinkProfile;
import io.tfo4j.lab.NetNamespace;
import io.tfo4j.lab.WanLab;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.time.Duration;
import java.util.Optional;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The two hosts of one test ({@code @RegisterExtension final LabHosts lab = new LabHosts();}): a client host
 * with {@code net.ipv4.tcp_fastopen=1}, as most machines ship, and a server host with 3, joined by a 20 ms
 * link; made before each test (after which the test's own {@code @BeforeEach} runs) and removed after it
 * (after the test's own {@code @AfterEach}). Where network namespaces cannot be made, the test is skipped
 * with the reason.
 */
final class LabHosts implements BeforeEachCallback, AfterEachCallback {
    private static final Duration RTT = Duration.ofMillis(20);
    private WanLab lab;

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        Optional<String> problem = WanLab.unavailableReason();
        assumeTrue(problem.isEmpty(), () -> "skipped: " + problem.orElse(""));
        lab = WanLab.create(LinkProfile.rtt(RTT), 1, 3);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (lab != null) {
            lab.close();
            lab = null;
        }
    }

    /** The client host ({@link WanLab#CLIENT_ADDRESS}). */
    NetNamespace client() {
        return lab.client();
    }

    /** The server host ({@link WanLab#SERVER_ADDRESS}). */
    NetNamespace server() {
        return lab.server();
    }
}
