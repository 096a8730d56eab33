package io.tfo4j.http;

import io.tfo4j.lab.OpensslCertificate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link TlsIdentity} reads the key material {@code openssl} writes, in each form people have it (PKCS#8,
 * PKCS#1 and SEC1 keys, a chain with an intermediate, PKCS#12), and a server presents it in a real TLS
 * handshake on loopback; what it makes itself ({@link TlsIdentity#selfSigned}) is what it says it is.
 */
class TlsIdentityTest {
    @TempDir
    Path dir;

    private static void assumeOpenssl() {
        assumeTrue(OpensslCertificate.unavailableReason().isEmpty(),
                () -> "skipped: " + OpensslCertificate.unavailableReason().orElse(""));
    }

    @Test
    void readsAPkcs8Key() throws Exception {
        assumeOpenssl();
        OpensslCertificate files = OpensslCertificate.make(dir, "127.0.0.1");
        assertEquals("-----BEGIN PRIVATE KEY-----", firstLine(files.key()));
        TlsIdentity identity = TlsIdentity.fromPem(files.certificate(), files.key());
        assertEquals(List.of(read(files.certificate())), handshake(identity, read(files.certificate())));
    }

    @Test
    void readsAPkcs1RsaKey() throws Exception {
        assumeOpenssl();
        OpensslCertificate files = OpensslCertificate.make(dir, "127.0.0.1");
        OpensslCertificate.run(dir, "rsa", "-in", "key.pem", "-traditional", "-out", "rsa-key.pem");
        Path rsaKey = dir.resolve("rsa-key.pem");
        assertEquals("-----BEGIN RSA PRIVATE KEY-----", firstLine(rsaKey));
        TlsIdentity identity = TlsIdentity.fromPem(files.certificate(), rsaKey);
        assertEquals(List.of(read(files.certificate())), handshake(identity, read(files.certificate())));
    }

    @Test
    void readsASec1EcKeyAfterItsEcParameters() throws Exception {
        assumeOpenssl();
        OpensslCertificate.run(dir, "ecparam", "-name", "prime256v1", "-genkey", "-out", "ec-key.pem");
        Path key = dir.resolve("ec-key.pem");
        List<String> blocks = Files.readAllLines(key).stream().filter(l -> l.startsWith("-----BEGIN")).toList();
        assertEquals(List.of("-----BEGIN EC PARAMETERS-----", "-----BEGIN EC PRIVATE KEY-----"), blocks);
        OpensslCertificate.run(dir, "req", "-x509", "-key", "ec-key.pem", "-out", "ec-cert.pem", "-days", "2",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1");
        X509Certificate certificate = read(dir.resolve("ec-cert.pem"));
        TlsIdentity identity = TlsIdentity.fromPem(dir.resolve("ec-cert.pem"), key);
        assertEquals("EC", identity.certificate().getPublicKey().getAlgorithm());
        assertEquals(List.of(certificate), handshake(identity, certificate));
    }

    /** A root, an intermediate it signed and a server certificate the intermediate signed, as EC P-256 PEM files. */
    private record Chain(X509Certificate root, X509Certificate intermediate, X509Certificate server, Path serverKey) {
    }

    private Chain chain() throws Exception {
        Files.writeString(dir.resolve("ca.ext"), "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n");
        Files.writeString(dir.resolve("server.ext"), "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\n");
        String[] ec = {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};
        OpensslCertificate.run(dir, concat(new String[] {"req", "-x509"}, ec, "-keyout", "root-key.pem",
                "-out", "root.pem", "-days", "2", "-subj", "/CN=tfo4j test root"));
        OpensslCertificate.run(dir, concat(new String[] {"req", "-new"}, ec, "-keyout", "intermediate-key.pem",
                "-out", "intermediate.csr", "-subj", "/CN=tfo4j test intermediate"));
        OpensslCertificate.run(dir, "x509", "-req", "-in", "intermediate.csr", "-CA", "root.pem", "-CAkey", "root-key.pem",
                "-set_serial", "2", "-days", "2", "-extfile", "ca.ext", "-out", "intermediate.pem");
        OpensslCertificate.run(dir, concat(new String[] {"req", "-new"}, ec, "-keyout", "server-key.pem",
                "-out", "server.csr", "-subj", "/CN=127.0.0.1"));
        OpensslCertificate.run(dir, "x509", "-req", "-in", "server.csr", "-CA", "intermediate.pem",
                "-CAkey", "intermediate-key.pem", "-set_serial", "3", "-days", "2", "-extfile", "server.ext",
                "-out", "server.pem");
        return new Chain(read(dir.resolve("root.pem")), read(dir.resolve("intermediate.pem")),
                read(dir.resolve("server.pem")), dir.resolve("server-key.pem"));
    }

    @Test
    void aChainFileKeepsItsIntermediateInOrder() throws Exception {
        assumeOpenssl();
        Chain chain = chain();
        Path chainFile = Files.writeString(dir.resolve("chain.pem"),
                Files.readString(dir.resolve("server.pem")) + Files.readString(dir.resolve("intermediate.pem")));
        TlsIdentity identity = TlsIdentity.fromPem(chainFile, chain.serverKey());
        assertEquals(chain.server(), identity.certificate());
        assertEquals(List.of(chain.server(), chain.intermediate()), keyStoreChain(identity));
        // A client that trusts only the root can build the path only if the intermediate is sent, after the server's.
        assertEquals(List.of(chain.server(), chain.intermediate()), handshake(identity, chain.root()));
    }

    @Test
    void readsAPkcs12KeystoreFromOpenssl() throws Exception {
        assumeOpenssl();
        Chain chain = chain();
        OpensslCertificate.run(dir, "pkcs12", "-export", "-in", "server.pem", "-certfile", "intermediate.pem",
                "-inkey", "server-key.pem", "-name", "server", "-passout", "pass:secret", "-out", "server.p12");
        Path keystore = dir.resolve("server.p12");
        TlsIdentity identity = TlsIdentity.fromPkcs12(keystore, "secret".toCharArray());
        assertEquals(chain.server(), identity.certificate());
        assertEquals(List.of(chain.server(), chain.intermediate()), handshake(identity, chain.root()));

        IOException wrong = assertThrows(IOException.class, () -> TlsIdentity.fromPkcs12(keystore, "wrong".toCharArray()));
        assertTrue(wrong.getMessage().startsWith(keystore.toString()), wrong.getMessage());
        assertTrue(wrong.getMessage().contains("TFO4J_KEYSTORE_PASSWORD"), wrong.getMessage());
    }

    @Test
    void aPemFileGivenAsPkcs12IsNamedAsPem() throws Exception {
        assumeOpenssl();
        OpensslCertificate files = OpensslCertificate.make(dir, "127.0.0.1");
        IOException pem = assertThrows(IOException.class, () -> TlsIdentity.fromPkcs12(files.certificate(), new char[0]));
        assertTrue(pem.getMessage().contains("is a PEM file, not PKCS#12: give it with --cert"), pem.getMessage());
    }

    @Test
    void fingerprintIsTheOneOpensslShows() throws Exception {
        assumeOpenssl();
        OpensslCertificate files = OpensslCertificate.make(dir, "127.0.0.1");
        assertEquals(opensslFingerprint(files.certificate()),
                TlsIdentity.fromPem(files.certificate(), files.key()).fingerprint());
        TlsIdentity selfSigned = TlsIdentity.selfSigned(List.of("localhost"));
        Path pem = Files.writeString(dir.resolve("self-signed.pem"), selfSigned.certificatePem());
        assertEquals(opensslFingerprint(pem), selfSigned.fingerprint());
    }

    private String opensslFingerprint(Path certificate) throws IOException {
        // "sha256 Fingerprint=AB:CD:..." (OpenSSL 3; "SHA256 Fingerprint=" before).
        String output = OpensslCertificate.run(dir, "x509", "-noout", "-fingerprint", "-sha256", "-in", certificate.toString())
                .strip();
        assertTrue(output.toLowerCase(Locale.ROOT).startsWith("sha256 fingerprint="), output);
        return output.substring(output.indexOf('=') + 1);
    }

    @Test
    void selfSignedIsForItsNamesAndItsPemParsesBack() throws Exception {
        TlsIdentity identity = TlsIdentity.selfSigned(List.of("localhost", "127.0.0.1", "::1", "tfo4j.test"));
        assertTrue(identity.isSelfSigned());
        List<String> alternatives = new ArrayList<>();
        for (List<?> entry : identity.certificate().getSubjectAlternativeNames()) {
            int type = (Integer) entry.get(0);
            // 2 is dNSName, 7 iPAddress (RFC 5280), which the JDK gives in its own spelling: compare addresses.
            alternatives.add(type + ":" + (type == 7 ? InetAddress.getByName((String) entry.get(1)).getHostAddress() : entry.get(1)));
        }
        assertEquals(List.of("2:localhost", "7:127.0.0.1", "7:" + InetAddress.getByName("::1").getHostAddress(),
                "2:tfo4j.test"), alternatives);
        X509Certificate parsed = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(identity.certificatePem().getBytes(StandardCharsets.US_ASCII)));
        assertEquals(identity.certificate(), parsed);
        // Checked as a client checks it: the certificate is trusted and its 127.0.0.1 matches the address dialled.
        assertEquals(List.of(parsed), handshake(identity, parsed));
    }

    /** The chain {@link TlsIdentity#keyStore()} hands to Jetty. */
    private static List<Certificate> keyStoreChain(TlsIdentity identity) throws Exception {
        KeyStore store = identity.keyStore();
        String alias = Collections.list(store.aliases()).getFirst();
        return List.of(store.getCertificateChain(alias));
    }

    /**
     * A TLS handshake on loopback: {@code identity}'s {@link TlsIdentity#serverContext()} against a client that
     * trusts only {@code trusted} and checks the server's name as HTTPS does (for 127.0.0.1). Returns the
     * chain the client received.
     */
    private static List<Certificate> handshake(TlsIdentity identity, X509Certificate trusted) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("trusted", trusted);
        TrustManagerFactory trustManagers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trustManagers.init(trust);
        SSLContext client = SSLContext.getInstance("TLS");
        client.init(null, trustManagers.getTrustManagers(), null);
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        ExecutorService executor = Executors.newSingleThreadExecutor();
        try (SSLServerSocket listener = (SSLServerSocket) identity.serverContext().getServerSocketFactory()
                .createServerSocket(0, 1, loopback)) {
            listener.setSoTimeout(10_000);
            Future<?> served = executor.submit(() -> {
                try (SSLSocket accepted = (SSLSocket) listener.accept()) {
                    accepted.setSoTimeout(10_000);
                    accepted.getOutputStream().write('x');
                    accepted.getOutputStream().flush();
                    accepted.getInputStream().read();
                }
                return null;
            });
            List<Certificate> received;
            try (SSLSocket socket = (SSLSocket) client.getSocketFactory().createSocket(loopback, listener.getLocalPort())) {
                socket.setSoTimeout(10_000);
                SSLParameters parameters = socket.getSSLParameters();
                parameters.setEndpointIdentificationAlgorithm("HTTPS");
                socket.setSSLParameters(parameters);
                assertEquals('x', socket.getInputStream().read());
                received = List.of(socket.getSession().getPeerCertificates());
                socket.getOutputStream().write('y');
                socket.getOutputStream().flush();
            }
            served.get(10, TimeUnit.SECONDS);
            return received;
        } finally {
            executor.shutdownNow();
        }
    }

    private static X509Certificate read(Path pem) throws Exception {
        try (InputStream in = Files.newInputStream(pem)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    private static String firstLine(Path file) throws IOException {
        return Files.readAllLines(file).getFirst();
    }

    private static String[] concat(String[] first, String[] second, String... rest) {
        List<String> all = new ArrayList<>(List.of(first));
        all.addAll(List.of(second));
        all.addAll(List.of(rest));
        return all.toArray(String[]::new);
    }
}
