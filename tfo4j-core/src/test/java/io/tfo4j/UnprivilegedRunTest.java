package io.tfo4j;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The skip path, run for real: this module's tests (all but this one) run in a child JVM as the user
 * {@code nobody} with no capabilities ({@code setpriv}). Tests that need network namespaces must skip, with a
 * reason naming the cause and the fix; tests that need no privilege must pass; none may fail.
 *
 * <p>Needs root (to become {@code nobody}) and util-linux's {@code setpriv}; skips, saying so, without them. The
 * child gets a copy of the test class path in a temporary directory that {@code nobody} can read, since the
 * build's own directories (and {@code ~/.m2}) may not be.
 */
class UnprivilegedRunTest {
    private static final Path SETPRIV = Path.of("/usr/bin/setpriv");
    private static final long CHILD_DEADLINE_SECONDS = 180;
    /**
     * Every test of these builds a namespace, a WanLab or a FleetLab first. (Some classes hold both kinds, e.g.
     * ServerKeysTest, FastOpenSupportTest: the rules for every test cover them.)
     */
    private static final Set<String> NEED_NAMESPACES = Set.of("FastOpenMatrixTest", "FleetKeysTest",
            "MiddleboxTest", "DeferredConnectTest", "SynPayloadCaptureTest");
    /** These need neither root nor a namespace. */
    private static final Set<String> NEED_NOTHING = Set.of("FastOpenKeyTest", "FastOpenKeyFileTest", "ParsingTest",
            "SyscallErrorsTest", "FastOpenSocketTest", "MissingJvmFlagsTest");

    @Test
    void namespaceTestsSkipWithTheirReasonAndTheOthersPassAsNobody() throws Exception {
        assumeTrue(uidOf(Path.of("/proc/self")) == 0,
                "skipped: only root can start the child JVM as the user nobody; run the tests as root (sudo)");
        assumeTrue(Files.isExecutable(SETPRIV), "skipped: setpriv is not installed (apt-get install util-linux)");
        String[] nobody = passwdEntry("nobody");
        assumeTrue(nobody != null, "skipped: this machine has no user nobody in /etc/passwd");

        Path stage = Files.createTempDirectory("tfo4j-unpriv-");
        try {
            Files.setPosixFilePermissions(stage, PosixFilePermissions.fromString("rwxr-xr-x"));
            String classPath = stageClassPath(stage.resolve("cp"));
            Path work = Files.createDirectories(stage.resolve("work/tmp")).getParent();
            for (Path dir : List.of(work, work.resolve("tmp"))) {
                Files.setAttribute(dir, "unix:uid", Integer.parseInt(nobody[2]));
                Files.setAttribute(dir, "unix:gid", Integer.parseInt(nobody[3]));
            }
            Path report = work.resolve("report.tsv");
            Path output = stage.resolve("child-output.txt");

            List<String> command = new ArrayList<>(List.of(SETPRIV.toString(), "--reuid=" + nobody[2],
                    "--regid=" + nobody[3], "--clear-groups", "--inh-caps=-all", "--",
                    ProcessHandle.current().info().command().orElseThrow()));
            command.addAll(tfo4jJvmFlags());
            command.addAll(List.of("-Djava.io.tmpdir=" + work.resolve("tmp"), "-Duser.home=" + work,
                    "-cp", classPath, MethodOutcomeReport.class.getName(), report.toString(),
                    UnprivilegedRunTest.class.getPackageName(), "^" + UnprivilegedRunTest.class.getName() + "$"));
            Process child = new ProcessBuilder(command).directory(work.toFile()).redirectErrorStream(true)
                    .redirectOutput(output.toFile()).start();
            boolean done;
            try {
                done = child.waitFor(CHILD_DEADLINE_SECONDS, TimeUnit.SECONDS);
            } finally {
                child.descendants().forEach(ProcessHandle::destroyForcibly);
                child.destroyForcibly();
                child.waitFor(10, TimeUnit.SECONDS);
            }
            String childOutput = Files.exists(output) ? Files.readString(output, StandardCharsets.UTF_8) : "";
            assertTrue(done, () -> "the child JVM did not finish within " + CHILD_DEADLINE_SECONDS + " s; it printed:\n"
                    + tail(childOutput));
            assertEquals(0, child.exitValue(), () -> "the child JVM failed; it printed:\n" + tail(childOutput));
            assertTrue(Files.exists(report), () -> "the child wrote no report; it printed:\n" + tail(childOutput));

            checkReport(Files.readAllLines(report), Integer.parseInt(nobody[2]));
        } finally {
            deleteTree(stage);
        }
    }

