package io.tfo4j.agent.it;

import io.tfo4j.lab.NetNamespace;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** curl in a lab host, one request on a new connection, with or without {@code --tcp-fastopen}. */
final class Curl {
    /** What curl got: the status, the body, and its time to the first byte of the answer. */
    record Answer(int status, String body, double ttfbSeconds) {
    }

    private Curl() {
    }

    static Answer get(NetNamespace host, String url) throws IOException {
        return request(host, url, List.of());
    }

    static Answer post(NetNamespace host, String url, String body) throws IOException {
        return request(host, url, List.of("--data-binary", body));
    }

    private static Answer request(NetNamespace host, String url, List<String> extra) throws IOException {
        List<String> command = new ArrayList<>(List.of("curl", "-sS", "--tcp-fastopen", "--max-time", "20",
                "-w", "\n%{http_code} %{time_starttransfer}"));
        command.addAll(extra);
        command.add(url);
        Process curl = host.command(command.toArray(String[]::new)).redirectErrorStream(true).start();
        try {
            if (!curl.waitFor(30, TimeUnit.SECONDS)) {
                curl.destroyForcibly();
                throw new IOException("curl did not finish: " + command);
            }
        } catch (InterruptedException e) {
            curl.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        String out = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int last = out.lastIndexOf('\n');
        String[] tail = out.substring(last + 1).trim().split(" ");
        if (curl.exitValue() != 0 || tail.length != 2) {
            throw new IOException("curl failed (exit " + curl.exitValue() + "): " + command + "\n" + out);
        }
        return new Answer(Integer.parseInt(tail[0]), out.substring(0, last), Double.parseDouble(tail[1]));
    }
}
