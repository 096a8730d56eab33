package io.tfo4j.agent.jdk25;

import io.tfo4j.agent.bootstrap.Hooks;
import io.tfo4j.agent.common.AgentLog;
import java.io.IOException;
import java.io.InputStream;
import java.lang.classfile.ClassElement;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassHierarchyResolver;
import java.lang.classfile.ClassModel;
import java.lang.classfile.ClassTransform;
import java.lang.classfile.CodeBuilder;
import java.lang.classfile.CodeElement;
import java.lang.classfile.CodeTransform;
import java.lang.classfile.Label;
import java.lang.classfile.MethodModel;
import java.lang.classfile.MethodTransform;
import java.lang.classfile.Opcode;
import java.lang.classfile.TypeKind;
import java.lang.classfile.instruction.InvokeInstruction;
import java.lang.classfile.instruction.ReturnInstruction;
import java.lang.constant.ClassDesc;
import java.lang.constant.MethodTypeDesc;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.lang.instrument.UnmodifiableClassException;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Supplier;

import static java.lang.constant.ConstantDescs.CD_Object;
import static java.lang.constant.ConstantDescs.CD_boolean;
import static java.lang.constant.ConstantDescs.CD_int;
import static java.lang.constant.ConstantDescs.CD_long;
import static java.lang.constant.ConstantDescs.CD_void;

/**
 * Rewrites the few JDK methods where sockets are bound, connected, accepted, read and written so that they
 * call {@link Hooks} first, with the JDK's own class-file API ({@code java.lang.classfile}), which always
 * matches the running JDK. Each rewrite adds a call at a method's start or swaps one call for another with
 * the same signature; the JDK's own code is kept. And, when an application loads the servlet API, its
 * {@code HttpServlet.service} gets the same kind of call, for the early-data filter.
 *
 * <p>Before anything is rewritten, {@link #verify()} reads each JDK class and rewrites it, which checks that
 * the methods are there with the signatures the rewrite expects; a part whose classes differ (another JDK
 * release) is switched off with one line, and the JDK keeps its code. The result is kept and handed to the
 * JVM when it loads the class from the same bytes, so each class is rewritten once: the class-file API's
 * work at start is what the agent's start costs, in CPU and in the JIT's work afterwards.
 */
final class JdkRewrites implements ClassFileTransformer {
    /** What the agent does, and so which classes it must rewrite for it. */
    enum Part {
        /** Listeners on listed ports get TCP_FASTOPEN. */
        LISTENERS("listeners"),
        /** Accepted connections are looked at, for the counters and the early-data filter. */
        ACCEPTED("accepted connections"),
        /** Client connections to listed ports get TCP_FASTOPEN_CONNECT, and their first read or write is watched. */
        CLIENTS("client connections"),
        /** Servlets are preceded by the early-data filter. */
        SERVLETS("servlets");

        final String description;

        Part(String description) {
            this.description = description;
        }
    }

    private static final ClassDesc HOOKS = ClassDesc.of(Hooks.class.getName());
    private static final ClassDesc FILE_DESCRIPTOR = ClassDesc.of("java.io.FileDescriptor");
    private static final ClassDesc INET_ADDRESS = ClassDesc.of("java.net.InetAddress");
    private static final ClassDesc SOCKET_ADDRESS_ARRAY = ClassDesc.of("java.net.InetSocketAddress").arrayType();
    private static final MethodTypeDesc ADDRESS_HOOK = MethodTypeDesc.of(CD_void, FILE_DESCRIPTOR, INET_ADDRESS, CD_int);
    private static final MethodTypeDesc BEFORE_CONNECT = MethodTypeDesc.of(CD_Object, FILE_DESCRIPTOR, INET_ADDRESS, CD_int);
    private static final MethodTypeDesc AFTER_CONNECT = MethodTypeDesc.of(CD_void, CD_int, CD_Object);
    private static final MethodTypeDesc NET_CONNECT = MethodTypeDesc.of(CD_int,
            ClassDesc.of("java.net.ProtocolFamily"), FILE_DESCRIPTOR, INET_ADDRESS, CD_int);
    private static final MethodTypeDesc NET_ACCEPT = MethodTypeDesc.of(CD_int, FILE_DESCRIPTOR, FILE_DESCRIPTOR,
            SOCKET_ADDRESS_ARRAY);
    private static final MethodTypeDesc DISPATCH_INT = MethodTypeDesc.of(CD_int, FILE_DESCRIPTOR, CD_long, CD_int);
    private static final MethodTypeDesc DISPATCH_LONG = MethodTypeDesc.of(CD_long, FILE_DESCRIPTOR, CD_long, CD_int);
    private static final MethodTypeDesc READ_HOOK = MethodTypeDesc.of(CD_void, FILE_DESCRIPTOR);
    private static final MethodTypeDesc SERVLET_HOOK = MethodTypeDesc.of(CD_boolean, CD_Object, CD_Object, CD_Object);
    private static final MethodTypeDesc SERVICE = MethodTypeDesc.of(CD_void,
            ClassDesc.of("jakarta.servlet.ServletRequest"), ClassDesc.of("jakarta.servlet.ServletResponse"));
    private static final String HTTP_SERVLET = "jakarta/servlet/http/HttpServlet";
    private static final String NET = "sun/nio/ch/Net";

