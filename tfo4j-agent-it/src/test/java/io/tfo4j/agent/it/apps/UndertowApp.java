package io.tfo4j.agent.it.apps;

import io.undertow.Undertow;
import io.undertow.util.Headers;

/**
 * A plain Undertow server (undertow-core, one HTTP listener on XNIO): every request is answered "hello".
 * Arguments: ADDRESS PORT. Prints "ready" when it listens.
 */
public final class UndertowApp {
    private UndertowApp() {
    }

    public static void main(String[] args) {
        Undertow server = Undertow.builder()
                .addHttpListener(Integer.parseInt(args[1]), args[0])
                .setHandler(exchange -> {
                    exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain");
                    exchange.getResponseSender().send("hello\n");
                })
                .build();
        server.start();
        System.out.println("ready");
    }
}
