package io.tfo4j.http;

import io.tfo4j.FastOpen;
import io.tfo4j.FastOpenKeys;
import io.tfo4j.FastOpenKeyFile;
import io.tfo4j.FastOpenKeyFileWatcher;
import io.tfo4j.FastOpenStatus;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.alpn.server.ALPNServerConnectionFactory;
import org.eclipse.jetty.http2.HTTP2Cipher;
import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.http2.server.HTTP2ServerConnectionFactory;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.handler.ResourceHandler;
import org.eclipse.jetty.server.handler.SizeLimitHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.resource.ResourceFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import java.io.IOException;
import java.net.BindException;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The HTTP/1.1 and HTTPS file server behind {@code tfo4j serve}: Jetty 12 serving a directory (keep-alive, HEAD,
 * conditional and Range requests, content types, {@code index.html} or a listing for directories) plus
 * {@code POST /echo}, on a {@link FastOpenServerConnector} with an {@link EarlyDataHandler} in front and,
 * if asked, a {@link FastOpenRequestLog}.
 *
 * <pre>{@code
 * try (FastOpenFileServer server = FastOpenFileServer.builder(Path.of("site")).port(8080).fastOpen(256).start()) {
 *     ...
 * }
 * }</pre>
 *
 * <p>Limits, each answered the way HTTP says: request headers over {@code maxHeaderBytes} get 431, a body
 * over {@code maxBodyBytes} 413, a malformed request 400 (and the connection is closed); a request head
 * (request line and headers) not complete within {@code headerTimeout} gets 408 and the connection is closed,
 * however steadily its bytes trickle in; a connection that sends nothing for {@code idleTimeout} is closed; at
 * {@code maxConnections} open connections, new ones wait in the listen backlog. Defaults: bind 127.0.0.1 (a
 * file server should not reach other hosts unless asked), port 8080, Fast Open off (turning it on is a promise
 * about replays: see {@link EarlyDataPolicy}), early data {@code WAIT}, 8 KiB of headers, 1 MiB of body, 10 s
 * for a head, 30 s idle, and connections up to three quarters of the file descriptors free at start (see
 * {@link Builder#maxConnections(int)}). Limits reached and accept failures are said once per episode on the
 * {@linkplain Builder#problemLog problem log}.
 *
 * <p>HTTPS ({@link Builder#tls(TlsIdentity)}): TLS 1.3 or 1.2 (the JDK's own TLS, no 0-RTT), HTTP/2 or
 * HTTP/1.1 as the client asks by ALPN. Over Fast Open the SYN then carries the client's TLS ClientHello,
 * never a request: a request comes after the TLS handshake, which needs the client's answer to the server's
 * first flight, so by then the TCP handshake has completed and a replayed SYN can start no request (the
 * access log says {@code fastopen=syn-clienthello}).
 *
 * <p>The listener is made in the network namespace of the thread that calls {@link Builder#start()}.
 */
public final class FastOpenFileServer implements AutoCloseable {
    private final Server server;
    private final FastOpenServerConnector connector;

    private volatile FastOpenKeyFileWatcher keyFileWatcher;

    private FastOpenFileServer(Server server, FastOpenServerConnector connector) {
        this.server = server;
        this.connector = connector;
    }

    /** A builder for a server of the files under {@code root}. */
    public static Builder builder(Path root) {
        return new Builder(root);
    }

    /** The port the server listens on (useful after {@code port(0)}). */
    public int port() {
        return connector.getLocalPort();
    }

    /** True when the server speaks HTTPS. */
    public boolean tls() {
        return connector.getConnectionFactory(SslConnectionFactory.class) != null;
    }

    /** Whether the listener accepts data in the SYN, and if not why not. */
    public FastOpenStatus fastOpenStatus() {
        return connector.fastOpenStatus();
    }

    /**
     * The Fast Open keys the listener holds now, read back from the kernel ({@code getsockopt
     * TCP_FASTOPEN_KEY}): after a key file changed, this says whether the new keys are in force. Empty when the
     * listener uses its network namespace's key (no keys given) or is not open.
     */
    public Optional<FastOpenKeys> fastOpenKeys() throws IOException {
        if (connector.getTransport() instanceof ServerSocketChannel channel && channel.isOpen()) {
            return FastOpen.serverKeys(channel);
        }
        return Optional.empty();
    }

    /** The most connections open at once, {@link Builder#maxConnections(int)} or the default worked out at start. */
    public int maxConnections() {
        return connector.getMaxConnections();
    }

    /** The connector, for tests that count its connections. */
    FastOpenServerConnector connector() {
        return connector;
    }

    /** Blocks until the server has stopped (by {@link #close()} from another thread). */
    public void join() throws InterruptedException {
        server.join();
    }

    /** Stops accepting, lets requests in progress finish for up to a second, and closes every connection. */
    @Override
    public void close() throws Exception {
        if (keyFileWatcher != null) {
            keyFileWatcher.close();
        }
        try {
            server.stop();
        } catch (TimeoutException e) {
            // Jetty stops everything, then reports that some connection outlived the graceful second.
        }
    }

    /** Settings for a {@link FastOpenFileServer}; {@link #start()} starts it. */
    public static final class Builder {
        private final Path root;
        private String host = "127.0.0.1";
        private int port = 8080;
        private int fastOpenQueue;
        private EarlyDataPolicy earlyData = EarlyDataPolicy.WAIT;
        private Duration handshakeTimeout = EarlyDataHandler.DEFAULT_HANDSHAKE_TIMEOUT;
        private Consumer<String> accessLog;
        private int maxHeaderBytes = 8 * 1024;
        private long maxBodyBytes = 1024 * 1024;
        private Duration idleTimeout = Duration.ofSeconds(30);
        private Duration headerTimeout = Duration.ofSeconds(10);
        private int maxConnections;
        private Consumer<String> problemLog;
        private TlsIdentity tls;
        private FastOpenKeys fastOpenKeys;
        private boolean noCookie;
        private Path keyFile;
        private Consumer<String> keyFileProblems;

        private Builder(Path root) {
            this.root = Objects.requireNonNull(root, "root");
        }

        /** The address to listen on; {@code 0.0.0.0} or {@code ::} for all. Default 127.0.0.1. */
        public Builder bind(String host) {
            this.host = Objects.requireNonNull(host, "host");
            return this;
        }

        /** The port to listen on, 0 for any free one. Default 8080. */
        public Builder port(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be 0 to 65535, got " + port);
            }
            this.port = port;
            return this;
        }

        /** Turns Fast Open on with this queue length (e.g. 256); 0 (the default) leaves it off. */
        public Builder fastOpen(int queueLength) {
            if (queueLength < 0) {
                throw new IllegalArgumentException("the Fast Open queue length must not be negative, got " + queueLength);
            }
            this.fastOpenQueue = queueLength;
            return this;
        }

        /**
         * The listener's own Fast Open keys (primary and optional backup, e.g. from a
         * {@link io.tfo4j.FastOpenKeyFile}), so that servers behind one address accept each other's cookies;
         * null (the default) keeps the network namespace's key. See {@link FastOpenServerConnector#setKeys}.
         */
        public Builder fastOpenKeys(FastOpenKeys keys) {
            this.fastOpenKeys = keys;
            return this;
        }

        /**
         * The listener's keys from a {@link io.tfo4j.FastOpenKeyFile}, followed while the server runs: when
         * the file is replaced (a rename, or the {@code ..data} swap of a Kubernetes Secret volume) the live
         * listener gets the new keys without a restart ({@link FastOpenKeyFileWatcher}); a bad new file keeps
         * the keys in use, and {@code problems} gets one line saying why. {@link #start()} fails when the file
         * is bad at start.
         */
        public Builder fastOpenKeyFile(Path file, Consumer<String> problems) {
            this.keyFile = Objects.requireNonNull(file, "file");
            this.keyFileProblems = Objects.requireNonNull(problems, "problems");
            return this;
        }

        /**
         * Accepts data in the SYN without a cookie (trusted networks only: anyone who can reach the port can
         * then make the server run SYN data); see {@link FastOpenServerConnector#setNoCookie}. Default off.
         */
        public Builder noCookie(boolean on) {
            this.noCookie = on;
            return this;
        }

        /** What to do with a non-idempotent request that came in the SYN. Default {@link EarlyDataPolicy#WAIT}. */
        public Builder earlyData(EarlyDataPolicy policy) {
            this.earlyData = Objects.requireNonNull(policy, "policy");
            return this;
        }

        /** How long {@link EarlyDataPolicy#WAIT} waits for a held request's handshake. Default 5 s. */
        public Builder handshakeTimeout(Duration timeout) {
            this.handshakeTimeout = Objects.requireNonNull(timeout, "timeout");
            return this;
        }

        /** Where to write one {@link FastOpenRequestLog} line per request; null (the default) for no log. */
        public Builder accessLog(Consumer<String> sink) {
            this.accessLog = sink;
            return this;
        }

        /** The most bytes of request line and headers; more gets 431. Default 8192. */
        public Builder maxHeaderBytes(int bytes) {
            if (bytes < 256) {
                throw new IllegalArgumentException("maxHeaderBytes must be at least 256, got " + bytes);
            }
            this.maxHeaderBytes = bytes;
            return this;
        }

        /** The most bytes of request body; more gets 413. Default 1 MiB. */
        public Builder maxBodyBytes(long bytes) {
            if (bytes < 0) {
                throw new IllegalArgumentException("maxBodyBytes must not be negative, got " + bytes);
            }
            this.maxBodyBytes = bytes;
            return this;
        }

        /** How long a connection may send nothing before it is closed. Default 30 s. */
        public Builder idleTimeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("idleTimeout must be positive, got " + timeout);
            }
            this.idleTimeout = timeout;
            return this;
        }

        /**
         * How long a client may take to send a whole request head (request line and headers), from when the
         * connection opens or, on a kept-alive connection, from the first bytes of the next request; a late head
         * gets 408 and the connection is closed (under TLS, which covers the handshake and the first request,
         * it is closed). Unlike {@link #idleTimeout}, which each byte restarts, this bounds a client that
         * trickles bytes. Default 10 s. See {@link RequestHeadDeadline}.
         */
        public Builder headerTimeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("headerTimeout must be positive, got " + timeout);
            }
            this.headerTimeout = timeout;
            return this;
        }

        /**
         * The most connections open at once; at the limit new connections wait in the listen backlog until one
         * closes (see {@link FastOpenServerConnector#setMaxConnections(int)}). Default: three quarters of the
         * file descriptors free when the server starts (the open file limit, {@code ulimit -n}, less those
         * open), so that the server stops accepting before the kernel runs out of descriptors for it, keeping
         * the rest for the files it serves and the JVM's own; where the JVM cannot say, no limit.
         */
        public Builder maxConnections(int max) {
            if (max < 1) {
                throw new IllegalArgumentException("maxConnections must be at least 1, got " + max);
            }
            this.maxConnections = max;
            return this;
        }

        /**
         * Where the server says, once per episode, that the connection limit was reached or cleared, or that
         * accepting failed for want of file descriptors and recovered. Default: SLF4J warnings (see
         * {@link FastOpenServerConnector#setProblemLog}).
         */
        public Builder problemLog(Consumer<String> sink) {
            this.problemLog = Objects.requireNonNull(sink, "sink");
            return this;
        }

        /** Speaks HTTPS with this key and certificate; null (the default) for plain HTTP. */
        public Builder tls(TlsIdentity identity) {
            this.tls = identity;
            return this;
        }

        /**
         * Starts the server.
         *
         * @throws IOException when the root is not a readable directory or the address cannot be bound (the
         *                     message says which)
         */
        public FastOpenFileServer start() throws Exception {
            if (!Files.isDirectory(root) || !Files.isReadable(root)) {
                throw new IOException("cannot serve " + root.toAbsolutePath() + ": not a readable directory");
            }
            QueuedThreadPool threads = new QueuedThreadPool();
            threads.setName("tfo4j-serve");
            if (Runtime.getRuntime().availableProcessors() == 1) {
                // No thread is kept in reserve to take over the selector while one runs a request: on one CPU
                // the hand-over (a futex wake and a context switch per request) buys no parallelism, and
                // every request then runs on the selector thread that read it.
                threads.setReservedThreads(0);
            }
            // No buffer pool: with Jetty's pooled buffers, a request head far over the limit (an answer of 414
            // or 431 while the client still sends) let a later connection's parser read bytes of it, and a good
            // request was answered 431 or 400 (MalformedHttpFuzzTest, about one run in eight; with no pool 0 in
            // 16). Heap buffers, which the JVM allocates cheaply, instead of direct ones made per connection.
            Server server = new Server(threads, null, ByteBufferPool.NON_POOLING);
            HttpConfiguration http = new HttpConfiguration();
            http.setUseInputDirectByteBuffers(false);
            http.setUseOutputDirectByteBuffers(false);
            http.setRequestHeaderSize(maxHeaderBytes);
            http.setSendServerVersion(false);
            ConnectionFactory[] factories = tls == null
                    ? new ConnectionFactory[] {new HttpConnectionFactory(http)} : httpsFactories(http, tls);
            FastOpenServerConnector connector = fastOpenQueue > 0
                    ? new FastOpenServerConnector(server, fastOpenQueue, factories)
                    : FastOpenServerConnector.withoutFastOpen(server, factories);
            connector.setKeys(keyFile != null ? FastOpenKeyFile.read(keyFile) : fastOpenKeys);
            connector.setNoCookie(noCookie);
            connector.setHost(host);
            connector.setPort(port);
            connector.setIdleTimeout(idleTimeout.toMillis());
            connector.setRequestHeadTimeout(headerTimeout);
            if (problemLog != null) {
                connector.setProblemLog(problemLog);
            }
            int limit = maxConnections > 0 ? maxConnections : defaultMaxConnections();
            if (limit > 0) {
                connector.setMaxConnections(limit);
            }
            server.addConnector(connector);

            ResourceHandler files = new ResourceHandler();
            files.setBaseResource(ResourceFactory.of(server).newResource(root.toAbsolutePath().normalize()));
            files.setDirAllowed(true);
            files.setWelcomeFiles("index.html");
            files.setAcceptRanges(true);
            files.setEtags(true);
            Handler application = new Handler.Sequence(new EchoHandler(), new FilesOnly(), files);
            SizeLimitHandler bodyLimit = new SizeLimitHandler(maxBodyBytes, -1);
            bodyLimit.setHandler(application);
            // Every handler in the chain declares itself non-blocking, so Jetty may run a request on the selector
            // thread that read it; a single handler of the default (blocking) type would send every request to a
            // pool thread, at about half the connection-per-request rate (docs/benchmarks.md).
            server.setHandler(new RequestHeadDeadline.HeadCompleteHandler(
                    new EarlyDataHandler(earlyData, handshakeTimeout, bodyLimit)));
            if (accessLog != null) {
                server.setRequestLog(new FastOpenRequestLog(accessLog));
            }
            server.setStopTimeout(1000);
            try {
                server.start();
            } catch (Exception e) {
                server.stop();
                for (Throwable cause = e; cause != null; cause = cause.getCause()) {
                    if (cause instanceof BindException bind && !(e instanceof BindException)) {
                        // Jetty's own connector says only "Failed to bind"; name the cause as ours does.
                        throw new BindException("cannot listen on /" + host + ":" + port + ": "
                                + bind.getMessage() + " (another process uses the port, or the address is not on this host)");
                    }
                }
                throw e;
            }
            FastOpenFileServer started = new FastOpenFileServer(server, connector);
            if (keyFile != null) {
                try {
                    started.keyFileWatcher = FastOpenKeyFileWatcher.watch(keyFile, connector::applyKeys, keyFileProblems);
                } catch (IOException | RuntimeException e) {
                    started.close();
                    throw e;
                }
            }
            return started;
        }
    }

    /** Three quarters of the file descriptors not yet open, or 0 (no limit) where the JVM cannot count them. */
    static int defaultMaxConnections() {
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
            long free = unix.getMaxFileDescriptorCount() - unix.getOpenFileDescriptorCount();
            return (int) Math.clamp(free / 4 * 3, 1, Integer.MAX_VALUE);
        }
        return 0;
    }

    /**
     * TLS, then ALPN choosing HTTP/2 or HTTP/1.1 (the default for clients that do not ask). The server does
     * not check that the Host header names its certificate (Jetty's SNI host check): trusting the name is
     * the client's part, and a self-signed certificate for an address would fail it for every name.
     */
    private static ConnectionFactory[] httpsFactories(HttpConfiguration http, TlsIdentity identity) {
        SslContextFactory.Server ssl = new SslContextFactory.Server();
        ssl.setKeyStore(identity.keyStore());
        ssl.setKeyStorePassword(TlsIdentity.keyStorePassword());
        ssl.setIncludeProtocols("TLSv1.3", "TLSv1.2");
        ssl.setCipherComparator(HTTP2Cipher.COMPARATOR);
        http.addCustomizer(new SecureRequestCustomizer(false));
        HttpConnectionFactory http1 = new HttpConnectionFactory(http);
        HTTP2ServerConnectionFactory http2 = new HTTP2ServerConnectionFactory(http);
        ALPNServerConnectionFactory alpn = new ALPNServerConnectionFactory();
        alpn.setDefaultProtocol(http1.getProtocol());
        return new ConnectionFactory[] {new SslConnectionFactory(ssl, alpn.getProtocol()), alpn, http2, http1};
    }

    /** Answers 405 to methods other than GET and HEAD before the file handler, which would say 404. */
    private static final class FilesOnly extends Handler.Abstract.NonBlocking {
        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            if (HttpMethod.GET.is(request.getMethod()) || HttpMethod.HEAD.is(request.getMethod())) {
                return false;
            }
            response.getHeaders().put(HttpHeader.ALLOW, "GET, HEAD");
            Response.writeError(request, response, callback, HttpStatus.METHOD_NOT_ALLOWED_405);
            return true;
        }
    }
}
