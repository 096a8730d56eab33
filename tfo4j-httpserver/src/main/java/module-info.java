/**
 * TCP Fast Open for the JDK's own HTTP server ({@code com.sun.net.httpserver}), on top of tfo4j-core and
 * nothing else: see {@link io.tfo4j.httpserver.FastOpenHttpServer}.
 *
 * <p>On the module path it needs, besides tfo4j-core's flags, {@code --add-opens
 * jdk.httpserver/sun.net.httpserver=io.tfo4j.httpserver} (the JDK keeps the server's listener private).
 */
module io.tfo4j.httpserver {
    requires transitive io.tfo4j.core;
    requires transitive jdk.httpserver;
    exports io.tfo4j.httpserver;
}
