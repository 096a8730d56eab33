package io.tfo4j.agent.bootstrap;

import java.io.File;
import java.lang.instrument.Instrumentation;
import java.lang.reflect.InvocationTargetException;

/**
 * Second stage of the agent's start, loaded by the boot loader from the agent jar: makes the
 * {@link AgentClassLoader} and starts {@code io.tfo4j.agent.common.AgentStarter} in it. Kept to the
 * minimum: everything else runs in the agent's own class loader.
 */
public final class Bootstrap {
    private static final String STARTER = "io.tfo4j.agent.common.AgentStarter";

    private Bootstrap() {
    }

    /** Called by {@code AgentMain.premain} on Java 17 and later. */
    public static void start(String arguments, Instrumentation instrumentation, File jar) throws Exception {
        AgentClassLoader loader = new AgentClassLoader(jar);
        invoke(loader, "start", new Class<?>[] {String.class, Instrumentation.class},
                new Object[] {arguments, instrumentation});
    }

    /** Called by {@code AgentMain.main}: {@code java -jar tfo4j-agent.jar [--check OPTIONS]}. */
    public static void main(String[] args, File jar) throws Exception {
        AgentClassLoader loader = new AgentClassLoader(jar);
        invoke(loader, "main", new Class<?>[] {String[].class}, new Object[] {args});
    }

    private static void invoke(AgentClassLoader loader, String method, Class<?>[] types, Object[] values)
            throws Exception {
        try {
            loader.loadClass(STARTER).getMethod(method, types).invoke(null, values);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof Exception cause) {
                throw cause;
            }
            throw e;
        }
    }
}
