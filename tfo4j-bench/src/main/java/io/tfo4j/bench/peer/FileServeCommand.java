package io.tfo4j.bench.peer;

import io.tfo4j.http.FastOpenFileServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code tfo4j peer serve}: what {@code tfo4j serve DIR --bind ADDR --port P --fastopen} runs, a
 * {@link FastOpenFileServer} with its defaults (early-data policy WAIT), in a JVM of its own, for {@code tfo4j
 * bench soak} (which cannot depend on the user CLI). With {@code --heap-every}, it also reports its own heap
 * after a full GC on stdout at that interval, one JSON line each: {@code {"heapAfterGcBytes":N}}. Stops on
 * SIGTERM.
 */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"tfo4j serve's FastOpenFileServer in its own JVM, optionally printing its heap after GC as JSON lines."})
final class FileServeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DIR", description = "The directory to serve.")
    Path root;

    @Option(names = "--bind", paramLabel = "ADDR", defaultValue = "127.0.0.1", description = "Address to listen on (default 127.0.0.1).")
    String bind;

    @Option(names = "--port", paramLabel = "P", defaultValue = "8080", description = "Port (default 8080).")
    int port;

    @Option(names = "--fastopen", paramLabel = "QLEN", defaultValue = "256",
            description = "Fast Open queue length, 0 for off (default 256, as tfo4j serve --fastopen).")
    int fastOpenQueue;

    @Option(names = "--heap-every", paramLabel = "SECONDS", defaultValue = "0",
            description = "Print the heap after a full GC every SECONDS (default 0: never).")
    int heapEvery;

    @Override
    public Integer call() throws Exception {
        if (heapEvery < 0 || heapEvery > 3600) {
            throw new ParameterException(spec.commandLine(), "--heap-every must be 0 to 3600 seconds, got " + heapEvery);
        }
        FastOpenFileServer server = FastOpenFileServer.builder(root).bind(bind).port(port).fastOpen(fastOpenQueue).start();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.close();
            } catch (Exception e) {
                // stopping anyway
            }
            stopped.countDown();
        }, "serve-stop"));
        System.out.println("tfo4j peer serve: listening on " + bind + ":" + server.port() + ", Fast Open "
                + server.fastOpenStatus().active());
        System.out.flush();
        while (!stopped.await(heapEvery == 0 ? 3600 : heapEvery, TimeUnit.SECONDS)) {
            if (heapEvery > 0) {
                System.gc();
                System.out.println("{\"heapAfterGcBytes\":" + ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() + "}");
                System.out.flush();
            }
        }
        return 0;
    }
}
