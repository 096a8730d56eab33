package io.tfo4j.agent.it.apps;

import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;

/**
 * A plain Jetty 12 server (core API, one {@link ServerConnector}): every request is answered "hello".
 * Arguments: ADDRESS PORT. Prints "ready" when it listens.
 */
public final class JettyApp {
    private JettyApp() {
    }

    public static void main(String[] args) throws Exception {
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost(args[0]);
        connector.setPort(Integer.parseInt(args[1]));
        server.addConnector(connector);
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                response.setStatus(200);
                response.getHeaders().put("Content-Type", "text/plain");
                Content.Sink.write(response, true, "hello\n", callback);
                return true;
            }
        });
        server.start();
        System.out.println("ready");
        server.join();
    }
}
