package io.tfo4j.bench;

import io.tfo4j.FastOpenKeys;
import io.tfo4j.http.FastOpenFileServer;
import io.tfo4j.lab.FleetLab;
import io.tfo4j.lab.NetNamespace;
import io.tfo4j.lab.ServerWarmUp;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * What {@code tfo4j serve} runs ({@link FastOpenFileServer}, in this JVM), once on every backend of a
 * {@link FleetLab}, bound to the fleet's address with Fast Open; backend {@code i} serves a page holding its name,
 * {@code backend<i>}. Each server follows its own key file when given one, as {@code serve --key-file} does.
 */
final class FleetServers implements AutoCloseable {
    static final int PORT = 8080;
    static final String PAGE = "/backend";
    private static final int WARM_UP_REQUESTS = 200;

    private final List<FastOpenFileServer> servers = new ArrayList<>();
    private final Queue<String> problems = new ConcurrentLinkedQueue<>();

    private FleetServers() {
    }

    /** Makes backend {@code i}'s site (from 1), readable by all; the caller deletes it. */
    static Path site(Path parent, int i) throws IOException {
        Path site = Files.createDirectory(parent.resolve("site" + i));
        Files.writeString(site.resolve(PAGE.substring(1)), "backend" + i);
        return site;
    }

    /**
     * Starts a server on every backend of {@code lab}, serving {@code sites.get(i)} and following
     * {@code keyFiles.get(i)} (null: the host's own key), accepting SYN data without a cookie when
     * {@code noCookie}; each warmed up from its own host.
     */
    static FleetServers start(FleetLab lab, List<Path> sites, List<Path> keyFiles, boolean noCookie) throws IOException {
        FleetServers started = new FleetServers();
        try {
            for (int i = 0; i < lab.backends().size(); i++) {
                NetNamespace backend = lab.backends().get(i);
                FastOpenFileServer.Builder builder = FastOpenFileServer.builder(sites.get(i)).bind(FleetLab.VIRTUAL_ADDRESS)
                        .port(PORT).fastOpen(256).noCookie(noCookie);
                if (keyFiles.get(i) != null) {
                    String name = "backend" + (i + 1);
                    builder.fastOpenKeyFile(keyFiles.get(i), problem -> started.problems.add(name + ": " + problem));
                }
                started.servers.add(backend.call(builder::start));
                backend.call(() -> ServerWarmUp.run("http://" + FleetLab.VIRTUAL_ADDRESS + ":" + PORT + PAGE, null,
                        WARM_UP_REQUESTS));
            }
            return started;
        } catch (IOException | RuntimeException e) {
            started.close();
            throw e;
        }
    }

    /**
     * Waits until backend {@code i}'s listener holds {@code keys} (its key file watcher applies a replaced
     * file within milliseconds), at most {@code atMost}.
     *
     * @throws IOException when it does not, with what the listener holds and what the watcher said
     */
    void awaitKeys(int i, FastOpenKeys keys, Duration atMost) throws IOException {
        long deadline = System.nanoTime() + atMost.toNanos();
        Optional<FastOpenKeys> held = servers.get(i).fastOpenKeys();
        while (!held.equals(Optional.of(keys))) {
            if (System.nanoTime() > deadline) {
                throw new IOException("backend" + (i + 1) + " did not take the keys of its replaced key file within "
                        + atMost.toSeconds() + " s: it holds " + held.map(Objects::toString).orElse("no keys of its own")
                        + ", expected " + keys + (problems.isEmpty() ? "" : "; " + String.join("; ", problems)));
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
            held = servers.get(i).fastOpenKeys();
        }
    }

    /** What the key file watchers reported (a bad replaced file), if anything. */
    List<String> problems() {
        return List.copyOf(problems);
    }

    /** Makes an empty directory for key files, readable only by this user. */
    static Path keyDirectory() throws IOException {
        return Files.createTempDirectory("tfo4j-bench-fleet-keys",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }

    @Override
    public void close() throws IOException {
        IOException failed = null;
        for (FastOpenFileServer server : servers) {
            try {
                server.close();
            } catch (Exception e) {
                failed = new IOException("stopping tfo4j serve: " + e.getMessage(), e);
            }
        }
        if (failed != null) {
            throw failed;
        }
    }
}
