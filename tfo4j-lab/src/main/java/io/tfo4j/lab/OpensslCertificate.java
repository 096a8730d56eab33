package io.tfo4j.lab;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A self-signed RSA-2048 certificate and its key as PEM files, made by {@code openssl} (as people make them
 * for nginx), for TLS peers in tests and benchmarks: the same files can be given to nginx and to
 * {@code tfo4j serve --cert --key}, so both present the same certificate type. Needs {@code /usr/bin/openssl}
 * (Debian: openssl).
 *
 * @param certificate the certificate, PEM
 * @param key         its unencrypted private key, PEM (PKCS#8)
 */
public record OpensslCertificate(Path certificate, Path key) {
    private static final Path OPENSSL = Path.of("/usr/bin/openssl");

    /** Why openssl cannot run here, or empty. */
    public static Optional<String> unavailableReason() {
        return Files.isExecutable(OPENSSL) ? Optional.empty()
                : Optional.of("openssl is not installed (apt-get install openssl)");
    }

    /**
     * Makes {@code cert.pem} and {@code key.pem} in {@code directory} for {@code names} (IP addresses or
     * host names), valid for two days.
     *
     * @throws IOException when openssl fails; the message quotes it
     */
    public static OpensslCertificate make(Path directory, String... names) throws IOException {
        if (names.length == 0) {
            throw new IllegalArgumentException("a certificate needs at least one name");
        }
        Path certificate = directory.resolve("cert.pem");
        Path key = directory.resolve("key.pem");
        List<String> alternatives = new ArrayList<>();
        for (String name : names) {
            alternatives.add((name.matches("[0-9.]+") || name.contains(":") ? "IP:" : "DNS:") + name);
        }
        run(directory, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key.toString(),
                "-out", certificate.toString(), "-days", "2", "-subj", "/CN=" + names[0],
                "-addext", "subjectAltName=" + String.join(",", alternatives));
        return new OpensslCertificate(certificate, key);
    }

    /**
     * Runs {@code openssl arguments...} in {@code directory} (at most 60 s), for tests that make other key
     * material than {@link #make} does: PKCS#1 or SEC1 keys, chains, PKCS#12 files, encrypted keys.
     *
     * @return what it wrote to stdout and stderr
     * @throws IOException when it fails; the message quotes it
     */
    public static String run(Path directory, String... arguments) throws IOException {
        List<String> command = new ArrayList<>(List.of(OPENSSL.toString()));
        command.addAll(List.of(arguments));
        Process process = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException("openssl " + arguments[0] + " did not finish within 60 s");
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while openssl " + arguments[0] + " ran", e);
        }
        if (process.exitValue() != 0) {
            throw new IOException("openssl " + arguments[0] + " failed (exit " + process.exitValue() + "): " + output.strip());
        }
        return output;
    }
}
