package io.tfo4j;

import org.junit.platform.engine.DiscoverySelector;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.platform.engine.discovery.ClassNameFilter.excludeClassNamePatterns;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectPackage;
import static org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder.request;

/**
 * Runs tests with the JUnit Platform launcher and writes one line per test (each invocation of a parameterized
 * test on its own) with its outcome and why. A test method that never started because its class was stopped by
 * an assumption in {@code @BeforeAll} gets a line too, ABORTED with the class's reason. Run as a main class by
 * {@link UnprivilegedRunTest} in a child JVM of another user.
 *
 * <p>Report lines, tab-separated: {@code uid UID}, {@code CapEff HEX} (the child's effective capabilities),
 * {@code uid_map MAP} (its user namespace's map to the users outside), then
 * {@code OUTCOME CLASS TEST REASON} with OUTCOME one of SUCCESSFUL, ABORTED (an assumption failed), SKIPPED
 * ({@code @Disabled}), FAILED.
 */
final class MethodOutcomeReport {
    private MethodOutcomeReport() {
    }

    /**
     * {@code REPORT_FILE SELECTION...}, each SELECTION one of {@code package:NAME}, {@code class:NAME} and
     * {@code exclude:CLASS_NAME_REGEX}.
     */
    public static void main(String[] args) throws IOException {
        Path report = Path.of(args[0]);
        List<DiscoverySelector> selectors = new ArrayList<>();
        List<String> excluded = new ArrayList<>();
        for (String selection : List.of(args).subList(1, args.length)) {
            String value = selection.substring(selection.indexOf(':') + 1);
            switch (selection.substring(0, selection.indexOf(':') + 1)) {
                case "package:" -> selectors.add(selectPackage(value));
                case "class:" -> selectors.add(selectClass(value));
                case "exclude:" -> excluded.add(value);
                default -> throw new IllegalArgumentException("not package:, class: or exclude: " + selection);
            }
        }
        LauncherDiscoveryRequestBuilder builder = request().selectors(selectors);
        if (!excluded.isEmpty()) {
            builder.filters(excludeClassNamePatterns(excluded.toArray(String[]::new)));
        }
        LauncherDiscoveryRequest request = builder.build();
        Recorder recorder = new Recorder();
        Launcher launcher = LauncherFactory.create();
        launcher.execute(request, recorder);
        List<String> lines = new ArrayList<>();
        lines.add("uid\t" + Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        lines.add("CapEff\t" + effectiveCapabilities());
        lines.add("uid_map\t" + Files.readString(Path.of("/proc/self/uid_map")).strip().replaceAll("\\s+", " "));
        lines.addAll(recorder.methodLines());
        Files.write(report, lines);
        // Lingering non-daemon threads of a test must not keep the child alive past its report.
        System.exit(0);
    }

    private static String effectiveCapabilities() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/status")).stream()
                .filter(line -> line.startsWith("CapEff:"))
                .map(line -> line.substring("CapEff:".length()).strip())
                .findFirst().orElse("unknown");
    }

    private static final class Recorder implements TestExecutionListener {
        private final Map<String, TestExecutionResult> finished = new ConcurrentHashMap<>();
        private final Map<String, String> skipped = new ConcurrentHashMap<>();
        private volatile TestPlan plan;

        @Override
        public void testPlanExecutionStarted(TestPlan testPlan) {
            plan = testPlan;
        }

        @Override
        public void executionSkipped(TestIdentifier identifier, String reason) {
            skipped.put(identifier.getUniqueId(), reason);
        }

        @Override
        public void executionFinished(TestIdentifier identifier, TestExecutionResult result) {
            finished.put(identifier.getUniqueId(), result);
        }

        /**
         * One line per test that ran (each invocation of a parameterized or dynamic test on its own line), and one
         * per test method that never ran, with the reason of what stopped it (its class skipped or aborted).
         */
        List<String> methodLines() {
            List<String> lines = new ArrayList<>();
            for (TestIdentifier root : plan.getRoots()) {
                for (TestIdentifier identifier : plan.getDescendants(root)) {
                    String[] outcome = outcomeOf(identifier);
                    if (outcome != null) {
                        lines.add(outcome[0] + "\t" + className(identifier) + "\t" + oneLine(displayName(identifier))
                                + "\t" + oneLine(outcome[1]));
                    }
                }
            }
            return lines;
        }

        /** OUTCOME and REASON of a test, or of a test method that never ran or failed as a whole; else null. */
        private String[] outcomeOf(TestIdentifier identifier) {
            String id = identifier.getUniqueId();
            boolean method = identifier.getSource().orElse(null) instanceof MethodSource && !isInsideMethod(identifier);
            if (!identifier.isTest() && !method) {
                return null;
            }
            if (skipped.containsKey(id)) {
                return new String[] {"SKIPPED", skipped.get(id)};
            }
            TestExecutionResult own = finished.get(id);
            if (own == null) {
                return inherited(identifier);
            }
            if (identifier.isTest() || own.getStatus() != TestExecutionResult.Status.SUCCESSFUL) {
                return describe(own);
            }
            return null; // a parameterized or factory method that ran: its invocations have their own lines
        }

        /** Display names (of parameterized tests) and messages may hold tabs and line breaks. */
        private static String oneLine(String text) {
            return text.replaceAll("\\s+", " ");
        }

        private boolean isInsideMethod(TestIdentifier identifier) {
            return plan.getParent(identifier)
                    .map(parent -> parent.getSource().orElse(null) instanceof MethodSource)
                    .orElse(false);
        }

        private String className(TestIdentifier identifier) {
            for (Optional<TestIdentifier> at = Optional.of(identifier); at.isPresent(); at = plan.getParent(at.get())) {
                if (at.get().getSource().orElse(null) instanceof MethodSource method) {
                    return method.getClassName();
                }
            }
            return "?";
        }

        private String displayName(TestIdentifier identifier) {
            return isInsideMethod(identifier)
                    ? plan.getParent(identifier).orElseThrow().getDisplayName() + " " + identifier.getDisplayName()
                    : identifier.getDisplayName();
        }

        private String[] inherited(TestIdentifier method) {
            Optional<TestIdentifier> ancestor = plan.getParent(method);
            while (ancestor.isPresent()) {
                String id = ancestor.get().getUniqueId();
                if (skipped.containsKey(id)) {
                    return new String[] {"SKIPPED", skipped.get(id)};
                }
                TestExecutionResult result = finished.get(id);
                if (result != null && result.getStatus() != TestExecutionResult.Status.SUCCESSFUL) {
                    return describe(result);
                }
                ancestor = plan.getParent(ancestor.get());
            }
            return new String[] {"FAILED", "never started, and nothing around it says why"};
        }

        private static String[] describe(TestExecutionResult result) {
            String reason = result.getThrowable()
                    .map(thrown -> thrown.getClass().getSimpleName() + ": " + thrown.getMessage())
                    .orElse("");
            return new String[] {result.getStatus().name(), reason};
        }
    }
}
