package io.tfo4j;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
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
 * reason naming the cause and the fix; tests that need no privilege must pass; none may fail. Then the fix the
 * reason names is followed: as {@code nobody} again, inside an unprivileged user namespace ({@code unshare}),
 * the namespace tests must run and pass, or skip for {@code /dev/net/tun} alone, saying so.
 *
 * <p>Needs root (to become {@code nobody}) and util-linux's {@code setpriv} and {@code unshare}; skips, saying
 * so, without them, and the second test skips where the kernel refuses unprivileged user namespaces. The child
 * gets a copy of the test class path in a temporary directory that {@code nobody} can read, since the build's
 * own directories (and {@code ~/.m2}) may not be.
 */
class UnprivilegedRunTest {
    private static final Path SETPRIV = Path.of("/usr/bin/setpriv");
    private static final Path UNSHARE = Path.of("/usr/bin/unshare");
    private static final Path TUN = Path.of("/dev/net/tun");
    private static final long CHILD_DEADLINE_SECONDS = 180;
    /**
     * Every test of these builds a namespace, a WanLab or a FleetLab first. (Some classes hold both kinds, e.g.
     * ServerKeysTest, FastOpenSupportTest: the rules for every test cover them.)
     */
    private static final Set<String> NEED_NAMESPACES = Set.of("FastOpenMatrixTest", "FleetKeysTest",
            "MiddleboxTest", "DeferredConnectTest", "SynPayloadCaptureTest", "FastOpenQueueOverflowTest",
            "FastOpenBlackHoleTest");
    /** These need neither root nor a namespace. */
    private static final Set<String> NEED_NOTHING = Set.of("FastOpenKeyTest", "FastOpenKeyFileTest", "ParsingTest",
            "SyscallErrorsTest", "FastOpenSocketTest", "MissingJvmFlagsTest", "ParsingPropertiesTest",
            "FastOpenKeyPropertiesTest");
    /** Run in a user namespace: these need network namespaces only (veth, no TUN device). */
    private static final List<String> NAMESPACES_ONLY = List.of("ServerKeysTest", "FastOpenMatrixTest",
            "FastOpenSupportTest");
    /** Run in a user namespace: this one needs /dev/net/tun too (a WanLab). */
    private static final String NEEDS_TUN = "MiddleboxTest";

    private static Path stage;
    private static String classPath;
    private static int nobodyUid;
    private static int nobodyGid;

    @BeforeAll
    static void stageTheClassPathForNobody() throws IOException {
        assumeTrue(uidOf(Path.of("/proc/self")) == 0,
                "skipped: only root can start the child JVM as the user nobody; run the tests as root (sudo)");
        assumeTrue(Files.isExecutable(SETPRIV), "skipped: setpriv is not installed (apt-get install util-linux)");
        String[] nobody = passwdEntry("nobody");
        assumeTrue(nobody != null, "skipped: this machine has no user nobody in /etc/passwd");
        nobodyUid = Integer.parseInt(nobody[2]);
        nobodyGid = Integer.parseInt(nobody[3]);
        stage = Files.createTempDirectory("tfo4j-unpriv-");
        Files.setPosixFilePermissions(stage, PosixFilePermissions.fromString("rwxr-xr-x"));
        classPath = stageClassPath(stage.resolve("cp"));
    }

    @AfterAll
    static void removeTheStage() throws IOException {
        if (stage != null) {
            deleteTree(stage);
        }
    }

