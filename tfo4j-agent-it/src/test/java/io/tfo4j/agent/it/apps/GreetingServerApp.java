package io.tfo4j.agent.it.apps;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A plain server of a protocol where the server speaks first: to each accepted connection it writes
 * {@code hello\n} at once, then reads lines until the client closes, and prints
 * {@code served a connection: got 'LINES'}. Arguments: ADDRESS PORT. Prints
 * {@code greeting server ready on ADDRESS:PORT} when it listens; runs until it is stopped.
 */
public final class GreetingServerApp {
    private GreetingServerApp() {
    }

    public static void main(String[] args) throws IOException {
        try (ServerSocket server = new ServerSocket()) {
            server.bind(new InetSocketAddress(args[0], Integer.parseInt(args[1])), 50);
            System.out.println("greeting server ready on " + args[0] + ":" + args[1]);
            while (true) {
                Socket connection = server.accept();
                Thread.ofPlatform().daemon().start(() -> serve(connection));
            }
        }
    }

    private static void serve(Socket connection) {
        try (connection) {
            connection.setSoTimeout(30_000);
            OutputStream out = connection.getOutputStream();
            out.write("hello\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(connection.getInputStream(),
                    StandardCharsets.US_ASCII));
            StringBuilder got = new StringBuilder();
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                got.append(got.isEmpty() ? "" : " ").append(line);
            }
            System.out.println("served a connection: got '" + got + "'");
        } catch (IOException e) {
            System.out.println("a connection failed: " + e);
        }
    }
}
