package io.tfo4j;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Properties of the two text forms of {@link FastOpenKey}: the key-file hex and the sysctl's little-endian
 * words round-trip for any key, arbitrary text is refused only with an {@link IllegalArgumentException} naming
 * what is wrong, and what a key prints (fingerprint, toString) never holds the key.
 */
class FastOpenKeyPropertiesTest {
    private static final String HEX_DIGITS = "0123456789abcdefABCDEF";

    @Provide
    Arbitrary<FastOpenKey> keys() {
        return Arbitraries.bytes().array(byte[].class).ofSize(FastOpenKey.LENGTH).map(FastOpenKey::ofBytes);
    }

    /** Text near the grammar: hex digits, separators, white space, other ASCII and non-ASCII digits. */
    @Provide
    Arbitrary<String> nearKeyText() {
        Arbitrary<String> soup = Arbitraries.strings()
                .withChars(HEX_DIGITS + "-,- \t\r\nxgZ#:")
                .withChars('\u0663', '\uff10', '\uff41', '\u00e9', '\u0000')
                .ofMaxLength(90);
        Arbitrary<String> mutatedKey = Combinators.combine(keys(), keys().injectNull(0.5),
                        Arbitraries.integers().between(0, 80), Arbitraries.chars().with("0-, g\u0663\uff41\n"))
                .as((primary, backup, at, c) -> {
                    StringBuilder text = new StringBuilder(FastOpenKey.toSysctlText(primary, backup));
                    text.insert(Math.min(at, text.length()), c);
                    return text.toString();
                });
        Arbitrary<String> replacedInKey = Combinators.combine(keys(), keys().injectNull(0.5),
                        Arbitraries.integers().between(0, 80), Arbitraries.chars().with("-, g\u0663\uff10\uff41\n"),
                        Arbitraries.of(true, false))
                .as((primary, backup, at, c, hex) -> {
                    StringBuilder text = new StringBuilder(hex ? primary.toHex() : FastOpenKey.toSysctlText(primary, backup));
                    text.setCharAt(Math.min(at, text.length() - 1), c);
                    return text.toString();
                });
        return Arbitraries.oneOf(soup, mutatedKey, replacedInKey, Arbitraries.strings().ofMaxLength(60));
    }

    @Property(tries = 2000)
    void hexRoundTripsInEitherCase(@ForAll("keys") FastOpenKey key) {
        assertEquals(32, key.toHex().length());
        assertEquals(key, FastOpenKey.fromHex(key.toHex()));
        assertEquals(key, FastOpenKey.fromHex(key.toHex().toUpperCase(Locale.ROOT)));
    }

    @Property(tries = 2000)
    void sysctlTextRoundTripsWithAndWithoutBackup(@ForAll("keys") FastOpenKey primary,
                                                  @ForAll("keys") FastOpenKey backup) {
        assertEquals(new FastOpenKeys(primary, null), FastOpenKey.fromSysctlText(FastOpenKey.toSysctlText(primary, null)));
        String both = FastOpenKey.toSysctlText(primary, backup);
        assertEquals(new FastOpenKeys(primary, backup), FastOpenKey.fromSysctlText(both));
        assertEquals(new FastOpenKeys(primary, backup), FastOpenKey.fromSysctlText(" " + both + "\n"),
                "the trailing newline of /proc is ignored");
    }