    @Test
    void namespaceTestsSkipNamingTheCauseAndTheFixAndTheOthersPassAsNobody() throws Exception {
        List<String> lines = runAsNobody("plain", List.of(), List.of(
                "package:" + UnprivilegedRunTest.class.getPackageName(),
                "exclude:^" + UnprivilegedRunTest.class.getName().replace(".", "\\.") + "$"));
        Map<String, String> header = header(lines);
        List<TestLine> results = tests(lines);
        System.out.println("UnprivilegedRunTest, as nobody: the child ran as uid " + header.get("uid")
                + " with CapEff " + header.get("CapEff") + "; " + summary(results));
        assertEquals(String.valueOf(nobodyUid), header.get("uid"), "the child ran as nobody");
        assertTrue(header.getOrDefault("CapEff", "").matches("0+"), "the child had no capabilities: " + header);

        List<String> failed = results.stream().filter(m -> m.outcome().equals("FAILED"))
                .map(TestLine::toString).toList();
        List<String> unexplained = results.stream()
                .filter(m -> !m.outcome().equals("SUCCESSFUL") && m.reason().isBlank())
                .map(TestLine::toString).toList();
        List<String> namespaceRuns = results.stream()
                .filter(m -> NEED_NAMESPACES.contains(m.testClass())
                        && !(m.outcome().equals("ABORTED") && namesCauseAndFix(m.reason())))
                .map(TestLine::toString).toList();
        List<String> namespaceReasonsWithoutFix = results.stream()
                .filter(m -> m.outcome().equals("ABORTED") && m.reason().contains("namespace")
                        && !namesCauseAndFix(m.reason()))
                .map(TestLine::toString).toList();
        List<String> unprivilegedNotPassed = results.stream()
                .filter(m -> NEED_NOTHING.contains(m.testClass()) && !m.outcome().equals("SUCCESSFUL"))
                .map(TestLine::toString).toList();
        Set<String> classesSeen = results.stream().map(TestLine::testClass).collect(Collectors.toSet());
        Set<String> moduleClasses = testClassesOfThisModule();

        assertAll(
                () -> assertTrue(failed.isEmpty(), "tests that failed as nobody: " + failed),
                () -> assertTrue(unexplained.isEmpty(), "tests that did not pass and said not why: " + unexplained),
                () -> assertTrue(namespaceRuns.isEmpty(),
                        "namespace tests that did not skip naming the cause and the fix: " + namespaceRuns),
                () -> assertTrue(namespaceReasonsWithoutFix.isEmpty(),
                        "skips that do not name the cause and the fix: " + namespaceReasonsWithoutFix),
                () -> assertTrue(unprivilegedNotPassed.isEmpty(), "unprivileged tests that did not pass: "
                        + unprivilegedNotPassed),
                () -> assertTrue(classesSeen.containsAll(NEED_NAMESPACES) && classesSeen.containsAll(NEED_NOTHING),
                        "the child ran every class named here; it ran " + classesSeen),
                () -> assertTrue(classesSeen.containsAll(moduleClasses),
                        "the child ran every test class of this module (one it cannot load is left out silently);"
                                + " it ran " + classesSeen + " of " + moduleClasses),
                () -> assertFalse(classesSeen.contains(UnprivilegedRunTest.class.getSimpleName()),
                        "the child did not run this test again"));
    }

    @Test
    void theFixTheReasonNamesWorksNobodyInAnUnprivilegedUserNamespaceRunsTheNamespaceTests() throws Exception {
        assumeTrue(Files.isExecutable(UNSHARE), "skipped: unshare is not installed (apt-get install util-linux)");
        String refused = userNamespaceRefusal();
        assumeTrue(refused == null,
                () -> "skipped: this kernel does not let nobody make a user namespace: " + refused);
        List<String> selection = new ArrayList<>();
        for (String name : NAMESPACES_ONLY) {
            selection.add("class:" + UnprivilegedRunTest.class.getPackageName() + "." + name);
        }
        selection.add("class:" + UnprivilegedRunTest.class.getPackageName() + "." + NEEDS_TUN);
        // The reason's recipe; where /run/netns does not exist yet, a private /run holds it (as ./tfo4j does).
        List<String> lines = runAsNobody("userns", List.of(UNSHARE.toString(), "--user", "--map-root-user", "--net",
                "--mount", "sh", "-c", "ip link set lo up && if [ -d /run/netns ]; then mount -t tmpfs tmpfs /run/netns;"
                        + " else mount -t tmpfs tmpfs /run && mkdir /run/netns; fi && exec \"$0\" \"$@\""), selection);
        Map<String, String> header = header(lines);
        List<TestLine> results = tests(lines);
        boolean tunOpenToAll = Files.getPosixFilePermissions(TUN).containsAll(
                Set.of(PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE));
        System.out.println("UnprivilegedRunTest, as nobody in a user namespace (uid_map " + header.get("uid_map")
                + ", /dev/net/tun open to all: " + tunOpenToAll + "): " + summary(results));
        assertTrue(header.getOrDefault("uid_map", "").matches("0 " + nobodyUid + " 1"),
                "the child was root of a user namespace mapped to nobody alone: " + header);

        List<String> namespaceTestsNotPassed = results.stream()
                .filter(m -> NAMESPACES_ONLY.contains(m.testClass()) && !m.outcome().equals("SUCCESSFUL"))
                .map(TestLine::toString).toList();
        List<String> tunTestsWrong = results.stream()
                .filter(m -> m.testClass().equals(NEEDS_TUN))
                .filter(m -> tunOpenToAll ? !m.outcome().equals("SUCCESSFUL")
                        : !(m.outcome().equals("ABORTED")
                                && m.reason().contains("/dev/net/tun is not readable and writable")
                                && m.reason().contains("chmod 0666 /dev/net/tun")))
                .map(TestLine::toString).toList();
        Set<String> classesSeen = results.stream().map(TestLine::testClass).collect(Collectors.toSet());
        assertAll(
                () -> assertTrue(namespaceTestsNotPassed.isEmpty(),
                        "namespace tests that did not pass in a user namespace: " + namespaceTestsNotPassed),
                () -> assertTrue(tunTestsWrong.isEmpty(), (tunOpenToAll ? "WanLab tests that did not pass: "
                        : "WanLab tests that did not skip naming /dev/net/tun and its fix: ") + tunTestsWrong),
                () -> assertTrue(classesSeen.containsAll(NAMESPACES_ONLY) && classesSeen.contains(NEEDS_TUN),
                        "the child ran every class named here; it ran " + classesSeen));
    }

