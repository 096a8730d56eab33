package io.tfo4j.agent.bootstrap;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.security.CodeSource;
import java.security.ProtectionDomain;
import java.security.cert.Certificate;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * Loads the agent's own classes, and tfo4j-core's, from the {@code inst/} folder of the agent jar. The
 * application cannot see them (its class loaders never look in {@code inst/}), so an application that
 * carries its own tfo4j, or classes of the same names, is not disturbed, and the agent never picks up the
 * application's copies. Its parent is the platform class loader: the agent uses the JDK and
 * {@link Hooks}, nothing from the class path.
 */
public final class AgentClassLoader extends ClassLoader {
    static {
        registerAsParallelCapable();
    }

    private static final String CLASSES = "inst/";

    private final JarFile jar;
    private final ProtectionDomain domain;

    AgentClassLoader(File jarFile) throws IOException {
        super("tfo4j-agent", ClassLoader.getPlatformClassLoader());
        this.jar = new JarFile(jarFile);
        this.domain = new ProtectionDomain(new CodeSource(jarFile.toURI().toURL(), (Certificate[]) null), null,
                this, null);
    }

    @Override
    protected Class<?> findClass(String name) throws ClassNotFoundException {
        byte[] bytes;
        try {
            bytes = entry(CLASSES + name.replace('.', '/') + ".class");
        } catch (IOException e) {
            throw new ClassNotFoundException(name, e);
        }
        if (bytes == null) {
            throw new ClassNotFoundException(name);
        }
        return defineClass(name, bytes, 0, bytes.length, domain);
    }

    /** The bytes of one entry of the agent jar ({@code "servlet/io/tfo4j/..."}), or null when it has none. */
    public byte[] entry(String path) throws IOException {
        JarEntry entry = jar.getJarEntry(path);
        if (entry == null) {
            return null;
        }
        try (InputStream in = jar.getInputStream(entry)) {
            return in.readAllBytes();
        }
    }

    /** The agent jar's manifest {@code Implementation-Version}, or "unknown". */
    public String version() {
        try {
            String version = jar.getManifest().getMainAttributes().getValue("Implementation-Version");
            return version == null ? "unknown" : version;
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }
}
