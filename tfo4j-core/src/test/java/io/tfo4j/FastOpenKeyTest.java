package io.tfo4j;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.HexFormat;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Property-style checks of the key value type: hex and sysctl text round trips, byte order, no leaks. */
class FastOpenKeyTest {
    private static final int ROUNDS = 2000;

    @Test
    void hexRoundTripsAndIsTheBytesInOrder() {
        Random random = new Random(11);
        for (int i = 0; i < ROUNDS; i++) {
            byte[] bytes = new byte[16];
            random.nextBytes(bytes);
            FastOpenKey key = FastOpenKey.ofBytes(bytes);
            String hex = key.toHex();
            assertEquals(HexFormat.of().formatHex(bytes), hex);
            assertEquals(key, FastOpenKey.fromHex(hex));
            assertEquals(key, FastOpenKey.fromHex(hex.toUpperCase()));
            assertEquals(key.hashCode(), FastOpenKey.fromHex(hex).hashCode());
            assertArrayEquals(bytes, key.bytes());
        }
    }

    @Test
    void sysctlTextRoundTripsWithAndWithoutBackup() {
        for (int i = 0; i < ROUNDS; i++) {
            FastOpenKey primary = FastOpenKey.random();
            FastOpenKey backup = FastOpenKey.random();
            String single = FastOpenKey.toSysctlText(primary, null);
            assertTrue(single.matches("[0-9a-f]{8}(-[0-9a-f]{8}){3}"), single);
            assertEquals(new FastOpenKeys(primary, null), FastOpenKey.fromSysctlText(single));
            String both = FastOpenKey.toSysctlText(primary, backup);
            assertEquals(single + "," + FastOpenKey.toSysctlText(backup, null), both);
            FastOpenKeys parsed = FastOpenKey.fromSysctlText(both + "\n");
            assertEquals(primary, parsed.primary());
            assertEquals(backup, parsed.backup());
            assertEquals(both, parsed.toSysctlText());
        }
    }

    @Test
    void sysctlTextStoresEachWordLittleEndian() {
        FastOpenKeys keys = FastOpenKey.fromSysctlText("00112233-44556677-8899aabb-ccddeeff");
        assertEquals("33221100" + "77665544" + "bbaa9988" + "ffeeddcc", keys.primary().toHex());
        assertNull(keys.backup());
        assertEquals("00112233-44556677-8899aabb-ccddeeff", keys.toSysctlText());
        // The kernel's own sscanf("%x") accepts short words; they are numbers, so 1 is 00000001.
        assertEquals("01000000" + "00000000".repeat(3), FastOpenKey.fromSysctlText("1-0-0-0").primary().toHex());
        // Copying the hex text as bytes is the mistake that breaks cookies: it is a different key.
        assertNotEquals(FastOpenKey.fromHex("00112233445566778899aabbccddeeff"), keys.primary());
        FastOpenKeys withBackup = FastOpenKey.fromSysctlText(
                "00112233-44556677-8899aabb-ccddeeff,ffffffff-00000000-00000001-80000000");
        assertEquals("ffffffff" + "00000000" + "01000000" + "00000080", withBackup.backup().toHex());
    }

    @Test
    void toStringNeverShowsTheKey() {
        Set<String> fingerprints = new HashSet<>();
        for (int i = 0; i < ROUNDS; i++) {
            FastOpenKey key = FastOpenKey.random();
            FastOpenKey backup = FastOpenKey.random();
            String text = key.toString();
            String hex = key.toHex();
            assertTrue(text.matches("FastOpenKey\\[sha256:[0-9a-f]{8}]"), text);
            assertTrue(text.contains(key.fingerprint()));
            for (int start = 0; start + 8 <= 32; start += 4) {
                assertFalse(text.contains(hex.substring(start, start + 8)), "toString leaks part of the key");
            }
            String pair = new FastOpenKeys(key, backup).toString();
            assertFalse(pair.contains(hex) || pair.contains(backup.toHex()), pair);
            for (String word : FastOpenKey.toSysctlText(key, backup).split("[-,]")) {
                assertFalse(pair.contains(word), "toString leaks a sysctl word");
            }
            fingerprints.add(key.fingerprint());
        }
        assertTrue(fingerprints.size() > ROUNDS - 2, "fingerprints tell keys apart");
    }

    @Test
    void badTextIsRefusedNamingWhatIsWrong() {
        IllegalArgumentException shortHex = assertThrows(IllegalArgumentException.class,
                () -> FastOpenKey.fromHex("0011"));
        assertTrue(shortHex.getMessage().contains("32 hex digits") && shortHex.getMessage().contains("got 4"),
                shortHex.getMessage());
        IllegalArgumentException notHex = assertThrows(IllegalArgumentException.class,
                () -> FastOpenKey.fromHex("00112233445566778899aabbccddeeXf"));
        assertTrue(notHex.getMessage().contains("character 31") && notHex.getMessage().contains("'X'"),
                notHex.getMessage());
        assertThrows(IllegalArgumentException.class, () -> FastOpenKey.fromHex("0x112233445566778899aabbccddeeff"));
        assertThrows(IllegalArgumentException.class, () -> FastOpenKey.ofBytes(new byte[15]));
        IllegalArgumentException words = assertThrows(IllegalArgumentException.class,
                () -> FastOpenKey.fromSysctlText("00112233-44556677-8899aabb"));
        assertTrue(words.getMessage().contains("four"), words.getMessage());
        assertThrows(IllegalArgumentException.class, () -> FastOpenKey.fromSysctlText("00112233445566778899aabbccddeeff"));
        assertThrows(IllegalArgumentException.class, () -> FastOpenKey.fromSysctlText("1-2-3-4,5-6-7-8,9-a-b-c"));
        assertThrows(IllegalArgumentException.class, () -> FastOpenKey.fromSysctlText("1-2-3-123456789"));
        assertThrows(IllegalArgumentException.class, () -> FastOpenKey.fromSysctlText("1-2-3-g"));
    }
}
