package io.tfo4j.lab;

import java.util.concurrent.TimeUnit;

/** Stopping the server processes a lab's hosts run. */
public final class Processes {
    private Processes() {
    }

    /** Asks {@code process} to stop (SIGTERM), and kills it (SIGKILL) when it has not within 5 s. Null is ignored. */
    public static void stop(Process process) {
        if (process == null) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
