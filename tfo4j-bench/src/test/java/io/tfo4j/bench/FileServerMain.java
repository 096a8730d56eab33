package io.tfo4j.bench;

import io.tfo4j.http.FastOpenFileServer;

import java.nio.file.Path;

/**
 * What {@code tfo4j serve DIR --bind ADDRESS --port PORT --fastopen} runs, a {@link FastOpenFileServer}, in a JVM
 * of its own (as serve is), for {@link PeersTest}: tfo4j-bench's tests do not need the user CLI built.
 * Arguments: DIR ADDRESS PORT. Runs until killed.
 */
final class FileServerMain {
    private FileServerMain() {
    }

    public static void main(String[] args) throws Exception {
        try (FastOpenFileServer server = FastOpenFileServer.builder(Path.of(args[0])).bind(args[1])
                .port(Integer.parseInt(args[2])).fastOpen(256).start()) {
            System.out.println("FileServerMain: " + args[1] + ":" + args[2] + ", Fast Open " + server.fastOpenStatus().active());
            Thread.currentThread().join();
        }
    }
}
