package io.tfo4j.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The page every {@code tfo4j bench} server serves (about 600 bytes, {@value #PAGE_NAME}), in a temporary
 * directory readable by all: nginx's worker runs as an unprivileged user.
 */
final class BenchSite {
    static final String PAGE_NAME = "index.html";
    static final String PAGE = "<!doctype html><title>tfo4j bench</title>\n<p>" + "0123456789".repeat(50) + "</p>\n";

    private BenchSite() {
    }

    /** Makes the directory with the page in it; the caller deletes it ({@link BenchReport#deleteTree}). */
    static Path create() throws IOException {
        Path site = Files.createTempDirectory("tfo4j-bench-site",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        Path page = Files.writeString(site.resolve(PAGE_NAME), PAGE);
        Files.setPosixFilePermissions(page, PosixFilePermissions.fromString("rw-r--r--"));
        return site;
    }
}
