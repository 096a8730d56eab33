package io.tfo4j.http;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.bouncycastle.util.io.pem.PemObject;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * What a TLS server proves itself with: a private key and its certificate chain. Read from PEM files (as
 * nginx takes them), from a PKCS#12 keystore, or made at start as a self-signed certificate for a test or
 * a demo. Every problem with the files is an {@link IOException} that names the file and what is wrong.
 *
 * <pre>{@code
 * FastOpenFileServer.builder(site).tls(TlsIdentity.fromPem(Path.of("cert.pem"), Path.of("key.pem"))).start();
 * }</pre>
 *
 * <p>PEM: the certificate file holds the server's certificate first, then any intermediates; the key file
 * an unencrypted RSA or EC key, in PKCS#8 ({@code BEGIN PRIVATE KEY}), PKCS#1 ({@code BEGIN RSA PRIVATE
 * KEY}) or SEC1 ({@code BEGIN EC PRIVATE KEY}) form. The key must belong to the first certificate.
 */
public final class TlsIdentity {
    /** The in-memory keystore's password: it never leaves this process, so it protects nothing. */
    private static final char[] KEYSTORE_PASSWORD = "tfo4j".toCharArray();
    private static final String ALIAS = "server";

    private final PrivateKey key;
    private final List<X509Certificate> chain;
    private final boolean selfSigned;

    private TlsIdentity(PrivateKey key, List<X509Certificate> chain, boolean selfSigned) {
        this.key = key;
        this.chain = List.copyOf(chain);
        this.selfSigned = selfSigned;
    }

    /**
     * Reads a certificate chain and its key from PEM files.
     *
     * @throws IOException naming the file, when one cannot be read, holds no certificate or key, holds an
     *                     encrypted key, or when the key does not belong to the certificate
     */
    public static TlsIdentity fromPem(Path certificate, Path privateKey) throws IOException {
        List<X509Certificate> chain = readCertificates(certificate);
        PrivateKey key = readKey(privateKey);
        requireMatch(key, chain.getFirst(), "the key in " + privateKey + " does not belong to the certificate in "
                + certificate + " (pass the key the certificate was made for)");
        return new TlsIdentity(key, chain, false);
    }

    /**
     * Reads the first key entry of a PKCS#12 keystore ({@code .p12}, {@code .pfx}).
     *
     * @throws IOException naming the file, when it cannot be read, the password is wrong or it holds no key
     */
    public static TlsIdentity fromPkcs12(Path file, char[] password) throws IOException {
        KeyStore store;
        try (InputStream in = open(file)) {
            store = KeyStore.getInstance("PKCS12");
            store.load(in, password);
        } catch (GeneralSecurityException e) {
            throw new IOException(file + " is not a readable PKCS#12 keystore: " + e.getMessage(), e);
        } catch (IOException e) {
            if (isPem(file)) {
                throw new IOException(file + " is a PEM file, not PKCS#12: give it with --cert and its key with --key", e);
            }
            if (e instanceof NoSuchFileException || e.getMessage() != null && e.getMessage().startsWith("cannot read")) {
                throw e;
            }
            throw new IOException(file + ": " + e.getMessage()
                    + " (a wrong password, or not a PKCS#12 file; the password comes from TFO4J_KEYSTORE_PASSWORD)", e);
        }
        try {
            for (String alias : java.util.Collections.list(store.aliases())) {
                if (store.isKeyEntry(alias)) {
                    PrivateKey key = (PrivateKey) store.getKey(alias, password);
                    List<X509Certificate> chain = new ArrayList<>();
                    for (Certificate certificate : store.getCertificateChain(alias)) {
                        chain.add((X509Certificate) certificate);
                    }
                    return new TlsIdentity(key, chain, false);
                }
            }
        } catch (GeneralSecurityException | ClassCastException e) {
            throw new IOException(file + ": cannot read its key: " + e.getMessage(), e);
        }
        throw new IOException(file + " holds no private key, only certificates (export the key with its certificate)");
    }