    /**
     * Runs {@link MethodOutcomeReport} on {@code selection} as nobody with no capabilities, through
     * {@code wrapper} (a command that ends by running its arguments), and returns the report's lines.
     */
    private static List<String> runAsNobody(String name, List<String> wrapper, List<String> selection)
            throws IOException, InterruptedException {
        Path work = Files.createDirectories(stage.resolve(name + "/tmp")).getParent();
        for (Path dir : List.of(work, work.resolve("tmp"))) {
            Files.setAttribute(dir, "unix:uid", nobodyUid);
            Files.setAttribute(dir, "unix:gid", nobodyGid);
        }
        Path report = work.resolve("report.tsv");
        Path output = stage.resolve(name + "-output.txt");
        List<String> command = new ArrayList<>(List.of(SETPRIV.toString(), "--reuid=" + nobodyUid,
                "--regid=" + nobodyGid, "--clear-groups", "--inh-caps=-all", "--"));
        command.addAll(wrapper);
        command.add(ProcessHandle.current().info().command().orElseThrow());
        command.addAll(tfo4jJvmFlags());
        command.addAll(List.of("-Djava.io.tmpdir=" + work.resolve("tmp"), "-Duser.home=" + work,
                "-cp", classPath, MethodOutcomeReport.class.getName(), report.toString()));
        command.addAll(selection);
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
        return Files.readAllLines(report);
    }

    /** The simple names of this module's top-level *Test classes, but this one. */
    private static Set<String> testClassesOfThisModule() throws IOException {
        Path classes = Path.of(UnprivilegedRunTest.class.getProtectionDomain().getCodeSource().getLocation().getPath());
        Path dir = classes.resolve(UnprivilegedRunTest.class.getPackageName().replace('.', '/'));
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(file -> file.getFileName().toString())
                    .filter(name -> name.endsWith("Test.class") && !name.contains("$"))
                    .map(name -> name.substring(0, name.length() - ".class".length()))
                    .filter(name -> !name.equals(UnprivilegedRunTest.class.getSimpleName()))
                    .collect(Collectors.toSet());
        }
    }

    /** Null where nobody can make a user namespace, else what unshare said. */
    private static String userNamespaceRefusal() throws IOException, InterruptedException {
        Process probe = new ProcessBuilder(SETPRIV.toString(), "--reuid=" + nobodyUid, "--regid=" + nobodyGid,
                "--clear-groups", "--", UNSHARE.toString(), "--user", "--map-root-user", "--net", "true")
                .redirectErrorStream(true).start();
        try {
            if (!probe.waitFor(30, TimeUnit.SECONDS)) {
                return "unshare did not finish within 30 s";
            }
            String said = new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            return probe.exitValue() == 0 ? null : "exit " + probe.exitValue() + ": " + said;
        } finally {
            probe.destroyForcibly();
        }
    }

    private static Map<String, String> header(List<String> lines) {
        Map<String, String> header = new TreeMap<>();
        lines.stream().map(line -> line.split("\t", -1)).filter(fields -> fields.length == 2)
                .forEach(fields -> header.put(fields[0], fields[1]));
        return header;
    }

    /** One test's line of the report; {@code testClass} is the simple name. */
    private record TestLine(String outcome, String testClass, String test, String reason) {
        @Override
        public String toString() {
            return testClass + " " + test + " " + outcome + (reason.isEmpty() ? "" : ": " + reason);
        }
    }

    private static List<TestLine> tests(List<String> lines) {
        return lines.stream().map(line -> line.split("\t", -1)).filter(fields -> fields.length == 4)
                .map(fields -> new TestLine(fields[0], simpleName(fields[1]), fields[2], fields[3])).toList();
    }

    /** The cause (no network namespace) and both fixes: root, or an unprivileged user namespace. */
    private static boolean namesCauseAndFix(String reason) {
        return reason.contains("cannot make a network namespace") && reason.contains("root")
                && reason.contains("unprivileged user namespaces");
    }

    private static String summary(List<TestLine> results) {
        Map<String, Long> byOutcome = results.stream()
                .collect(Collectors.groupingBy(TestLine::outcome, TreeMap::new, Collectors.counting()));
        Map<String, Long> byReason = results.stream().filter(m -> !m.outcome().equals("SUCCESSFUL"))
                .collect(Collectors.groupingBy(m -> m.reason().replaceAll("tfo4j-\\d+-probe", "tfo4j-PID-probe"),
                        TreeMap::new, Collectors.counting()));
        Map<String, Map<String, Long>> byClass = results.stream().collect(Collectors.groupingBy(
                TestLine::testClass, TreeMap::new,
                Collectors.groupingBy(TestLine::outcome, TreeMap::new, Collectors.counting())));
        return results.size() + " tests in " + byClass.size() + " classes: " + byOutcome + "; reasons: " + byReason
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

    /**
     * The JVM flags tfo4j needs ({@code --enable-native-access}, {@code --add-exports}, {@code --add-opens}), as
     * this JVM got them.
     */
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
