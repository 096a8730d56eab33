package io.tfo4j;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Decoding of the kernel's TCP_INFO bytes and /proc/net/netstat text. */
class ParsingTest {

    @Test
    void tcpInfoFields() {
        byte[] raw = new byte[104];
        raw[0] = 3;                    // SYN_RECV
        raw[5] = (byte) 0xa0;          // TCPI_OPT_TFO_CHILD | TCPI_OPT_SYN_DATA
        raw[7] = (byte) (2 << 1);      // fastopen_client_fail = 2 (bits 1-2 of byte 7)
        raw[16] = (byte) 0xb4;         // snd_mss = 1460
        raw[17] = 0x05;
        raw[68] = 0x10;                // rtt = 0x2710 = 10000 us
        raw[69] = 0x27;
        raw[100] = 7;                  // total_retrans
        TcpInfo info = TcpInfo.parse(raw);
        assertEquals(TcpState.SYN_RECV, info.state());
        assertTrue(info.synData());
        assertTrue(info.fastOpenChild());
        assertEquals(2, info.fastOpenClientFail());
        assertEquals(1460, info.sndMss());
        assertEquals(10000, info.rttMicros());
        assertEquals(7, info.totalRetrans());
    }

    @Test
    void shortTcpInfoFromAnOldKernel() {
        byte[] raw = new byte[8];
        raw[0] = 1;
        TcpInfo info = TcpInfo.parse(raw);
        assertEquals(TcpState.ESTABLISHED, info.state());
        assertFalse(info.synData());
        assertEquals(0, info.rttMicros());
        assertThrows(IllegalArgumentException.class, () -> TcpInfo.parse(new byte[4]));
    }

    @Test
    void countersFromNetstatAndTheirDifference() {
        List<String> before = List.of(
                "TcpExt: SyncookiesSent TCPFastOpenActive TCPFastOpenActiveFail TCPFastOpenPassive"
                        + " TCPFastOpenPassiveFail TCPFastOpenListenOverflow TCPFastOpenCookieReqd"
                        + " TCPFastOpenBlackhole TCPFastOpenPassiveAltKey",
                "TcpExt: 9 1 2 3 4 5 6 7 8",
                "IpExt: InNoRoutes",
                "IpExt: 0");
        List<String> after = List.of(before.get(0), "TcpExt: 9 11 2 13 4 5 16 7 8");
        FastOpenCounters first = FastOpenCounters.parse(before);
        assertEquals(new FastOpenCounters(1, 2, 3, 4, 5, 6, 7, 8), first);
        assertEquals(new FastOpenCounters(10, 0, 10, 0, 0, 10, 0, 0), FastOpenCounters.parse(after).minus(first));
    }

    @Test
    void missingCountersReadAsZero() {
        assertEquals(new FastOpenCounters(0, 0, 0, 0, 0, 0, 0, 0),
                FastOpenCounters.parse(List.of("TcpExt: SyncookiesSent", "TcpExt: 3")));
    }
}