    /** Each sysctl word is the 32-bit little-endian value of 4 key bytes; the kernel drops leading zeros. */
    @Property(tries = 2000)
    void sysctlWordsAreLittleEndianAndMayDropLeadingZeros(@ForAll("keys") FastOpenKey key) {
        byte[] bytes = key.bytes();
        String[] words = FastOpenKey.toSysctlText(key, null).split("-");
        assertEquals(4, words.length);
        StringBuilder unpadded = new StringBuilder();
        for (int i = 0; i < 4; i++) {
            int word = ByteBuffer.wrap(bytes, 4 * i, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
            assertEquals(HexFormat.of().toHexDigits(word), words[i], "word " + (i + 1));
            unpadded.append(i == 0 ? "" : "-").append(Integer.toHexString(word));
        }
        assertEquals(new FastOpenKeys(key, null), FastOpenKey.fromSysctlText(unpadded.toString()));
        assertEquals(new FastOpenKeys(key, null),
                FastOpenKey.fromSysctlText(unpadded.toString().toUpperCase(Locale.ROOT)));
    }

    /** The key-file hex is the bytes in order, so unless the key is a palindrome word-wise it is not the sysctl text. */
    @Property(tries = 1000)
    void hexIsTheBytesInOrder(@ForAll("keys") FastOpenKey key) {
        assertEquals(HexFormat.of().formatHex(key.bytes()), key.toHex());
    }

    @Property(tries = 3000)
    void fromHexTakesExactly32AsciiHexDigitsOrNamesTheProblem(@ForAll("nearKeyText") String text) {
        boolean valid = text.length() == 32 && text.chars().allMatch(c -> HEX_DIGITS.indexOf(c) >= 0);
        try {
            FastOpenKey key = FastOpenKey.fromHex(text);
            assertTrue(valid, () -> "accepted " + escape(text));
            assertEquals(text.toLowerCase(Locale.ROOT), key.toHex());
        } catch (IllegalArgumentException e) {
            assertFalse(valid, () -> "refused valid " + escape(text) + ": " + e);
            assertEquals(IllegalArgumentException.class, e.getClass(), () -> "for " + escape(text) + ": " + e);
            String message = e.getMessage();
            assertTrue(message.startsWith("a Fast Open key is 32 hex digits"), message);
            assertTrue(text.length() != 32 ? message.contains("got " + text.length() + " characters")
                    : message.contains("is not a hex digit"), message);
        }
    }

    @Property(tries = 3000)
    void fromSysctlTextTakesTheKernelsGrammarOrNamesTheProblem(@ForAll("nearKeyText") String text) {
        String[] parts = text.strip().split(",", -1);
        boolean valid = parts.length <= 2 && java.util.Arrays.stream(parts)
                .allMatch(part -> part.strip().matches("[0-9a-fA-F]{1,8}(-[0-9a-fA-F]{1,8}){3}"));
        try {
            FastOpenKeys keys = FastOpenKey.fromSysctlText(text);
            assertTrue(valid, () -> "accepted " + escape(text) + " as " + keys);
        } catch (IllegalArgumentException e) {
            assertFalse(valid, () -> "refused valid " + escape(text) + ": " + e);
            assertEquals(IllegalArgumentException.class, e.getClass(), () -> "for " + escape(text) + ": " + e);
            assertTrue(e.getMessage().contains("tcp_fastopen_key text"), e.getMessage());
        }
    }

    /** Found by the two properties above: Character.digit took other scripts' digits as hex. */
    @Example
    void nonAsciiDigitsAreNotHexDigits() {
        IllegalArgumentException hex = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> FastOpenKey.fromHex("\u0663" + "0".repeat(31)));
        assertEquals(IllegalArgumentException.class, hex.getClass());
        assertTrue(hex.getMessage().contains("character 1 is not a hex digit"), hex.getMessage());
        IllegalArgumentException sysctl = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> FastOpenKey.fromSysctlText("\uff10-0-0-0"));
        assertTrue(sysctl.getMessage().contains("word 1 of the primary key"), sysctl.getMessage());
    }

    @Property(tries = 1000)
    void whatAKeyPrintsNeverHoldsTheKey(@ForAll("keys") FastOpenKey primary, @ForAll("keys") FastOpenKey backup) {
        String fingerprint = primary.fingerprint();
        assertTrue(fingerprint.matches("[0-9a-f]{8}"), fingerprint);
        String printed = primary + " " + new FastOpenKeys(primary, backup) + " " + FastOpenKeyFile.format(primary, backup)
                .lines().filter(line -> line.startsWith("#")).reduce("", String::concat);
        for (FastOpenKey key : new FastOpenKey[]{primary, backup}) {
            assertFalse(printed.contains(key.toHex()), printed);
            for (String word : FastOpenKey.toSysctlText(key, null).split("-")) {
                assertFalse(printed.contains(word), () -> "sysctl word " + word + " in " + printed);
            }
        }
    }

    @Property(tries = 200)
    void ofBytesTakesOnly16Bytes(@ForAll @Size(max = 40) byte[] bytes) {
        try {
            assertEquals(HexFormat.of().formatHex(bytes), FastOpenKey.ofBytes(bytes).toHex());
            assertEquals(16, bytes.length);
        } catch (IllegalArgumentException e) {
            if (bytes.length == 16) {
                fail(e);
            }
            assertTrue(e.getMessage().contains("got " + bytes.length), e.getMessage());
        }
    }

    static String escape(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : text.toCharArray()) {
            out.append(c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format("\\u%04x", (int) c));
        }
        return out.append('"').toString();
    }
}
