package io.tfo4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * A TCP Fast Open server key: the 16 bytes of secret from which a server makes and checks cookies (the
 * cookie is SipHash over the client and server addresses, keyed by these bytes). Listeners that must
 * accept each other's cookies, such as the backends behind one address, need the same key; see
 * {@link FastOpen#setServerKeys(java.nio.channels.ServerSocketChannel, FastOpenKey, FastOpenKey)}.
 *
 * <p>Immutable. {@link #toString()} never shows the key: it shows a fingerprint (the first 8 hex digits
 * of the SHA-256 of the key bytes), enough to tell keys apart in logs.
 *
 * <p>Two text forms exist and they are <b>not</b> the same: {@link #toHex()} is the 16 bytes in order (the
 * form of a {@link FastOpenKeyFile}), while the sysctl {@code net.ipv4.tcp_fastopen_key} shows four 32-bit
 * words each stored little-endian, so sysctl text {@code 00112233-...} is the byte sequence
 * {@code 33 22 11 00 ...}. Use {@link #fromSysctlText(String)} and {@link #toSysctlText(FastOpenKey,
 * FastOpenKey)} for that form; copying the hex across gives keys whose cookies do not match.
 */
public final class FastOpenKey {
    /** The key length the kernel takes ({@code TCP_FASTOPEN_KEY_LENGTH}). */
    public static final int LENGTH = 16;

    private static final HexFormat HEX = HexFormat.of();
    private static final SecureRandom RANDOM = new SecureRandom();

    private final byte[] bytes;

    private FastOpenKey(byte[] bytes) {
        this.bytes = bytes;
    }

    /** A fresh key from {@link SecureRandom}. */
    public static FastOpenKey random() {
        byte[] bytes = new byte[LENGTH];
        RANDOM.nextBytes(bytes);
        return new FastOpenKey(bytes);
    }

    /**
     * A key from its 16 bytes (copied).
     *
     * @throws IllegalArgumentException when {@code bytes} is not 16 bytes long
     */
    public static FastOpenKey ofBytes(byte[] bytes) {
        if (bytes.length != LENGTH) {
            throw new IllegalArgumentException("a Fast Open key is " + LENGTH + " bytes, got " + bytes.length);
        }
        return new FastOpenKey(bytes.clone());
    }

    /**
     * A key from exactly 32 hex digits, the 16 bytes in order (upper or lower case, no separators).
     *
     * @throws IllegalArgumentException naming what is wrong: the length or the first character that is not a
     *                                  hex digit
     */
    public static FastOpenKey fromHex(String hex) {
        if (hex.length() != 2 * LENGTH) {
            throw new IllegalArgumentException("a Fast Open key is " + 2 * LENGTH
                    + " hex digits (the 16 bytes in order), got " + hex.length() + " characters");
        }
        for (int i = 0; i < hex.length(); i++) {
            if (!isHexDigit(hex.charAt(i))) {
                throw new IllegalArgumentException("a Fast Open key is " + 2 * LENGTH
                        + " hex digits, but character " + (i + 1) + " is not a hex digit: '" + hex.charAt(i) + "'");
            }
        }
        return new FastOpenKey(HEX.parseHex(hex));
    }

    /** ASCII only: Character.digit also takes other scripts' digits (Arabic-Indic, fullwidth), which the kernel refuses. */
    private static boolean isHexDigit(char c) {
        return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F';
    }

    /** The 32 lower-case hex digits of the key bytes in order: the secret itself, handle it as such. */
    public String toHex() {
        return HEX.formatHex(bytes);
    }

    /** A copy of the 16 key bytes. */
    public byte[] bytes() {
        return bytes.clone();
    }

    /**
     * Parses the text of the sysctl {@code net.ipv4.tcp_fastopen_key}:
     * {@code xxxxxxxx-xxxxxxxx-xxxxxxxx-xxxxxxxx}, optionally followed by {@code ,} and a backup key in the
     * same form; each group is a 32-bit word in hex (1 to 8 digits, as the kernel accepts), stored
     * little-endian. Surrounding white space (the trailing newline of {@code /proc}) is ignored.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static FastOpenKeys fromSysctlText(String text) {
        String trimmed = text.strip();
        String[] keys = trimmed.split(",", -1);
        if (keys.length > 2) {
            throw new IllegalArgumentException("sysctl tcp_fastopen_key text holds at most two keys (primary,backup),"
                    + " got " + keys.length);
        }
        FastOpenKey primary = fromSysctlWords(keys[0].strip(), "primary");
        FastOpenKey backup = keys.length == 2 ? fromSysctlWords(keys[1].strip(), "backup") : null;
        return new FastOpenKeys(primary, backup);
    }

    private static FastOpenKey fromSysctlWords(String text, String which) {
        String[] words = text.split("-", -1);
        if (words.length != 4) {
            throw new IllegalArgumentException("the " + which + " key in sysctl tcp_fastopen_key text is four"
                    + " 32-bit hex words joined by '-' (xxxxxxxx-xxxxxxxx-xxxxxxxx-xxxxxxxx), got " + words.length
                    + " part(s)");
        }
        ByteBuffer buffer = ByteBuffer.allocate(LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 4; i++) {
            String word = words[i];
            if (word.isEmpty() || word.length() > 8) {
                throw new IllegalArgumentException("word " + (i + 1) + " of the " + which
                        + " key in sysctl tcp_fastopen_key text must be 1 to 8 hex digits, got " + word.length());
            }
            for (int j = 0; j < word.length(); j++) {
                if (!isHexDigit(word.charAt(j))) {
                    throw new IllegalArgumentException("word " + (i + 1) + " of the " + which
                            + " key in sysctl tcp_fastopen_key text has a character that is not a hex digit: '"
                            + word.charAt(j) + "'");
                }
            }
            buffer.putInt((int) Long.parseLong(word, 16));
        }
        return new FastOpenKey(buffer.array());
    }

    /**
     * The text to write to the sysctl {@code net.ipv4.tcp_fastopen_key} (what the kernel prints too):
     * {@code xxxxxxxx-xxxxxxxx-xxxxxxxx-xxxxxxxx}, then {@code ,} and the backup when there is one.
     *
     * @param backup the backup key, or null
     */
    public static String toSysctlText(FastOpenKey primary, FastOpenKey backup) {
        String text = primary.toSysctlWords();
        return backup == null ? text : text + "," + backup.toSysctlWords();
    }

    private String toSysctlWords() {
        ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        StringBuilder text = new StringBuilder(35);
        for (int i = 0; i < 4; i++) {
            if (i > 0) {
                text.append('-');
            }
            text.append(HexFormat.of().toHexDigits(buffer.getInt(4 * i)));
        }
        return text.toString();
    }

    /** The first 8 hex digits of the SHA-256 of the key bytes: tells keys apart without revealing them. */
    public String fingerprint() {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(bytes);
            return HEX.formatHex(digest, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof FastOpenKey key && MessageDigest.isEqual(bytes, key.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    /** {@code FastOpenKey[sha256:xxxxxxxx]}: a fingerprint, never the key. */
    @Override
    public String toString() {
        return "FastOpenKey[sha256:" + fingerprint() + "]";
    }
}
