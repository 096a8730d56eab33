package io.tfo4j.bench.peer;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;

/**
 * An {@code http://} (or, for the TLS client, {@code https://}) URL taken apart, with its address resolved
 * once up front so that no name lookup lands inside a timed request.
 */
record HttpTarget(URI uri, String hostHeader, String pathAndQuery, InetSocketAddress address) {

    /**
     * An {@code http://} URL.
     *
     * @throws IllegalArgumentException naming what is wrong with {@code url}
     */
    static HttpTarget parse(String url) {
        return parse(url, "http", 80);
    }

    /**
     * An {@code https://} URL.
     *
     * @throws IllegalArgumentException naming what is wrong with {@code url}
     */
    static HttpTarget parseHttps(String url) {
        return parse(url, "https", 443);
    }

    private static HttpTarget parse(String url, String scheme, int defaultPort) {
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a URL: " + url + " (" + e.getMessage() + ")");
        }
        if (!scheme.equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null) {
            throw new IllegalArgumentException("not an " + scheme + ":// URL with a host: " + url);
        }
        int port = uri.getPort() == -1 ? defaultPort : uri.getPort();
        InetAddress address;
        try {
            address = InetAddress.getByName(uri.getHost());
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("cannot resolve " + uri.getHost() + ": " + e.getMessage());
        }
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        if (uri.getRawQuery() != null) {
            path += "?" + uri.getRawQuery();
        }
        String host = uri.getHost() + (uri.getPort() == -1 ? "" : ":" + uri.getPort());
        return new HttpTarget(uri, host, path, new InetSocketAddress(address, port));
    }
}
