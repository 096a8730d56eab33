package io.tfo4j;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Properties of {@link FastOpenKeyFile#read}, on real files of mode 600 in a temporary directory: what
 * {@code format} writes reads back, comments, blank lines, CRLF and white space around keys change nothing,
 * and any other content is refused with an {@link IOException} naming the file (and the line), never another
 * exception.
 */
class FastOpenKeyFilePropertiesTest {
    private static Path directory;
    private static final AtomicInteger FILES = new AtomicInteger();

    @BeforeContainer
    static void makeDirectory() throws IOException {
        directory = Files.createTempDirectory("tfo4j-keyfile-properties");
    }

    @AfterContainer
    static void removeDirectory() throws IOException {
        try (Stream<Path> files = Files.walk(directory)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(file);
            }
        }
    }

    private static Path write(byte[] contents) throws IOException {
        Path file = directory.resolve("keys-" + FILES.incrementAndGet());
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.write(file, contents);
        return file;
    }

    @Provide
    Arbitrary<FastOpenKey> keys() {
        return Arbitraries.bytes().array(byte[].class).ofSize(FastOpenKey.LENGTH).map(FastOpenKey::ofBytes);
    }

    @Property(tries = 300)
    void formatThenWriteAtomicallyThenReadGivesTheKeys(@ForAll("keys") FastOpenKey primary,
                                                       @ForAll("keys") FastOpenKey backup, @ForAll boolean withBackup)
            throws IOException {
        FastOpenKeys keys = new FastOpenKeys(primary, withBackup ? backup : null);
        Path file = directory.resolve("atomic-" + FILES.incrementAndGet());
        FastOpenKeyFile.writeAtomically(file, FastOpenKeyFile.format(keys));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals(keys, FastOpenKeyFile.read(file));
    }

    /** Keys among comments, blank lines and white space, with LF or CRLF, in upper or lower case. */
    @Provide
    Arbitrary<String> decoratedFile() {
        Arbitrary<String> filler = Arbitraries.oneOf(Arbitraries.just(""), Arbitraries.of(" ", "\t", "  \t"),
                Arbitraries.strings().ofMaxLength(30).filter(s -> s.indexOf('\n') < 0 && s.indexOf('\r') < 0)
                        .map(s -> "# " + s));
        Arbitrary<String> space = Arbitraries.of("", " ", "\t", " \t ");
        return Combinators.combine(keys(), keys().injectNull(0.4), filler.list().ofMaxSize(3),
                        filler.list().ofMaxSize(3), filler.list().ofMaxSize(3), space, Arbitraries.of("\n", "\r\n"),
                        Arbitraries.of(true, false))
                .as((primary, backup, before, between, after, pad, newline, upper) -> {
                    List<String> lines = new ArrayList<>(before);
                    lines.add(pad + (upper ? primary.toHex().toUpperCase() : primary.toHex()) + pad);
                    lines.addAll(between);
                    if (backup != null) {
                        lines.add(pad + backup.toHex() + pad);
                    }
                    lines.addAll(after);
                    String expected = FastOpenKey.toSysctlText(primary, backup);
                    return expected + "|" + String.join(newline, lines);
                });
    }

    @Property(tries = 300)
    void commentsBlankLinesAndWhiteSpaceChangeNothing(@ForAll("decoratedFile") String expectedAndFile)
            throws IOException {
        int bar = expectedAndFile.indexOf('|');
        FastOpenKeys expected = FastOpenKey.fromSysctlText(expectedAndFile.substring(0, bar));
        Path file = write(expectedAndFile.substring(bar + 1).getBytes(StandardCharsets.UTF_8));
        assertEquals(expected, FastOpenKeyFile.read(file));
    }

    @Provide
    Arbitrary<byte[]> anyContents() {
        Arbitrary<byte[]> near = Arbitraries.strings().withChars("0123456789abcdefABCDEF#\n\r \t-xg\u0663\u00e9")
                .ofMaxLength(120).map(s -> s.getBytes(StandardCharsets.UTF_8));
        Arbitrary<byte[]> raw = Arbitraries.bytes().array(byte[].class).ofMaxSize(120);
        Arbitrary<byte[]> text = Arbitraries.strings().ofMaxLength(80).map(s -> s.getBytes(StandardCharsets.UTF_8));
        return Arbitraries.oneOf(near, raw, text);
    }

    @Property(tries = 500)
    void anyContentsReadsOrIsRefusedNamingTheFile(@ForAll("anyContents") byte[] contents) throws IOException {
        Path file = write(contents);
        try {
            FastOpenKeys keys = FastOpenKeyFile.read(file);
            assertTrue(FastOpenKeyFile.format(keys).contains(keys.primary().toHex()));
        } catch (IOException e) {
            assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
            assertTrue(e.getMessage().contains("Fix:") || e.getMessage().contains("not a text file"), e.getMessage());
        }
    }

    /** A file its group or others may read is refused whatever it holds, naming chmod 600. */
    @Property(tries = 100)
    void aFileOthersMayReadIsRefused(@ForAll("keys") FastOpenKey key, @ForAll("openModes") String mode)
            throws IOException {
        Path file = write(FastOpenKeyFile.format(key, null).getBytes(StandardCharsets.UTF_8));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
        IOException refused = assertThrows(IOException.class, () -> FastOpenKeyFile.read(file));
        assertTrue(refused.getMessage().contains("chmod 600 " + file), refused.getMessage());
    }

    @Provide
    Arbitrary<String> openModes() {
        return Arbitraries.of("rw-r-----", "rw----r--", "rw-r--r--", "r--r--r--", "rw-rw-rw-", "rwxr-x---");
    }

    @Property(tries = 200)
    void parseOfKeysAtAnyLineNumberNamesThatLine(@ForAll @Size(max = 30) List<@net.jqwik.api.constraints.AlphaChars String> junk,
                                                 @ForAll("keys") FastOpenKey key) {
        // A bad line after a good key: the message gives the line number of the first bad line.
        List<String> lines = new ArrayList<>();
        lines.add(key.toHex());
        lines.addAll(junk);
        int firstBad = -1;
        for (int i = 1; i < lines.size(); i++) {
            if (!lines.get(i).strip().isEmpty()) {
                firstBad = i + 1;
                break;
            }
        }
        try {
            FastOpenKeyFile.parse("f", String.join("\n", lines));
            assertEquals(-1, firstBad, "accepted a bad line");
        } catch (IOException e) {
            assertTrue(e.getMessage().startsWith("f:" + firstBad + ": "), e.getMessage());
        }
    }
}
