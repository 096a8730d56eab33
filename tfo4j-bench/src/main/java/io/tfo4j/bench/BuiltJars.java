package io.tfo4j.bench;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Jars other modules of this repository build, which the benchmarks run as a user would: the agent
 * ({@code tfo4j-agent/target/tfo4j-agent.jar}) and the Spring Boot example
 * ({@code examples/spring-boot-app/target/spring-boot-app.jar}). The {@code ./tfo4j} launcher names them
 * with {@code -Dtfo4j.agentJar} and {@code -Dtfo4j.springBootJar}; without those they are looked for next to
 * this module's own jar in the source tree.
 */
final class BuiltJars {
    private BuiltJars() {
    }

    static Path agent() {
        return find("tfo4j.agentJar", "tfo4j-agent/target/tfo4j-agent.jar");
    }

    /** {@code -javaagent:.../tfo4j-agent.jar=OPTIONS}. */
    static String javaagent(String options) {
        return "-javaagent:" + agent() + "=" + options;
    }

    static Path springBoot() {
        return find("tfo4j.springBootJar", "examples/spring-boot-app/target/spring-boot-app.jar");
    }

    /** Why the agent jar is not there, with the command that builds it, or empty. */
    static Optional<String> agentMissing() {
        return missing(agent(), "tfo4j-agent");
    }

    /** Why the Spring Boot example is not there, with the command that builds it, or empty. */
    static Optional<String> springBootMissing() {
        return missing(springBoot(), "examples/spring-boot-app");
    }

    private static Optional<String> missing(Path jar, String module) {
        return Files.isRegularFile(jar) ? Optional.empty()
                : Optional.of(jar + " is not built (mvn -pl " + module + " -am package -DskipTests)");
    }

    private static Path find(String property, String inRepository) {
        String named = System.getProperty(property);
        if (named != null) {
            return Path.of(named);
        }
        try {
            // This class lives in tfo4j-bench/target/tfo4j-bench.jar (or tfo4j-bench/target/classes).
            Path benchTarget = Path.of(BuiltJars.class.getProtectionDomain().getCodeSource().getLocation().toURI()).getParent();
            return benchTarget.getParent().getParent().resolve(inRepository);
        } catch (URISyntaxException | RuntimeException e) {
            return Path.of(inRepository);
        }
    }
}
