package io.tfo4j.agent.jdk25;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.CodeElement;
import java.lang.classfile.MethodModel;
import java.lang.classfile.instruction.InvokeInstruction;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The rewrites applied to this JDK's own classes (the JDK running the tests): each finds its methods, the
 * result passes the class-file verifier, and calls the agent's hooks where it should.
 */
class JdkRewritesTest {
    private static byte[] jdkClass(String name) throws IOException {
        try (InputStream in = Object.class.getModule().getResourceAsStream(name + ".class")) {
            assertNotNull(in, name);
            return in.readAllBytes();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"sun/net/NetHooks", "sun/nio/ch/Net", "sun/nio/ch/SocketDispatcher",
            "sun/nio/ch/ServerSocketChannelImpl", "sun/nio/ch/NioSocketImpl",
            "sun/nio/ch/UnixAsynchronousServerSocketChannelImpl"})
    void eachJdkClassIsRewrittenIntoAValidClassThatCallsTheHooks(String name) throws IOException {
        byte[] rewritten = JdkRewrites.rewrite(name, jdkClass(name), null);
        assertNotNull(rewritten, name + " lacks a method the agent rewrites");
        List<?> errors = ClassFile.of().verify(rewritten);
        assertTrue(errors.isEmpty(), name + ": " + errors);
        assertTrue(hookCalls(rewritten) > 0, name + " calls no hook");
    }

    @Test
    void socketDispatcherCallsAHookInEachOfItsFourMethods() throws IOException {
        assertEquals(4, hookCalls(JdkRewrites.rewrite("sun/nio/ch/SocketDispatcher",
                jdkClass("sun/nio/ch/SocketDispatcher"), null)));
    }

    @Test
    void aClassWithoutTheExpectedMethodsIsLeftAlone() throws IOException {
        // Another JDK's NetHooks without beforeTcpBind(FileDescriptor, InetAddress, int) is not touched.
        assertNull(JdkRewrites.rewrite("sun/net/NetHooks", jdkClass("java/lang/Object"), null));
        assertNull(JdkRewrites.rewrite("sun/nio/ch/NioSocketImpl", jdkClass("java/lang/Object"), null));
    }

    private static int hookCalls(byte[] classfile) {
        ClassModel model = ClassFile.of().parse(classfile);
        int calls = 0;
        for (MethodModel method : model.methods()) {
            if (method.code().isPresent()) {
                for (CodeElement element : method.code().get()) {
                    if (element instanceof InvokeInstruction invoke
                            && invoke.owner().asInternalName().equals("io/tfo4j/agent/bootstrap/Hooks")) {
                        calls++;
                    }
                }
            }
        }
        return calls;
    }
}
