package io.tfo4j.cli;

import io.tfo4j.lab.LabProcess;
import io.tfo4j.lab.NetNamespace;

import java.io.IOException;

/** Runs the real {@code tfo4j (this module's Main), in a new JVM} inside a network namespace, as a {@link LabProcess}. */
final class CliProcess {
    private CliProcess() {
    }

    static LabProcess start(NetNamespace namespace, byte[] stdin, String... args) throws IOException {
        return LabProcess.start(namespace, stdin, ChildJvm.command(args));
    }

    static LabProcess run(NetNamespace namespace, byte[] stdin, String... args) throws Exception {
        return LabProcess.run(namespace, stdin, ChildJvm.command(args));
    }
}
