/**
 * TCP Fast Open (RFC 7413) for the JDK's own sockets and channels, through the Foreign Function &amp;
 * Memory API. Requires only {@code java.base}.
 *
 * <p>Linux only. At run time the core needs these JVM flags (the {@code ./tfo4j} launcher passes them;
 * on the class path write {@code ALL-UNNAMED} instead of {@code io.tfo4j.core}):
 * <ul>
 *   <li>{@code --enable-native-access=io.tfo4j.core}: to call setsockopt and friends;</li>
 *   <li>{@code --add-exports java.base/sun.nio.ch=io.tfo4j.core}: to read a channel's file descriptor;</li>
 *   <li>{@code --add-opens java.base/java.net=io.tfo4j.core}: only for plain {@code java.net.Socket} and
 *       {@code ServerSocket} objects that were not made by a channel or by tfo4j's factories.</li>
 * </ul>
 * Without them Fast Open falls back to plain TCP and every status says which flag is missing.
 */
module io.tfo4j.core {
    exports io.tfo4j;
}
