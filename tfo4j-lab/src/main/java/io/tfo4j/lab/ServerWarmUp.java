package io.tfo4j.lab;

import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;

/**
 * Requests a page from a JVM server's own host until the JVM has compiled the request path, so that timed
 * requests measure the network and not a cold server. Run it on a thread inside the server's namespace.
 */
public final class ServerWarmUp {
    public static final int REQUESTS = 2000;

    private ServerWarmUp() {
    }

    /** {@value #REQUESTS} GETs of {@code url}, each on a new connection. */
    public static Void run(String url) throws IOException {
        return run(url, null, REQUESTS);
    }

    /**
     * {@code requests} GETs of {@code url}, each on a new connection; an {@code https://} URL over
     * {@code tls}, a context that trusts the server's certificate (whatever name it is for: this is the
     * server's own host).
     */
    public static Void run(String url, SSLContext tls, int requests) throws IOException {
        for (int i = 0; i < requests; i++) {
            HttpURLConnection connection = (HttpURLConnection) URI.create(url).toURL().openConnection();
            if (connection instanceof HttpsURLConnection https && tls != null) {
                https.setSSLSocketFactory(tls.getSocketFactory());
                https.setHostnameVerifier((host, session) -> true);
            }
            connection.setRequestProperty("Connection", "close");
            connection.setConnectTimeout(5000);
            connection.setReadTimeout(5000);
            try (InputStream in = connection.getInputStream()) {
                in.readAllBytes();
            } finally {
                connection.disconnect();
            }
        }
        return null;
    }
}
