package io.tfo4j.agent.common;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ListenPortsTest {
    /** Lines as /proc/net/tcp and tcp6 write them (a listener on 8080, one on 9000 of another process, a connection). */
    private static final List<String> TABLE = List.of(
            "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
            "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0 100 0 0 10 0",
            "   1: 00000000:2328 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 777 1 0 100 0 0 10 0",
            "   2: 0100007F:1F90 0100007F:A2B4 01 00000000:00000000 00:00000000 00000000     0        0 4243 1 0 20 4 30 10 -1",
            "   3: 00000000000000000000000000000000:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000"
                    + " 00:00000000 00000000     0        0 4244 1 0 100 0 0 10 0");

    @Test
    void listeningPortsAreThoseInListenStateWhoseSocketThisProcessHolds() {
        assertEquals(Set.of(8080, 8081), ListenPorts.listeningPorts(TABLE, Set.of(4242L, 4243L, 4244L)));
        assertEquals(Set.of(), ListenPorts.listeningPorts(TABLE, Set.of()));
        assertEquals(Set.of(), ListenPorts.listeningPorts(List.of(), Set.of(1L)));
    }
}
