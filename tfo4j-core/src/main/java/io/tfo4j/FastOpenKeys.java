package io.tfo4j;

import java.util.Objects;
import java.util.Optional;

/**
 * The Fast Open keys of a listener (or of a key file, or of the sysctl): a primary key, with which the
 * kernel makes every new cookie, and an optional backup key, whose cookies are still accepted (counted as
 * {@code TCPFastOpenPassiveAltKey}) and answered with a fresh primary cookie. Backup keys need Linux 5.2+.
 *
 * <p>To rotate a fleet without failures: give every server {@code (old, new)}; once all have it, give
 * every server {@code (new, old)}; after the cookie lifetime you allow, {@code (new, null)}.
 *
 * @param primary the key that makes new cookies
 * @param backup  the key whose cookies are also accepted, or null
 */
public record FastOpenKeys(FastOpenKey primary, FastOpenKey backup) {
    public FastOpenKeys {
        Objects.requireNonNull(primary, "primary key");
    }

    /** The backup key, if there is one. */
    public Optional<FastOpenKey> backupKey() {
        return Optional.ofNullable(backup);
    }

    /** The text of the sysctl {@code net.ipv4.tcp_fastopen_key} for these keys. */
    public String toSysctlText() {
        return FastOpenKey.toSysctlText(primary, backup);
    }

    /** The 16 or 32 bytes of the {@code TCP_FASTOPEN_KEY} socket option. */
    byte[] optionBytes() {
        byte[] value = new byte[backup == null ? FastOpenKey.LENGTH : 2 * FastOpenKey.LENGTH];
        System.arraycopy(primary.bytes(), 0, value, 0, FastOpenKey.LENGTH);
        if (backup != null) {
            System.arraycopy(backup.bytes(), 0, value, FastOpenKey.LENGTH, FastOpenKey.LENGTH);
        }
        return value;
    }

    /** Fingerprints only, never the keys. */
    @Override
    public String toString() {
        return "FastOpenKeys[primary=" + primary + ", backup=" + (backup == null ? "none" : backup) + "]";
    }
}
