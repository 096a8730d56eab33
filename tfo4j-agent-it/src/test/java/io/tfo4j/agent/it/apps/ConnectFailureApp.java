package io.tfo4j.agent.it.apps;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A plain {@code java.net.Socket} client that says where a connection to a server that is not there fails:
 * {@code connect(address, CONNECT_TIMEOUT_MS)}, {@code setSoTimeout(READ_TIMEOUT_MS)}, then {@code FIRST}
 * ({@code read}: read first; {@code write}: write {@code hello\n}, then read; {@code late-write}: the same
 * after a 100 ms pause, as a program that prepares its request after it connected). Prints one line per step:
 * {@code connect returned after MS ms} or {@code connect threw CLASS: MESSAGE after MS ms}, then likewise
 * for {@code write} and {@code read} (a read that returns prints {@code read returned N bytes 'TEXT'}).
 * Stops at the first exception. Exits 0 whatever happened: it only reports. Arguments: HOST PORT FIRST
 * CONNECT_TIMEOUT_MS READ_TIMEOUT_MS.
 */
public final class ConnectFailureApp {
    private ConnectFailureApp() {
    }

    public static void main(String[] args) {
        InetSocketAddress server = new InetSocketAddress(args[0], Integer.parseInt(args[1]));
        boolean writeFirst = args[2].equals("write") || args[2].equals("late-write");
        boolean pause = args[2].equals("late-write");
        int connectTimeout = Integer.parseInt(args[3]);
        int readTimeout = Integer.parseInt(args[4]);
        try (Socket socket = new Socket()) {
            long start = System.nanoTime();
            try {
                socket.connect(server, connectTimeout);
                step("connect returned", start);
            } catch (IOException e) {
                step("connect threw " + e.getClass().getName() + ": " + e.getMessage(), start);
                return;
            }
            socket.setSoTimeout(readTimeout);
            if (writeFirst) {
                if (pause) {
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
                start = System.nanoTime();
                try {
                    OutputStream out = socket.getOutputStream();
                    out.write("hello\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    step("write returned", start);
                } catch (IOException e) {
                    step("write threw " + e.getClass().getName() + ": " + e.getMessage(), start);
                    return;
                }
            }
            start = System.nanoTime();
            try {
                InputStream in = socket.getInputStream();
                byte[] buffer = new byte[256];
                int n = in.read(buffer);
                step("read returned " + n + " bytes '" + (n > 0 ? new String(buffer, 0, n, StandardCharsets.US_ASCII)
                        .strip() : "") + "'", start);
            } catch (IOException e) {
                step("read threw " + e.getClass().getName() + ": " + e.getMessage(), start);
            }
        } catch (IOException e) {
            System.out.println("close threw " + e);
        }
    }

    private static void step(String what, long start) {
        System.out.println(String.format("%s after %.0f ms", what, (System.nanoTime() - start) / 1e6));
    }
}