    private static void checkReport(List<String> lines, int nobodyUid) {
        Map<String, String> header = new TreeMap<>();
        List<String[]> methods = new ArrayList<>();
        for (String line : lines) {
            String[] fields = line.split("\t", -1);
            if (fields.length == 2) {
                header.put(fields[0], fields[1]);
            } else {
                methods.add(fields);
            }
        }
        System.out.println("UnprivilegedRunTest: the child ran as uid " + header.get("uid") + " with CapEff "
                + header.get("CapEff") + "; " + summary(methods));
        assertEquals(String.valueOf(nobodyUid), header.get("uid"), "the child ran as nobody");
        assertTrue(header.getOrDefault("CapEff", "").matches("0+"), "the child had no capabilities: " + header);

        List<String> failed = methods.stream().filter(m -> m[0].equals("FAILED"))
                .map(m -> simpleName(m[1]) + " " + m[2] + ": " + m[3]).toList();
        List<String> unexplained = methods.stream().filter(m -> !m[0].equals("SUCCESSFUL") && m[3].isBlank())
                .map(m -> simpleName(m[1]) + " " + m[2] + " " + m[0]).toList();
        List<String> namespaceRuns = methods.stream()
                .filter(m -> NEED_NAMESPACES.contains(simpleName(m[1]))
                        && !(m[0].equals("ABORTED") && namesCauseAndFix(m[3])))
                .map(m -> simpleName(m[1]) + " " + m[2] + " " + m[0] + ": " + m[3]).toList();
        List<String> namespaceReasonsWithoutFix = methods.stream()
                .filter(m -> m[0].equals("ABORTED") && m[3].contains("namespace") && !namesCauseAndFix(m[3]))
                .map(m -> simpleName(m[1]) + " " + m[2] + ": " + m[3]).toList();
        List<String> unprivilegedNotPassed = methods.stream()
                .filter(m -> NEED_NOTHING.contains(simpleName(m[1])) && !m[0].equals("SUCCESSFUL"))
                .map(m -> simpleName(m[1]) + " " + m[2] + " " + m[0] + ": " + m[3]).toList();
        Set<String> classesSeen = methods.stream().map(m -> simpleName(m[1])).collect(Collectors.toSet());

        assertAll(
                () -> assertTrue(failed.isEmpty(), "tests that failed as nobody: " + failed),
                () -> assertTrue(unexplained.isEmpty(), "tests that did not pass and said not why: " + unexplained),
                () -> assertTrue(namespaceRuns.isEmpty(), "namespace tests that did not skip naming the cause and the fix: " + namespaceRuns),
                () -> assertTrue(namespaceReasonsWithoutFix.isEmpty(),
                        "skips that do not name the cause and the fix: " + namespaceReasonsWithoutFix),
                () -> assertTrue(unprivilegedNotPassed.isEmpty(), "unprivileged tests that did not pass: "
                        + unprivilegedNotPassed),
                () -> assertTrue(classesSeen.containsAll(NEED_NAMESPACES) && classesSeen.containsAll(NEED_NOTHING),
                        "the child ran every class named here; it ran " + classesSeen),
                () -> assertFalse(classesSeen.contains(UnprivilegedRunTest.class.getSimpleName()),
                        "the child did not run this test again"));
    }