    /** The JDK classes each part rewrites. */
    private static final Map<String, Part> JDK_CLASSES = new LinkedHashMap<>();

    static {
        JDK_CLASSES.put("sun/net/NetHooks", Part.LISTENERS);
        JDK_CLASSES.put("sun/nio/ch/ServerSocketChannelImpl", Part.ACCEPTED);
        JDK_CLASSES.put("sun/nio/ch/NioSocketImpl", Part.ACCEPTED);
        JDK_CLASSES.put("sun/nio/ch/UnixAsynchronousServerSocketChannelImpl", Part.ACCEPTED);
        JDK_CLASSES.put(NET, Part.CLIENTS);
        JDK_CLASSES.put("sun/nio/ch/SocketDispatcher", Part.CLIENTS);
    }

    private final Set<Part> parts;
    private final Instrumentation instrumentation;
    private final AgentLog log;
    /** Class name to {original bytes, rewritten bytes}, from {@link #verify()}, until the class is loaded. */
    private final Map<String, byte[][]> verified = new java.util.concurrent.ConcurrentHashMap<>();

    JdkRewrites(Set<Part> wanted, Instrumentation instrumentation, AgentLog log) {
        this.parts = EnumSet.noneOf(Part.class);
        this.parts.addAll(wanted);
        this.instrumentation = instrumentation;
        this.log = log;
    }

    /** The parts still on after {@link #verify()}. */
    Set<Part> parts() {
        return Set.copyOf(parts);
    }

    /** Switches off (with a line) the parts whose JDK classes this agent cannot rewrite here. */
    void verify() {
        for (Map.Entry<String, Part> target : JDK_CLASSES.entrySet()) {
            Part part = target.getValue();
            if (!parts.contains(part)) {
                continue;
            }
            String problem = null;
            try (InputStream in = Object.class.getModule().getResourceAsStream(target.getKey() + ".class")) {
                if (in == null) {
                    problem = "is missing";
                } else {
                    byte[] original = in.readAllBytes();
                    byte[] rewritten = rewrite(target.getKey(), original, null);
                    if (rewritten == null) {
                        problem = "does not have the methods this agent rewrites";
                    } else {
                        verified.put(target.getKey(), new byte[][] {original, rewritten});
                    }
                }
            } catch (IOException | RuntimeException e) {
                problem = "cannot be rewritten (" + e + ")";
            }
            if (problem != null) {
                parts.remove(part);
                if (part == Part.ACCEPTED) {
                    parts.remove(Part.SERVLETS);
                }
                log.line("this JDK's " + target.getKey().replace('/', '.') + " " + problem + " (Java "
                        + Runtime.version() + "): " + part.description + " are left as they are");
            }
        }
    }

