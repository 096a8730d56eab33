package io.tfo4j.bench;

import io.tfo4j.lab.LabProcess;
import io.tfo4j.lab.NetNamespace;

import java.io.IOException;

/** Runs the real {@code tfo4j bench / tfo4j peer (this module's BenchMain), in a new JVM} inside a network namespace, as a {@link LabProcess}. */
final class BenchProcess {
    private BenchProcess() {
    }

    static LabProcess start(NetNamespace namespace, byte[] stdin, String... args) throws IOException {
        return LabProcess.start(namespace, stdin, ChildJvm.command(args));
    }

    static LabProcess run(NetNamespace namespace, byte[] stdin, String... args) throws Exception {
        return LabProcess.run(namespace, stdin, ChildJvm.command(args));
    }
}
