package io.tfo4j.bench.peer;

import javax.net.ssl.SSLContext;
import javax.net.ssl.X509TrustManager;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;

/**
 * TLS clients that trust any certificate for any name, as {@code curl -k} does: the benchmarks' HTTPS servers
 * have self-signed certificates and nothing secret passes. Never for anything else.
 */
public final class InsecureTls {
    private InsecureTls() {
    }

    /** A new TLS client context (so with an empty session cache) that trusts any certificate. */
    public static SSLContext trustingAnyone() {
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
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new X509TrustManager[] {anyone}, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK has no TLS: " + e, e);
        }
    }
}