    /**
     * Starts rewriting classes as they load, and returns those the JVM had loaded before: they must be
     * rewritten with {@link #rewriteLoaded}, once the agent's hooks are in place.
     */
    List<Class<?>> install() {
        instrumentation.addTransformer(this, true);
        List<Class<?>> loaded = new ArrayList<>();
        for (Class<?> c : instrumentation.getAllLoadedClasses()) {
            Part part = JDK_CLASSES.get(c.getName().replace('.', '/'));
            if (c.getClassLoader() == null && part != null && parts.contains(part)) {
                loaded.add(c);
            }
        }
        return loaded;
    }

    /** Rewrites the JDK classes that were loaded before {@link #install}. */
    void rewriteLoaded(List<Class<?>> loaded) throws UnmodifiableClassException {
        if (!loaded.isEmpty()) {
            instrumentation.retransformClasses(loaded.toArray(new Class<?>[0]));
        }
    }

    @Override
    public byte[] transform(Module module, ClassLoader loader, String className, Class<?> redefined,
                            ProtectionDomain domain, byte[] classfile) {
        try {
            if (loader == null) {
                Part part = JDK_CLASSES.get(className);
                if (part == null || !parts.contains(part)) {
                    return null;
                }
                byte[][] done = verified.remove(className);
                return done != null && Arrays.equals(done[0], classfile) ? done[1] : rewrite(className, classfile, null);
            }
            if (HTTP_SERVLET.equals(className) && parts.contains(Part.SERVLETS)) {
                byte[] rewritten = rewrite(className, classfile, loader);
                if (rewritten != null && module.isNamed() && !module.canRead(Hooks.class.getModule())) {
                    instrumentation.redefineModule(module, Set.of(Hooks.class.getModule()), Map.of(), Map.of(),
                            Set.of(), Map.of());
                }
                return rewritten;
            }
            return null;
        } catch (RuntimeException | LinkageError e) {
            log.once("rewrite " + className, "could not rewrite " + className.replace('/', '.') + " (" + e
                    + "): it keeps its own code");
            return null;
        }
    }

    /** The rewritten class, or null when it lacks a method this rewrite expects. */
    static byte[] rewrite(String className, byte[] classfile, ClassLoader loader) {
        ClassHierarchyResolver resolver = loader == null ? ClassHierarchyResolver.defaultResolver()
                : ClassHierarchyResolver.ofResourceParsing(loader).orElse(ClassHierarchyResolver.defaultResolver());
        ClassFile classFile = ClassFile.of(ClassFile.ClassHierarchyResolverOption.of(resolver));
        ClassModel model = classFile.parse(classfile);
        Map<String, Supplier<CodeTransform>> prologues = new LinkedHashMap<>();
        boolean swapAccept = false;
        switch (className) {
            case "sun/net/NetHooks" -> prologues.put("beforeTcpBind" + ADDRESS_HOOK.descriptorString(), () -> new Prologue(
                    code -> code.aload(0).aload(1).iload(2).invokestatic(HOOKS, "beforeTcpBind", ADDRESS_HOOK)));
            case NET -> prologues.put("connect" + NET_CONNECT.descriptorString(), ConnectBracket::new);
            case "sun/nio/ch/SocketDispatcher" -> {
                prologues.put("write" + DISPATCH_INT.descriptorString(), () -> new Prologue(JdkRewrites::writePrologue));
                prologues.put("writev" + DISPATCH_LONG.descriptorString(), () -> new Prologue(JdkRewrites::writevPrologue));
                prologues.put("read" + DISPATCH_INT.descriptorString(),
                        () -> new Prologue(code -> code.aload(1).invokestatic(HOOKS, "beforeRead", READ_HOOK)));
                prologues.put("readv" + DISPATCH_LONG.descriptorString(),
                        () -> new Prologue(code -> code.aload(1).invokestatic(HOOKS, "beforeRead", READ_HOOK)));
            }
            case HTTP_SERVLET -> prologues.put("service" + SERVICE.descriptorString(),
                    () -> new Prologue(JdkRewrites::servletPrologue));
            default -> swapAccept = true;
        }
        if (swapAccept) {
            return callsNetAccept(model) ? classFile.transformClass(model,
                    ClassTransform.transformingMethodBodies(JdkRewrites::swapAccept)) : null;
        }
        int found = 0;
        for (MethodModel method : model.methods()) {
            if (method.code().isPresent()
                    && prologues.containsKey(method.methodName().stringValue() + method.methodType().stringValue())) {
                found++;
            }
        }
        if (found != prologues.size()) {
            return null;
        }
        return classFile.transformClass(model, (ClassTransform) (builder, element) -> {
            if (element instanceof MethodModel method) {
                Supplier<CodeTransform> transform =
                        prologues.get(method.methodName().stringValue() + method.methodType().stringValue());
                if (transform != null) {
                    builder.transformMethod(method, MethodTransform.transformingCode(transform.get()));
                    return;
                }
            }
            builder.with((ClassElement) element);
        });
    }

