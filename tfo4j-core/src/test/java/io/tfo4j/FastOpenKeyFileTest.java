package io.tfo4j;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Key files: what is accepted, and that every refusal names the file, the line and the fix. */
class FastOpenKeyFileTest {
    private static final String K1 = "00112233445566778899aabbccddeeff";
    private static final String K2 = "ffeeddccbbaa99887766554433221100";

    @TempDir
    Path dir;

    private Path write(String text, String mode) throws IOException {
        Path file = dir.resolve("keys");
        Files.deleteIfExists(file); // a 0400 file from an earlier write: only root could write it again
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
        return file;
    }

    @Test
    void primaryAndBackupWithCommentsAndBlankLines() throws IOException {
        Path file = write("# fleet keys\n\n  " + K1 + "  \n# the old one, still accepted\n" + K2.toUpperCase()
                + "\n\n", "rw-------");
        FastOpenKeys keys = FastOpenKeyFile.read(file);
        assertEquals(FastOpenKey.fromHex(K1), keys.primary());
        assertEquals(FastOpenKey.fromHex(K2), keys.backup());
    }

    @Test
    void primaryOnlyAndModes0600And0400AreAccepted() throws IOException {
        FastOpenKeys keys = FastOpenKeyFile.read(write(K1 + "\n", "rw-------"));
        assertEquals(FastOpenKey.fromHex(K1), keys.primary());
        assertNull(keys.backup());
        assertTrue(keys.backupKey().isEmpty());
        assertEquals(keys, FastOpenKeyFile.read(write(K1, "r--------")));
        assertEquals(keys, FastOpenKeyFile.read(write("\r\n" + K1 + "\r\n", "rw-------")));
    }

    @Test
    void formatWritesWhatReadReads() throws IOException {
        for (int i = 0; i < 50; i++) {
            FastOpenKey primary = FastOpenKey.random();
            FastOpenKey backup = i % 2 == 0 ? FastOpenKey.random() : null;
            String text = FastOpenKeyFile.format(primary, backup);
            assertTrue(text.startsWith("#"), text);
            assertTrue(text.contains(primary.fingerprint()), text);
            assertEquals(new FastOpenKeys(primary, backup), FastOpenKeyFile.read(write(text, "rw-------")));
        }
    }

    @Test
    void aThirdKeyIsRefusedWithItsLine() throws IOException {
        Path file = write("# keys\n" + K1 + "\n" + K2 + "\n\n" + K1 + "\n", "rw-------");
        IOException e = assertThrows(IOException.class, () -> FastOpenKeyFile.read(file));
        assertTrue(e.getMessage().startsWith(file + ":5: a third key"), e.getMessage());
        assertTrue(e.getMessage().contains("Fix: remove the extra key"), e.getMessage());
    }

    @Test
    void badHexIsRefusedWithItsLineAndWhatIsWrong() throws IOException {
        Path file = write(K1 + "\n# backup\n" + K2.substring(0, 31) + "z\n", "rw-------");
        IOException e = assertThrows(IOException.class, () -> FastOpenKeyFile.read(file));
        assertTrue(e.getMessage().startsWith(file + ":3: not a key"), e.getMessage());
        assertTrue(e.getMessage().contains("'z'") && e.getMessage().contains("Fix:"), e.getMessage());
        assertFalse(e.getMessage().contains(K2.substring(0, 31)), "the message does not echo key material");

        Path shortKey = write(K1.substring(2) + "\n", "rw-------");
        IOException tooShort = assertThrows(IOException.class, () -> FastOpenKeyFile.read(shortKey));
        assertTrue(tooShort.getMessage().startsWith(shortKey + ":1: not a key"), tooShort.getMessage());
        assertTrue(tooShort.getMessage().contains("got 30"), tooShort.getMessage());
    }

    @Test
    void aFileWithoutKeysIsRefused() throws IOException {
        Path file = write("# nothing here\n\n", "rw-------");
        IOException e = assertThrows(IOException.class, () -> FastOpenKeyFile.read(file));
        assertTrue(e.getMessage().startsWith(file + ": no key"), e.getMessage());
    }

    @Test
    void aFileOthersOrTheGroupCanReadIsRefusedWithTheChmod() throws IOException {
        Path file = write(K1 + "\n", "rw-r--r--");
        IOException e = assertThrows(IOException.class, () -> FastOpenKeyFile.read(file));
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        assertTrue(e.getMessage().contains("mode 0644"), e.getMessage());
        assertTrue(e.getMessage().contains("chmod 600 " + file), e.getMessage());

        Path groupReadable = write(K1 + "\n", "rw-r-----");
        IOException group = assertThrows(IOException.class, () -> FastOpenKeyFile.read(groupReadable));
        assertTrue(group.getMessage().contains("its group") && group.getMessage().contains("mode 0640"),
                group.getMessage());

        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        assertEquals(FastOpenKey.fromHex(K1), FastOpenKeyFile.read(file).primary());
    }

    @Test
    void permissionsAreThoseOfTheTargetOfASymlink() throws IOException {
        // A Kubernetes Secret volume: keys -> ..data/keys, ..data -> ..2026_12_01_...
        Path target = write(K1 + "\n", "rw-r--r--");
        Path link = dir.resolve("link");
        Files.createSymbolicLink(link, target);
        assertThrows(IOException.class, () -> FastOpenKeyFile.read(link));
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("r--------"));
        assertEquals(FastOpenKey.fromHex(K1), FastOpenKeyFile.read(link).primary());
    }
}
