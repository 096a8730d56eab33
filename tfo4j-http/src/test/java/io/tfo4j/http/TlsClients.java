package io.tfo4j.http;

import io.tfo4j.FastOpenSocketFactory;
import okhttp3.ConnectionPool;
import okhttp3.OkHttpClient;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** The client side of the HTTPS tests: trust in one test server's certificate, and OkHttp over tfo4j sockets. */
final class TlsClients {
    /** Long enough that a client's first write after connect (its ClientHello) always falls inside it, on any machine. */
    static final FastOpenSocketFactory SOCKETS = new FastOpenSocketFactory(true, Duration.ofSeconds(30));

    private TlsClients() {
    }

    /** Trusts exactly the server's certificate, given to the client as PEM (as {@code curl --cacert} is). */
    static X509TrustManager trusting(TlsIdentity server) throws GeneralSecurityException, IOException {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        store.setCertificateEntry("server", CertificateFactory.getInstance("X.509").generateCertificate(
                new ByteArrayInputStream(server.certificatePem().getBytes(StandardCharsets.US_ASCII))));
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(store);
        return (X509TrustManager) factory.getTrustManagers()[0];
    }

    /** A client TLS context with {@code trust}. */
    static SSLContext context(X509TrustManager trust) throws GeneralSecurityException {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new X509TrustManager[] {trust}, null);
        return context;
    }

    /**
     * OkHttp over {@link #SOCKETS}, trusting {@code server}, and keeping no idle connection: each request
     * opens a new one. Without fast fallback (OkHttp 5's racing of addresses), which would connect on
     * OkHttp's shared threads: those stay in the network namespace of the test that started them, while
     * the calling thread is in this test's client host.
     */
    static OkHttpClient.Builder okHttp(TlsIdentity server) throws GeneralSecurityException, IOException {
        X509TrustManager trust = trusting(server);
        return new OkHttpClient.Builder()
                .socketFactory(SOCKETS)
                .sslSocketFactory(context(trust).getSocketFactory(), trust)
                .connectionPool(new ConnectionPool(0, 1, TimeUnit.SECONDS))
                .fastFallback(false);
    }

    /** Stops an OkHttp client's threads and closes its connections. */
    static void shutDown(OkHttpClient client) {
        client.dispatcher().executorService().shutdown();
        client.connectionPool().evictAll();
    }
}
