package io.tfo4j;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A Fast Open key file: the form in which a fleet hands the same server keys to every backend.
 *
 * <pre>
 * # tfo4j Fast Open keys: first key primary, second (optional) backup
 * 00112233445566778899aabbccddeeff
 * ffeeddccbbaa99887766554433221100
 * </pre>
 *
 * One key per line as 32 hex digits (the 16 key bytes in order, <b>not</b> the sysctl's word order); the
 * first key is the primary, an optional second key the backup (see {@link FastOpenKeys}); lines starting
 * with {@code #} and blank lines are ignored, as is white space around a key. A file with no key or more
 * than two, a line that is not 32 hex digits, or a file that its group or others may read (POSIX
 * permissions, checked after following symbolic links, as a Kubernetes Secret volume has them) is
 * refused with an {@link IOException} naming the file, the line and the fix. Keep it {@code chmod 600}
 * (or {@code 400}); in Kubernetes, mount the Secret as a volume with {@code defaultMode: 0400}.
 */
public final class FastOpenKeyFile {
    private static final Set<PosixFilePermission> TOO_OPEN = Set.of(
            PosixFilePermission.GROUP_READ, PosixFilePermission.OTHERS_READ);

    private FastOpenKeyFile() {
    }

    /**
     * Reads and checks a key file.
     *
     * @return the primary key and the backup key, if the file has one
     * @throws IOException when the file cannot be read, is readable by group or others, or is malformed;
     *                     the message names the file, the line and the fix
     */
    public static FastOpenKeys read(Path file) throws IOException {
        checkPermissions(file);
        byte[] raw = Files.readAllBytes(file);
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(raw)).toString();
        } catch (CharacterCodingException e) {
            throw new IOException(file + ": not a text file (not UTF-8); a Fast Open key file holds one key per"
                    + " line as 32 hex digits (make one with FastOpenKeyFile.format or `tfo4j keys new`)", e);
        }
        return parse(file.toString(), text);
    }

    private static void checkPermissions(Path file) throws IOException {
        Set<PosixFilePermission> permissions;
        try {
            permissions = Files.getPosixFilePermissions(file);
        } catch (UnsupportedOperationException e) {
            return; // not a POSIX file system: nothing to check
        }
        for (PosixFilePermission permission : TOO_OPEN) {
            if (permissions.contains(permission)) {
                throw new IOException(file + ": the Fast Open key file is readable by "
                        + (permission == PosixFilePermission.GROUP_READ ? "its group" : "others")
                        + " (mode " + mode(permissions) + "), and anyone holding the key can forge cookies;"
                        + " refused. Fix: chmod 600 " + file
                        + " (in Kubernetes: defaultMode: 0400 on the Secret volume)");
            }
        }
    }

    private static String mode(Set<PosixFilePermission> permissions) {
        int mode = 0;
        for (PosixFilePermission permission : permissions) {
            mode |= 1 << (8 - permission.ordinal());
        }
        return String.format("%04o", mode);
    }

    /** Parses key file text; {@code name} names the file in messages. */
    static FastOpenKeys parse(String name, String text) throws IOException {
        List<FastOpenKey> keys = new ArrayList<>(2);
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int number = i + 1;
            if (keys.size() == 2) {
                throw new IOException(name + ":" + number + ": a third key; a Fast Open key file holds at most"
                        + " two (the primary, then an optional backup). Fix: remove the extra key lines"
                        + " (or comment them out with #)");
            }
            try {
                keys.add(FastOpenKey.fromHex(line));
            } catch (IllegalArgumentException e) {
                throw new IOException(name + ":" + number + ": not a key: " + e.getMessage()
                        + ". Fix: write each key on its own line as 32 hex digits (make one with"
                        + " `tfo4j keys new` or FastOpenKeyFile.format(FastOpenKey.random(), null))", e);
            }
        }
        if (keys.isEmpty()) {
            throw new IOException(name + ": no key in the file (only blank or # lines). Fix: put the primary key"
                    + " on a line as 32 hex digits (make one with `tfo4j keys new`)");
        }
        return new FastOpenKeys(keys.get(0), keys.size() > 1 ? keys.get(1) : null);
    }

    /**
     * The text of a key file holding these keys, with a comment header naming the fingerprints (write it
     * with mode 0600, to a temporary file that is then renamed over the old one).
     *
     * @param backup the backup key, or null
     */
    public static String format(FastOpenKey primary, FastOpenKey backup) {
        StringBuilder text = new StringBuilder()
                .append("# tfo4j Fast Open server keys: keep this file secret (chmod 600).\n")
                .append("# One key per line, 32 hex digits (the 16 key bytes in order); the first line is the\n")
                .append("# primary key (makes new cookies), an optional second line the backup (still accepted).\n")
                .append("# primary ").append(primary.fingerprint());
        if (backup != null) {
            text.append(", backup ").append(backup.fingerprint());
        }
        text.append('\n').append(primary.toHex()).append('\n');
        if (backup != null) {
            text.append(backup.toHex()).append('\n');
        }
        return text.toString();
    }

    /** The text of a key file holding these keys; see {@link #format(FastOpenKey, FastOpenKey)}. */
    public static String format(FastOpenKeys keys) {
        return format(keys.primary(), keys.backup());
    }

    /**
     * Writes {@code contents} to a temporary file of mode 600 in the same directory, forces it to disk and
     * renames it over {@code file}: a server reading or watching the file sees the old or the new keys,
     * never half a file. (A symbolic link at {@code file} is replaced by the file.) Give it the text of
     * {@link #format}, with comments of your own after it if you like.
     */
    public static void writeAtomically(Path file, String contents) throws IOException {
        Path directory = file.toAbsolutePath().getParent();
        Path temporary = Files.createTempFile(directory, "." + file.getFileName() + ".", ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer bytes = ByteBuffer.wrap(contents.getBytes(StandardCharsets.UTF_8));
                while (bytes.hasRemaining()) {
                    channel.write(bytes);
                }
                channel.force(true);
            }
            Files.move(temporary, file.toAbsolutePath(), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(temporary);
            throw e;
        }
    }
}
