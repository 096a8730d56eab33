package io.tfo4j.cli;

import okhttp3.OkHttpClient;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Collection;

/**
 * Which servers {@code tfo4j get} believes over HTTPS: those with a certificate from the JDK's CAs (the
 * default), from the CAs in a PEM file ({@code --cacert}), or any server at all ({@code --insecure}).
 */
final class ClientTls {
    private final SSLContext context;
    private final X509TrustManager trust;
    private final boolean anyName;

    private ClientTls(SSLContext context, X509TrustManager trust, boolean anyName) {
        this.context = context;
        this.trust = trust;
        this.anyName = anyName;
    }

    /** The JDK's CAs and OkHttp's own host name check. */
    static ClientTls jdkDefault() {
        return new ClientTls(null, null, false);
    }

    /**
     * The certificates in a PEM file as the only CAs (a self-signed server certificate works too).
     *
     * @throws IOException naming the file, when it cannot be read or holds no certificate
     */
    static ClientTls trusting(Path pemFile) throws IOException {
        Collection<? extends Certificate> certificates;
        try (InputStream in = Files.newInputStream(pemFile)) {
            certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
        } catch (NoSuchFileException e) {
            throw new IOException("no such file: " + pemFile, e);
        } catch (CertificateException e) {
            throw new IOException(pemFile + " holds no readable PEM certificate: " + e.getMessage(), e);
        }
        if (certificates.isEmpty()) {
            throw new IOException(pemFile + " holds no certificate (no BEGIN CERTIFICATE block)");
        }
        try {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int i = 0;
            for (Certificate certificate : certificates) {
                store.setCertificateEntry("ca-" + i++, certificate);
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(store);
            X509TrustManager trust = (X509TrustManager) factory.getTrustManagers()[0];
            return new ClientTls(context(trust), trust, false);
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot trust the certificates in " + pemFile + ": " + e.getMessage(), e);
        }
    }

    /** Any certificate, for any name: for a self-signed test server, and said loudly by the command. */
    static ClientTls trustingAnyone() {
        X509TrustManager anyone = new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
        try {
            return new ClientTls(context(anyone), anyone, true);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK has no TLS: " + e, e);
        }
    }

    private static SSLContext context(X509TrustManager trust) throws GeneralSecurityException {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new X509TrustManager[] {trust}, null);
        return context;
    }

    /** Sets this trust on an OkHttp client. */
    OkHttpClient.Builder applyTo(OkHttpClient.Builder builder) {
        if (context != null) {
            builder.sslSocketFactory(context.getSocketFactory(), trust);
        }
        if (anyName) {
            builder.hostnameVerifier((host, session) -> true);
        }
        return builder;
    }
}
