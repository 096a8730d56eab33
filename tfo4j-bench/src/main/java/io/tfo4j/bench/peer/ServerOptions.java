package io.tfo4j.bench.peer;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What the peer servers share: where to listen, the Fast Open queue, and the body every GET gets. */
final class ServerOptions {
    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    @Option(names = "--bind", paramLabel = "ADDR", defaultValue = "127.0.0.1",
            description = "Address to listen on (default 127.0.0.1; 0.0.0.0 for all).")
    String bind;

    @Option(names = "--port", paramLabel = "P", defaultValue = "8080", description = "Port (default 8080; 0 for any free one).")
    int port;

    @Option(names = "--fastopen", arity = "0..1", paramLabel = "QLEN", fallbackValue = "256", defaultValue = "0",
            description = "Take data in the SYN, with this many pending Fast Open connections at most (default when given: 256).")
    int fastOpenQueue;

    @Option(names = "--body", paramLabel = "FILE", description = "Answer with FILE's content (default: a short greeting).")
    Path bodyFile;

    /** The address to listen on; a bad port, queue length or address is a usage error (exit 2). */
    InetSocketAddress address() {
        if (port < 0 || port > 65535) {
            throw new ParameterException(spec.commandLine(), "--port must be 0 to 65535, got " + port);
        }
        if (fastOpenQueue < 0) {
            throw new ParameterException(spec.commandLine(),
                    "--fastopen queue length must not be negative, got " + fastOpenQueue);
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(bind), port);
        } catch (UnknownHostException e) {
            throw new ParameterException(spec.commandLine(), "cannot resolve --bind " + bind + ": " + e.getMessage());
        }
    }

    /** The content of {@code --body}, or {@code greeting} without it; an unreadable file is a usage error. */
    byte[] body(byte[] greeting) {
        if (bodyFile == null) {
            return greeting;
        }
        try {
            return Files.readAllBytes(bodyFile);
        } catch (IOException e) {
            throw new ParameterException(spec.commandLine(), "cannot read --body " + bodyFile + ": " + e);
        }
    }
}
