package io.tfo4j.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The routes of this network namespace that carry {@code fastopen_no_cookie 1}, which makes the kernel skip
 * Fast Open cookies for connections on them (client and server side), as the sysctl bits 0x4 and 0x200 do
 * for all. Read with iproute2's {@code ip -4/-6 route show table all}: the kernel reports route metrics only
 * over netlink, which tfo4j-core (java.base only) does not speak, so the check lives here and is skipped,
 * saying why, where {@code ip} is missing or fails.
 *
 * @param routes  each such route as {@code ip} prints it (IPv4 ones first), empty when there are none
 * @param skipped why the routes could not be read, or null when they were
 */
record NoCookieRoutes(List<String> routes, String skipped) {
    private static final String ATTRIBUTE = "fastopen_no_cookie 1";
    private static final List<String> SEARCH_PATH = List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin");
    private static final long TIMEOUT_SECONDS = 5;

    /** Reads the routes now, or says why it could not. */
    static NoCookieRoutes find() {
        List<String> directories = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null && !path.isEmpty()) {
            directories.addAll(List.of(path.split(":")));
        }
        directories.addAll(SEARCH_PATH);
        return find(directories);
    }

    /** As {@link #find()}, looking for {@code ip} in {@code directories} only. */
    static NoCookieRoutes find(List<String> directories) {
        Path ip = findIp(directories);
        if (ip == null) {
            return new NoCookieRoutes(List.of(), "the ip command (iproute2) was not found in "
                    + String.join(":", directories) + "; install iproute2 to check routes");
        }
        List<String> routes = new ArrayList<>();
        for (String family : List.of("-4", "-6")) {
            String problem = collect(ip, family, routes);
            if (problem != null) {
                return new NoCookieRoutes(List.of(), problem);
            }
        }
        return new NoCookieRoutes(List.copyOf(routes), null);
    }

    private static Path findIp(List<String> directories) {
        for (String directory : directories) {
            Path candidate = Path.of(directory.isEmpty() ? "." : directory, "ip");
            if (Files.isExecutable(candidate) && !Files.isDirectory(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    /** Adds the family's routes with the attribute to {@code routes}; returns why it failed, or null. */
    private static String collect(Path ip, String family, List<String> routes) {
        List<String> command = List.of(ip.toString(), family, "route", "show", "table", "all");
        String shown = String.join(" ", command);
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
            String output;
            try (InputStream out = process.getInputStream()) {
                output = new String(out.readAllBytes(), StandardCharsets.UTF_8);
            }
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return shown + " did not finish within " + TIMEOUT_SECONDS + " s";
            }
            if (process.exitValue() != 0) {
                return shown + " failed (exit " + process.exitValue() + "): " + output.strip().lines().findFirst().orElse("");
            }
            output.lines().map(String::strip).filter(line -> (" " + line + " ").contains(" " + ATTRIBUTE + " "))
                    .forEach(routes::add);
            return null;
        } catch (IOException e) {
            return shown + " could not run: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return shown + " was interrupted";
        }
    }
}
