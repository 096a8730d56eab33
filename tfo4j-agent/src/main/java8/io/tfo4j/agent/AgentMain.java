package io.tfo4j.agent;

import java.io.File;
import java.lang.instrument.Instrumentation;
import java.lang.reflect.InvocationTargetException;
import java.net.URISyntaxException;
import java.util.jar.JarFile;

/**
 * The tfo4j agent's entry point: {@code java -javaagent:tfo4j-agent.jar=listen=8080,connect=all -jar app.jar}.
 *
 * <p>This class is compiled for Java 8 so that every JVM can load it, and it touches nothing newer: on a
 * JVM older than 17 it prints one line and returns, and the program runs on plain TCP. On 17 and later it
 * adds the jar to the boot class path (the JDK classes the agent rewrites call its
 * {@code io.tfo4j.agent.bootstrap.Hooks}, which the boot loader must see) and hands over to
 * {@code io.tfo4j.agent.bootstrap.Bootstrap}. Nothing thrown here ever stops the program from starting.
 *
 * <p>{@code java -jar tfo4j-agent.jar} prints the option grammar; {@code java -jar tfo4j-agent.jar --check
 * OPTIONS} checks options the way the agent will read them (what {@code ./tfo4j run} does before it starts
 * anything).
 */
public final class AgentMain {
    private static final String PREFIX = "[tfo4j-agent] ";
    /** The oldest release the agent's own classes are compiled for, and whose socket internals it knows. */
    private static final int OLDEST_JAVA = 17;

    private AgentMain() {
    }

    /** Called by the JVM before {@code main} when the jar is given with {@code -javaagent}. */
    public static void premain(String arguments, Instrumentation instrumentation) {
        try {
            int feature = javaFeature();
            if (feature < OLDEST_JAVA) {
                System.err.println(PREFIX + "Java " + System.getProperty("java.version") + " is older than "
                        + OLDEST_JAVA + ": the agent changes nothing, and the program runs on plain TCP");
                return;
            }
            if (Boolean.getBoolean("tfo4j.disable")) {
                System.err.println(PREFIX + "switched off by -Dtfo4j.disable=true: the agent changes nothing");
                return;
            }
            File jar = agentJar();
            instrumentation.appendToBootstrapClassLoaderSearch(new JarFile(jar));
            Class<?> bootstrap = Class.forName("io.tfo4j.agent.bootstrap.Bootstrap", true, null);
            bootstrap.getMethod("start", String.class, Instrumentation.class, File.class)
                    .invoke(null, arguments, instrumentation, jar);
        } catch (Throwable t) {
            Throwable cause = t instanceof InvocationTargetException && t.getCause() != null ? t.getCause() : t;
            System.err.println(PREFIX + "could not start (" + cause
                    + "): the agent changes nothing, and the program runs on plain TCP");
        }
    }

    /** {@code java -jar tfo4j-agent.jar [--check OPTIONS]}. */
    public static void main(String[] args) throws Exception {
        if (javaFeature() < OLDEST_JAVA) {
            System.err.println("tfo4j-agent needs Java " + OLDEST_JAVA + " or later to check options; this is "
                    + System.getProperty("java.version"));
            System.exit(2);
        }
        Class<?> bootstrap = Class.forName("io.tfo4j.agent.bootstrap.Bootstrap");
        try {
            bootstrap.getMethod("main", String[].class, File.class).invoke(null, args, agentJar());
        } catch (InvocationTargetException e) {
            throw e.getCause() instanceof Exception ? (Exception) e.getCause() : e;
        }
    }

    /** 8 for "1.8", 17 for "17". */
    static int javaFeature() {
        String version = System.getProperty("java.specification.version", "0");
        if (version.startsWith("1.")) {
            version = version.substring(2);
        }
        try {
            return Integer.parseInt(version);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static File agentJar() throws URISyntaxException {
        return new File(AgentMain.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }
}
