package io.tfo4j.agent.common;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ListenPortsTest {
    /**
     * Lines as /proc/net/tcp writes them: the kernel lists listeners first (8080, 9000), then other sockets
     * (a connection on 8080); the reading stops there, so a listener after it (8081) is not seen.
     */
    private static final List<String> TABLE = List.of(
            "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
            "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0 100 0 0 10 0",
            "   1: 00000000:2328 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 777 1 0 100 0 0 10 0",
            "   2: 0100007F:1F90 0100007F:A2B4 01 00000000:00000000 00:00000000 00000000     0        0 4243 1 0 20 4 30 10 -1",
            "   3: 00000000000000000000000000000000:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000"
                    + " 00:00000000 00000000     0        0 4244 1 0 100 0 0 10 0");

    private static Map<Long, Integer> listeners(List<String> lines, Set<Integer> ports) throws IOException {
        return ListenPorts.listeners(new BufferedReader(new StringReader(String.join("\n", lines))), ports);
    }

    @Test
    void theListenersOfTheAskedPortsUpToTheFirstSocketThatIsNotListening() throws IOException {
        assertEquals(Map.of(4242L, 8080, 777L, 9000), listeners(TABLE, Set.of(8080, 9000, 8081)));
        assertEquals(Map.of(4242L, 8080), listeners(TABLE, Set.of(8080)));
        assertEquals(Map.of(), listeners(TABLE, Set.of(1)));
        assertEquals(Map.of(), listeners(List.of(), Set.of(8080)));
    }
}