    /**
     * Makes a new EC P-256 key and a certificate for {@code names} (host names or IP addresses), signed by
     * itself and valid from an hour ago for 30 days. Clients trust it only when told to ({@code curl -k},
     * {@code tfo4j get --insecure}, or its {@link #certificatePem()} as their CA).
     */
    public static TlsIdentity selfSigned(List<String> names) {
        if (names.isEmpty()) {
            throw new IllegalArgumentException("a certificate needs at least one host name or address");
        }
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair pair = generator.generateKeyPair();
            Instant now = Instant.now();
            X500Name subject = new X500Name("CN=" + names.getFirst().replaceAll("[,=+<>#;\"\\\\]", "_"));
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject,
                    new BigInteger(64, new SecureRandom()).add(BigInteger.ONE), Date.from(now.minus(Duration.ofHours(1))),
                    Date.from(now.plus(Duration.ofDays(30))), subject, pair.getPublic());
            List<GeneralName> alternatives = new ArrayList<>();
            for (String name : names) {
                alternatives.add(isAddress(name) ? new GeneralName(GeneralName.iPAddress, name)
                        : new GeneralName(GeneralName.dNSName, name));
            }
            builder.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(alternatives.toArray(GeneralName[]::new)));
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            X509Certificate certificate = new JcaX509CertificateConverter()
                    .getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate())));
            return new TlsIdentity(pair.getPrivate(), List.of(certificate), true);
        } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
            throw new IllegalStateException("cannot make a self-signed certificate: " + e, e);
        }
    }

    /** The server's own certificate, first in the chain. */
    public X509Certificate certificate() {
        return chain.getFirst();
    }

    /** True for a certificate made by {@link #selfSigned}. */
    public boolean isSelfSigned() {
        return selfSigned;
    }

    /** The SHA-256 fingerprint of the server's certificate, as {@code openssl x509 -fingerprint -sha256} shows it. */
    public String fingerprint() {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(certificate().getEncoded());
            return HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The server's certificate in PEM, for a client to trust ({@code curl --cacert}, {@code tfo4j get --cacert}). */
    public String certificatePem() {
        try {
            return pem("CERTIFICATE", certificate().getEncoded());
        } catch (CertificateException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The names the certificate is for, from its subject alternative names. */
    public List<String> names() {
        try {
            List<String> names = new ArrayList<>();
            if (certificate().getSubjectAlternativeNames() != null) {
                for (List<?> entry : certificate().getSubjectAlternativeNames()) {
                    names.add(String.valueOf(entry.get(1)));
                }
            }
            return names;
        } catch (CertificateException e) {
            return List.of();
        }
    }

    /**
     * A TLS 1.3 and 1.2 context that presents this identity, for a server other than {@link FastOpenFileServer}
     * (an {@code SSLServerSocket}, or an {@code SSLSocket} in server mode layered on an accepted socket).
     */
    public SSLContext serverContext() {
        try {
            KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keyManagers.init(keyStore(), KEYSTORE_PASSWORD);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keyManagers.getKeyManagers(), null, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot make a TLS context: " + e, e);
        }
    }

    /** A TLS context for clients that trusts this certificate and no other (for tests and the demo). */
    public SSLContext clientContext() {
        try {
            KeyStore trusted = KeyStore.getInstance("PKCS12");
            trusted.load(null, null);
            trusted.setCertificateEntry(ALIAS, certificate());
            TrustManagerFactory trustManagers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trustManagers.init(trusted);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trustManagers.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot make a TLS context: " + e, e);
        }
    }

    /** A keystore with the key and chain, for Jetty's {@code SslContextFactory}; see {@link #keyStorePassword()}. */
    KeyStore keyStore() {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry(ALIAS, key, KEYSTORE_PASSWORD, chain.toArray(Certificate[]::new));
            return store;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot hold the key in a keystore: " + e, e);
        }
    }

    static String keyStorePassword() {
        return new String(KEYSTORE_PASSWORD);
    }

    @Override
    public String toString() {
        return "TlsIdentity[" + certificate().getSubjectX500Principal().getName() + ", " + key.getAlgorithm()
                + (selfSigned ? ", self-signed" : "") + ", SHA-256 " + fingerprint() + "]";
    }

    private static boolean isPem(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return new String(in.readNBytes(64), StandardCharsets.US_ASCII).contains("-----BEGIN ");
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean isAddress(String name) {
        return name.matches("[0-9.]+") || name.contains(":");
    }

    private static InputStream open(Path file) throws IOException {
        try {
            return Files.newInputStream(Objects.requireNonNull(file, "file"));
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "no such file");
        } catch (IOException e) {
            throw new IOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static List<X509Certificate> readCertificates(Path file) throws IOException {
        List<X509Certificate> chain = new ArrayList<>();
        List<String> otherBlocks = new ArrayList<>();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII); PEMParser pem = new PEMParser(reader)) {
            for (PemObject block = pem.readPemObject(); block != null; block = pem.readPemObject()) {
                if (block.getType().equals("CERTIFICATE")) {
                    chain.add((X509Certificate) CertificateFactory.getInstance("X.509")
                            .generateCertificate(new java.io.ByteArrayInputStream(block.getContent())));
                } else {
                    otherBlocks.add(block.getType());
                }
            }
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "no such certificate file");
        } catch (CertificateException | ClassCastException e) {
            throw new IOException(file + " holds a certificate that cannot be read: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new IOException(file + " is not a readable PEM file: " + e.getMessage(), e);
        }
        if (chain.isEmpty()) {
            throw new IOException(file + " holds no certificate (no BEGIN CERTIFICATE block"
                    + (otherBlocks.isEmpty() ? "" : "; found " + String.join(", ", otherBlocks)
                    + ": are --cert and --key swapped?") + ")");
        }
        return chain;
    }

    private static PrivateKey readKey(Path file) throws IOException {
        Object object;
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII); PEMParser pem = new PEMParser(reader)) {
            do {
                object = pem.readObject();
            } while (object instanceof org.bouncycastle.asn1.x9.X9ECParameters
                    || object instanceof org.bouncycastle.asn1.ASN1ObjectIdentifier); // "EC PARAMETERS" before the key
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "no such key file");
        } catch (IOException e) {
            throw new IOException(file + " is not a readable PEM key: " + e.getMessage(), e);
        }
        JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
        try {
            if (object instanceof PrivateKeyInfo info) {
                return converter.getPrivateKey(info);
            }
            if (object instanceof PEMKeyPair pair) {
                return converter.getKeyPair(pair).getPrivate();
            }
        } catch (IOException e) {
            throw new IOException(file + " holds a key that cannot be read: " + e.getMessage(), e);
        }
        if (object instanceof PKCS8EncryptedPrivateKeyInfo || object instanceof org.bouncycastle.openssl.PEMEncryptedKeyPair) {
            throw new IOException(file + " holds an encrypted key; tfo4j reads unencrypted keys only"
                    + " (decrypt it: openssl pkey -in " + file + " -out key.pem, and keep that file private)");
        }
        if (object == null) {
            throw new IOException(file + " holds no private key (no BEGIN PRIVATE KEY block)");
        }
        throw new IOException(file + " holds no private key but a " + describe(object)
                + (object instanceof org.bouncycastle.cert.X509CertificateHolder ? ": are --cert and --key swapped?" : ""));
    }

    private static String describe(Object pemObject) {
        String name = pemObject.getClass().getSimpleName();
        return name.replace("X509CertificateHolder", "certificate").toLowerCase(Locale.ROOT);
    }

    /** Signs and verifies a few bytes: the one check that works for every key type. */
    private static void requireMatch(PrivateKey key, X509Certificate certificate, String mismatch) throws IOException {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> null;
        };
        if (algorithm == null) {
            throw new IOException("the key is " + key.getAlgorithm() + "; tfo4j serve takes RSA and EC keys");
        }
        try {
            byte[] probe = "tfo4j".getBytes(StandardCharsets.US_ASCII);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(certificate.getPublicKey());
            verifier.update(probe);
            if (!verifier.verify(signature)) {
                throw new IOException(mismatch);
            }
        } catch (GeneralSecurityException e) {
            throw new IOException(mismatch + ": " + e.getMessage(), e);
        }
    }

    private static String pem(String type, byte[] content) {
        StringWriter out = new StringWriter();
        out.write("-----BEGIN " + type + "-----\n");
        out.write(Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(content));
        out.write("\n-----END " + type + "-----\n");
        return out.toString();
    }
}