    /** The cause (no network namespace) and both fixes: root, or an unprivileged user namespace. */
    private static boolean namesCauseAndFix(String reason) {
        return reason.contains("cannot make a network namespace") && reason.contains("root")
                && reason.contains("unprivileged user namespaces");
    }

    private static String summary(List<String[]> methods) {
        Map<String, Long> byOutcome = methods.stream()
                .collect(Collectors.groupingBy(m -> m[0], TreeMap::new, Collectors.counting()));
        Map<String, Long> byReason = methods.stream().filter(m -> !m[0].equals("SUCCESSFUL"))
                .collect(Collectors.groupingBy(m -> m[3].replaceAll("tfo4j-\\d+-probe", "tfo4j-PID-probe"),
                        TreeMap::new, Collectors.counting()));
        Map<String, Map<String, Long>> byClass = methods.stream().collect(Collectors.groupingBy(
                m -> simpleName(m[1]), TreeMap::new, Collectors.groupingBy(m -> m[0], TreeMap::new, Collectors.counting())));
        return methods.size() + " tests in " + byClass.size() + " classes: " + byOutcome + "; reasons: " + byReason
                + "; by class: " + byClass;
    }

    /**
     * Copies every class path entry into {@code dir}, readable by all (directories 755, files 644), and returns
     * the copies as a class path.
     */
    private static String stageClassPath(Path dir) throws IOException {
        List<String> staged = new ArrayList<>();
        String[] entries = System.getProperty("java.class.path").split(File.pathSeparator);
        for (int i = 0; i < entries.length; i++) {
            Path source = Path.of(entries[i]);
            if (!Files.exists(source)) {
                continue;
            }
            Path target = dir.resolve(i + "-" + source.getFileName());
            copyTree(source, target);
            staged.add(target.toString());
        }
        setReadableByAll(dir);
        return String.join(File.pathSeparator, staged);
    }

    private static void copyTree(Path source, Path target) throws IOException {
        try (Stream<Path> paths = Files.walk(source)) {
            for (Path path : (Iterable<Path>) paths::iterator) {
                Path copy = target.resolve(source.relativize(path).toString());
                if (Files.isDirectory(path)) {
                    Files.createDirectories(copy);
                } else {
                    Files.createDirectories(copy.getParent());
                    Files.copy(path, copy);
                }
            }
        }
    }

    private static void setReadableByAll(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.forEach(path -> {
                try {
                    Files.setPosixFilePermissions(path,
                            PosixFilePermissions.fromString(Files.isDirectory(path) ? "rwxr-xr-x" : "rw-r--r--"));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }

    /** The JVM flags tfo4j needs ({@code --enable-native-access}, {@code --add-exports}, {@code --add-opens}), as this JVM got them. */
    private static List<String> tfo4jJvmFlags() {
        String[] arguments = ProcessHandle.current().info().arguments().orElseThrow();
        List<String> flags = new ArrayList<>();
        for (int i = 0; i < arguments.length; i++) {
            String argument = arguments[i];
            if (argument.startsWith("--enable-native-access")) {
                flags.add(argument);
            } else if (argument.startsWith("--add-exports") || argument.startsWith("--add-opens")) {
                flags.add(argument);
                if (!argument.contains("=") && i + 1 < arguments.length) {
                    flags.add(arguments[++i]);
                }
            }
        }
        return flags;
    }

    /** The fields of a user's line in /etc/passwd (name, password, uid, gid, ...), or null. */
    private static String[] passwdEntry(String user) throws IOException {
        return Files.readAllLines(Path.of("/etc/passwd")).stream()
                .map(line -> line.split(":"))
                .filter(fields -> fields.length >= 4 && fields[0].equals(user))
                .findFirst().orElse(null);
    }

    private static int uidOf(Path path) throws IOException {
        return (Integer) Files.getAttribute(path, "unix:uid");
    }

    private static String simpleName(String className) {
        return className.substring(className.lastIndexOf('.') + 1);
    }

    private static String tail(String text) {
        return text.length() <= 4000 ? text : "..." + text.substring(text.length() - 4000);
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(path);
            }
        }
    }
}
