package io.tfo4j.agent.jdk25;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FirstWriteTest {
    private static boolean unsafe(byte[] bytes) {
        return FirstWrite.isUnsafeHttpRequest(bytes, bytes.length);
    }

    private static boolean unsafe(String text) {
        return unsafe(text.getBytes(StandardCharsets.US_ASCII));
    }

    @ParameterizedTest
    @ValueSource(strings = {"POST /orders HTTP/1.1\r\n", "PUT /a HTTP/1.1", "DELETE /a HTTP/1.1", "PATCH /a HTTP/1.1",
            "PROPFIND /dav HTTP/1.1", "POST http://example.com/ HTTP/1.1", "POST HTTPS://example.com/ HTTP/1.1",
            "PRI * HTTP/2.0\r\n", "MKCOL ",
            "X-CUSTOM-METHOD /x HTTP/1.1"})
    void requestsThatAreNotSafeWait(String request) {
        assertTrue(unsafe(request), request);
    }

    @ParameterizedTest
    @ValueSource(strings = {"GET / HTTP/1.1\r\nHost: x\r\n", "HEAD / HTTP/1.1", "OPTIONS * HTTP/1.1", "TRACE / HTTP/1.1",
            "get /lowercase HTTP/1.1", "POST", "POSTING", "", "SSH-2.0-OpenSSH_9.2\r\n", "HELO example.com\r\n",
            "SET key value\r\n", "AUTH PLAIN dGVzdA==",
            "POST\t/ HTTP/1.1", "POST 123"})
    void everythingElseRides(String bytes) {
        assertFalse(unsafe(bytes), bytes);
    }

    @ParameterizedTest
    @ValueSource(ints = {0x16, 0x00, 0x80, 0xff})
    void binaryFirstWritesRide(int firstByte) {
        // A TLS ClientHello starts 0x16 0x03; a MySQL/PostgreSQL client message starts with a length.
        assertFalse(unsafe(new byte[] {(byte) firstByte, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00}));
    }
}
