package io.tfo4j.bench;

import io.tfo4j.http.FastOpenFileServer;
import io.tfo4j.http.TlsIdentity;

import java.nio.file.Path;
import java.util.List;

/**
 * What {@code tfo4j serve DIR --bind ADDRESS --port PORT --fastopen [--tls]} runs, a {@link FastOpenFileServer},
 * in a JVM of its own (as serve is), for {@link PeersTest}: tfo4j-bench's tests do not need the user CLI built.
 * Arguments: DIR ADDRESS PORT [tls]; with {@code tls}, HTTPS with a self-signed certificate for ADDRESS. Runs
 * until killed.
 */
final class FileServerMain {
    private FileServerMain() {
    }

    public static void main(String[] args) throws Exception {
        boolean tls = args.length > 3 && args[3].equals("tls");
        try (FastOpenFileServer server = FastOpenFileServer.builder(Path.of(args[0])).bind(args[1])
                .port(Integer.parseInt(args[2])).fastOpen(256).tls(tls ? TlsIdentity.selfSigned(List.of(args[1])) : null)
                .start()) {
            System.out.println("FileServerMain: " + args[1] + ":" + args[2] + ", Fast Open " + server.fastOpenStatus().active());
            Thread.currentThread().join();
        }
    }
}
