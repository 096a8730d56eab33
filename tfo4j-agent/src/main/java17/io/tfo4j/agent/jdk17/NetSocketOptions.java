package io.tfo4j.agent.jdk17;

import java.io.FileDescriptor;
import java.io.IOException;
import java.lang.instrument.Instrumentation;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Map;
import java.util.Set;

/**
 * Integer socket options through the JDK's own native code, {@code sun.nio.ch.Net.setIntOption0} and
 * {@code getIntOption0}: a setsockopt and a getsockopt on any level and option, with no native access of
 * the agent's own. Present with the same signatures from Java 11 to 25.
 */
final class NetSocketOptions {
    private final MethodHandle set;
    private final MethodHandle get;

    private NetSocketOptions(MethodHandle set, MethodHandle get) {
        this.set = set;
        this.get = get;
    }

    /**
     * Opens {@code java.base/sun.nio.ch} to the agent and finds the two methods.
     *
     * @throws ReflectiveOperationException when this JDK has no such methods
     */
    static NetSocketOptions link(Instrumentation instrumentation) throws ReflectiveOperationException {
        Module javaBase = Object.class.getModule();
        Module agent = NetSocketOptions.class.getModule();
        instrumentation.redefineModule(javaBase, Set.of(), Map.of(), Map.of("sun.nio.ch", Set.of(agent)),
                Set.of(), Map.of());
        Class<?> net = Class.forName("sun.nio.ch.Net");
        MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(net, MethodHandles.lookup());
        MethodHandle set = lookup.findStatic(net, "setIntOption0", MethodType.methodType(void.class,
                FileDescriptor.class, boolean.class, int.class, int.class, int.class, boolean.class));
        MethodHandle get = lookup.findStatic(net, "getIntOption0", MethodType.methodType(int.class,
                FileDescriptor.class, boolean.class, int.class, int.class));
        return new NetSocketOptions(set, get);
    }

    void setInt(FileDescriptor fd, int level, int option, int value) throws IOException {
        try {
            set.invokeExact(fd, false, level, option, value, false);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException(t);
        }
    }

    int getInt(FileDescriptor fd, int level, int option) throws IOException {
        try {
            return (int) get.invokeExact(fd, false, level, option);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException(t);
        }
    }
}
