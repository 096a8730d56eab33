package io.tfo4j.bench.peer;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;

/**
 * Waits, after a warm-up, until this JVM's JIT compilers have gone quiet, so that measured requests do not
 * share the CPUs with compilations the warm-up queued. On a 2-CPU machine those go on for seconds after a
 * TLS warm-up, and the first requests measured after it paid for them.
 */
public final class JitQuiet {
    private static final long WINDOW_MILLIS = 1000;
    /** Compilation time within one window that still counts as quiet. */
    private static final long QUIET_MILLIS = 20;

    private JitQuiet() {
    }

    /**
     * Returns once the JIT compiled for at most {@value #QUIET_MILLIS} ms within one second, or when
     * {@code atMost} has passed; at once where the JVM does not report compilation time.
     *
     * @return how long it waited
     */
    public static Duration await(Duration atMost) {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        long started = System.nanoTime();
        if (jit == null || !jit.isCompilationTimeMonitoringSupported()) {
            return Duration.ZERO;
        }
        long deadline = started + atMost.toNanos();
        long before = jit.getTotalCompilationTime();
        while (System.nanoTime() < deadline) {
            try {
                Thread.sleep(WINDOW_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            long now = jit.getTotalCompilationTime();
            if (now - before <= QUIET_MILLIS) {
                break;
            }
            before = now;
        }
        return Duration.ofNanos(System.nanoTime() - started);
    }
}