    /** {@code int r = Hooks.beforeWrite(fd, address, length); if (r != PROCEED) return r;} */
    private static void writePrologue(CodeBuilder code) {
        Label proceed = code.newLabel();
        code.aload(1).lload(2).iload(4).invokestatic(HOOKS, "beforeWrite", DISPATCH_INT)
                .dup().loadConstant(Hooks.PROCEED).if_icmpeq(proceed).ireturn()
                .labelBinding(proceed).pop();
    }

    /** {@code long r = Hooks.beforeWritev(fd, iovecs, count); if (r != PROCEED) return r;} */
    private static void writevPrologue(CodeBuilder code) {
        Label proceed = code.newLabel();
        code.aload(1).lload(2).iload(4).invokestatic(HOOKS, "beforeWritev", DISPATCH_LONG)
                .dup2().loadConstant((long) Hooks.PROCEED).lcmp().ifeq(proceed).lreturn()
                .labelBinding(proceed).pop2();
    }

    /** {@code if (!Hooks.beforeServletService(this, request, response)) return;} */
    private static void servletPrologue(CodeBuilder code) {
        Label proceed = code.newLabel();
        code.aload(0).aload(1).aload(2).invokestatic(HOOKS, "beforeServletService", SERVLET_HOOK)
                .ifne(proceed).return_().labelBinding(proceed);
    }

    private static boolean callsNetAccept(ClassModel model) {
        for (MethodModel method : model.methods()) {
            if (method.code().isPresent()) {
                for (CodeElement element : method.code().get()) {
                    if (isNetAccept(element)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    private static boolean isNetAccept(CodeElement element) {
        return element instanceof InvokeInstruction invoke && invoke.opcode() == Opcode.INVOKESTATIC
                && invoke.owner().asInternalName().equals(NET) && invoke.name().equalsString("accept")
                && invoke.typeSymbol().equals(NET_ACCEPT);
    }

    /** {@code Net.accept(fd, newfd, isaa)} becomes {@code Hooks.accept(fd, newfd, isaa)}, which calls it. */
    private static void swapAccept(CodeBuilder code, CodeElement element) {
        if (isNetAccept(element)) {
            code.invokestatic(HOOKS, "accept", NET_ACCEPT);
        } else {
            code.with(element);
        }
    }

    /**
     * {@code Net.connect}: {@code Object marked = Hooks.beforeConnect(fd, remote, port)} at the start, in a
     * new local, and {@code Hooks.afterConnect(result, marked)} before it returns: the agent watches a
     * connection only once the kernel's connect has returned, so no timer can act before the connect did.
     */
    private static final class ConnectBracket implements CodeTransform {
        private int marked = -1;

        @Override
        public void atStart(CodeBuilder code) {
            marked = code.allocateLocal(TypeKind.REFERENCE);
            code.aload(1).aload(2).iload(3).invokestatic(HOOKS, "beforeConnect", BEFORE_CONNECT).astore(marked);
        }

        @Override
        public void accept(CodeBuilder code, CodeElement element) {
            if (element instanceof ReturnInstruction ret && ret.typeKind() == TypeKind.INT) {
                code.dup().aload(marked).invokestatic(HOOKS, "afterConnect", AFTER_CONNECT);
            }
            code.with(element);
        }
    }

    /** Adds code at a method's start and keeps the rest. */
    private record Prologue(Consumer<CodeBuilder> code) implements CodeTransform {
        @Override
        public void atStart(CodeBuilder builder) {
            code.accept(builder);
        }

        @Override
        public void accept(CodeBuilder builder, CodeElement element) {
            builder.with(element);
        }
    }
}
