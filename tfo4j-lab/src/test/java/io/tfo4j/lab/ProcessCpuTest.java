package io.tfo4j.lab;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Checks that {@link ProcessCpu} counts a process's own threads and the processes below it. */
class ProcessCpuTest {
    @Test
    void countsTheCpuOfAChildProcessUnderItsParent() throws Exception {
        // The parent only waits; its child spins. The tree's time must grow by about the child's.
        Process parent = new ProcessBuilder("sh", "-c", "sh -c 'while :; do :; done' & wait").start();
        try {
            Thread.sleep(300); // the child is running
            long before = ProcessCpu.micros(parent.pid());
            Thread.sleep(1000);
            long after = ProcessCpu.micros(parent.pid());
            long spun = after - before;
            // The child spins for the whole second unless the machine is very busy; half of it is plenty.
            assertTrue(spun >= 300_000, "a spinning child should add at least 0.3 s in 1 s, added " + spun + " us");
            assertTrue(spun <= 2_100_000, "one spinning process cannot use more than 1 CPU second per second, added " + spun + " us");
        } finally {
            parent.descendants().forEach(ProcessHandle::destroyForcibly);
            parent.destroyForcibly();
            parent.waitFor(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void countsEveryThreadOfThisProcess() throws Exception {
        long before = ProcessCpu.micros(ProcessHandle.current().pid());
        Thread spinner = Thread.ofPlatform().start(() -> {
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500);
            long x = 0;
            while (System.nanoTime() < end) {
                x += x * 31 + 7;
            }
            if (x == 42) {
                System.out.println(x);
            }
        });
        spinner.join();
        long spent = ProcessCpu.micros(ProcessHandle.current().pid()) - before;
        assertTrue(spent >= 200_000, "a thread that spun for 0.5 s should add at least 0.2 s, added " + spent + " us");
    }

    @Test
    void aProcessThatIsGoneIsAnError() throws IOException, InterruptedException {
        Process done = new ProcessBuilder("true").start();
        done.waitFor();
        long pid = done.pid();
        assertThrows(NoSuchFileException.class, () -> ProcessCpu.micros(pid));
    }
}
