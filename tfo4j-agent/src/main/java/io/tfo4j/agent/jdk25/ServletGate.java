package io.tfo4j.agent.jdk25;

import io.tfo4j.agent.bootstrap.AgentClassLoader;
import io.tfo4j.agent.common.AgentLog;
import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Runs tfo4j's {@code io.tfo4j.servlet.EarlyDataFilter} before every {@code jakarta.servlet.http.HttpServlet}
 * of an application that never registered it. The filter is compiled against the servlet API, which the
 * agent does not carry: its classes (in the agent jar's {@code servlet/} folder) are defined, once per
 * servlet API found, in a small class loader whose parent is the loader of that API, so that they see the
 * application's servlet classes and nothing else of the agent's.
 */
final class ServletGate {
    private static final String HTTP_SERVLET = "jakarta.servlet.http.HttpServlet";
    private static final String FILTER = "io.tfo4j.servlet.EarlyDataFilter";
    private static final MethodType ADMIT = MethodType.methodType(boolean.class, Object.class, Object.class);
    /** Where the filter cannot be set up: every request runs, as without the agent. */
    private static final MethodHandle ADMIT_ALL =
            MethodHandles.dropArguments(MethodHandles.constant(boolean.class, true), 0, Object.class, Object.class);

    private final AgentClassLoader agentLoader;
    private final String policy;
    private final AgentLog log;
    /** The servlet API's class loader to the filter's {@code admit(request, response)}. */
    private final Map<ClassLoader, MethodHandle> admitByApi = Collections.synchronizedMap(new WeakHashMap<>());

    ServletGate(AgentClassLoader agentLoader, String policy, AgentLog log) {
        this.agentLoader = agentLoader;
        this.policy = policy;
        this.log = log;
    }

    /** False when the request must not run (answered 425, or its connection reset before the handshake). */
    boolean beforeService(Object servlet, Object request, Object response) {
        MethodHandle admit = admitFor(servlet.getClass());
        if (admit == null) {
            return true;
        }
        try {
            return (boolean) admit.invokeExact(request, response);
        } catch (IOException e) {
            // The 425 could not be written: the connection is gone, and the request must not run.
            return false;
        } catch (Throwable t) {
            log.once("servlet filter failed", "the early-data filter failed (" + t + "); requests run as"
                    + " without the agent");
            return true;
        }
    }

    private MethodHandle admitFor(Class<?> servletClass) {
        ClassLoader api = servletApiLoader(servletClass);
        if (api == null) {
            return null;
        }
        return admitByApi.computeIfAbsent(api, this::link);
    }

    /** The loader that defined {@code HttpServlet} for this servlet, or null (then it is not an HttpServlet). */
    private static ClassLoader servletApiLoader(Class<?> servletClass) {
        for (Class<?> c = servletClass; c != null; c = c.getSuperclass()) {
            if (c.getName().equals(HTTP_SERVLET)) {
                return c.getClassLoader();
            }
        }
        return null;
    }

    private MethodHandle link(ClassLoader api) {
        try {
            ClassLoader bridge = new FilterClassLoader(api, agentLoader);
            Class<?> filterClass = bridge.loadClass(FILTER);
            Class<?> request = Class.forName("jakarta.servlet.ServletRequest", false, api);
            Class<?> response = Class.forName("jakarta.servlet.ServletResponse", false, api);
            Object filter = filterClass.getConstructor(String.class).newInstance(policy);
            return MethodHandles.publicLookup()
                    .findVirtual(filterClass, "admit", MethodType.methodType(boolean.class, request, response))
                    .bindTo(filter).asType(ADMIT);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            log.once("servlet filter " + api, "the early-data filter cannot be set up for the servlet API of " + api
                    + " (" + e + "): requests from SYN data run at once there");
            return ADMIT_ALL;
        }
    }

    /** Defines the filter's classes from the agent jar, next to one servlet API. */
    private static final class FilterClassLoader extends ClassLoader {
        private static final String FOLDER = "servlet/";
        private final AgentClassLoader agentLoader;

        FilterClassLoader(ClassLoader api, AgentClassLoader agentLoader) {
            super("tfo4j-servlet", api);
            this.agentLoader = agentLoader;
        }

        @Override
        protected Class<?> findClass(String name) throws ClassNotFoundException {
            byte[] bytes;
            try {
                bytes = agentLoader.entry(FOLDER + name.replace('.', '/') + ".class");
            } catch (IOException e) {
                throw new ClassNotFoundException(name, e);
            }
            if (bytes == null) {
                throw new ClassNotFoundException(name);
            }
            return defineClass(name, bytes, 0, bytes.length);
        }
    }
}
