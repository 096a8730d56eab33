package io.tfo4j.cli;

import io.tfo4j.ClientOutcome;
import io.tfo4j.FastOpen;
import io.tfo4j.FastOpenDialer;
import io.tfo4j.FastOpenKeyFileWatcher;
import io.tfo4j.FastOpenKeys;
import io.tfo4j.FastOpenStatus;
import io.tfo4j.FastOpenSupport;
import io.tfo4j.ServerOutcome;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code tfo4j nc}: netcat with Fast Open. As a client it sends standard input, the first chunk in the
 * SYN when it can, and prints what comes back until EOF; with {@code -l} it serves connections one after
 * another.
 */
@Command(name = "nc", mixinStandardHelpOptions = true,
        description = {"Netcat with TCP Fast Open.",
                "Client: tfo4j nc [--json] HOST PORT  (sends stdin, the first chunk in the SYN when it can)",
                "Server: tfo4j nc -l [-b ADDR] PORT [--fastopen[=QLEN]] [--key-file FILE] [--no-cookie] [--reply FILE] [--json]"})
final class NcCommand implements Callable<Integer> {
    private static final int FIRST_CHUNK = 64 * 1024;
    /** Loopback dials before the real one: the first loads the code, the next ones run it as the real one will. */
    private static final int WARM_UP_DIALS = 3;

    @Spec
    CommandSpec spec;

    @Option(names = "-l", description = "Listen: serve connections one after another.")
    boolean listen;

    @Option(names = "-b", paramLabel = "ADDR", description = "Address to listen on (default: all, 0.0.0.0).")
    String bindAddress = "0.0.0.0";

    @Option(names = "--fastopen", arity = "0..1", paramLabel = "QLEN", fallbackValue = "256",
            description = "Listen with Fast Open, queue length QLEN (default 256). Off unless given.")
    Integer fastOpenQueue;

    @Option(names = "--reply", paramLabel = "FILE",
            description = "Answer each connection's first bytes with FILE's content, then close.")
    Path replyFile;

    @Option(names = "--count", paramLabel = "N", description = "Listen: stop after N connections (default: never).")
    Integer count;

    @Option(names = "--key-file", paramLabel = "FILE",
            description = "Listen: Fast Open server keys from FILE (tfo4j keys new; mode 600), followed while listening:"
                    + " a file replaced by rename or a Kubernetes Secret update is applied to the live listener;"
                    + " a bad new file keeps the keys in use and says why.")
    Path keyFile;

    @Option(names = "--no-cookie", description = "Send (client) or accept (-l --fastopen) data in the SYN without a"
            + " cookie. A server gives up proof of the client's address: trusted networks only.")
    boolean noCookie;

    @Option(names = "--no-fastopen", description = "Client: plain connect, for comparison.")
    boolean noFastOpen;

    @Option(names = {"-w", "--timeout"}, paramLabel = "SECONDS", defaultValue = "10",
            description = "Client: connect timeout in seconds (default ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Option(names = "--json", description = "Write one JSON line per connection to stderr.")
    boolean json;

    @Parameters(arity = "1..2", paramLabel = "HOST PORT | PORT")
    List<String> arguments;

    @Override
    public Integer call() throws Exception {
        if (listen) {
            if (arguments.size() != 1) {
                throw new ParameterException(spec.commandLine(), "with -l give only the PORT to listen on");
            }
            if (noCookie && fastOpenQueue == null) {
                throw new ParameterException(spec.commandLine(), "-l --no-cookie needs --fastopen");
            }
            return listen(port(arguments.get(0)));
        }
        if (arguments.size() != 2) {
            throw new ParameterException(spec.commandLine(), "give HOST and PORT (or -l PORT to listen)");
        }
        if (fastOpenQueue != null || replyFile != null || count != null) {
            throw new ParameterException(spec.commandLine(), "--fastopen, --reply and --count need -l");
        }
        if (keyFile != null) {
            throw new ParameterException(spec.commandLine(), "--key-file needs -l (the keys are a listener's)");
        }
        if (noCookie && noFastOpen) {
            throw new ParameterException(spec.commandLine(), "--no-cookie and --no-fastopen contradict each other");
        }
        return connect(arguments.get(0), port(arguments.get(1)));
    }

    private int port(String text) {
        try {
            int port = Integer.parseInt(text);
            if (port < 0 || port > 65535) {
                throw new NumberFormatException();
            }
            return port;
        } catch (NumberFormatException e) {
            throw new ParameterException(spec.commandLine(), "not a port number (0-65535): " + text);
        }
    }

    private int connect(String host, int port) throws IOException {
        InetSocketAddress remote = new InetSocketAddress(host, port);
        if (remote.isUnresolved()) {
            throw new ParameterException(spec.commandLine(), "cannot resolve host " + host);
        }
        InputStream stdin = System.in;
        byte[] buffer = new byte[FIRST_CHUNK];
        int firstLength = Math.max(0, stdin.read(buffer));
        boolean stdinDone = firstLength == 0;
        byte[] first = Arrays.copyOf(buffer, firstLength);

        Map<String, Object> line = new LinkedHashMap<>();
        line.put("role", "client");
        line.put("peer", remote.getAddress().getHostAddress() + ":" + port);
        FastOpenDialer dialer = FastOpenDialer.create().withFastOpen(!noFastOpen).withNoCookie(noCookie)
                .withConnectTimeout(Duration.ofSeconds(timeoutSeconds));
        if (noCookie) {
            System.err.println("tfo4j nc: --no-cookie: sending data in the SYN without a cookie (the server must accept"
                    + " that: a trusted network only)");
            if (!dialer.willTryFastOpen()) {
                System.err.println("tfo4j nc: --no-cookie: Fast Open is not active on this client: "
                        + FastOpenSupport.current().client().reason());
            }
        }
        if (ClientWarmUp.enabled()) {
            ClientWarmUp.dialer(dialer, WARM_UP_DIALS);
        }
        StdinPump pump = stdinDone ? null : new StdinPump(stdin);
        long started = System.nanoTime();
        SocketChannel channel;
        try {
            channel = dialer.dial(remote, first);
        } catch (IOException e) {
            if (pump != null) {
                pump.cancel();
            }
            line.put("error", e.toString());
            emit(line);
            System.err.println("tfo4j nc: cannot connect to " + remote + ": " + e.getMessage());
            return 1;
        }
        try (channel) {
            long sent = first.length;
            if (pump == null) {
                channel.shutdownOutput();
            } else {
                pump.sendTo(channel);
            }
            Received received = copyToStdout(channel, started, false);
            ClientOutcome outcome = ClientOutcome.of(channel);
            if (pump != null) {
                sent += pump.finish(1000);
            }
            line.put("fastOpen", fastOpen(outcome.attempted(), outcome.synDataAcked()));
            line.put("outcome", outcome.result().name());
            line.put("synData", outcome.synDataAcked());
            line.put("bytesSent", sent);
            line.put("bytesReceived", received.bytes());
            line.put("ttfbMs", received.firstByteMillis());
            line.put("reason", outcome.synDataAcked() ? null : outcome.reason());
            emit(line);
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
    }

    private int listen(int port) throws IOException {
        byte[] reply = replyFile == null ? null : readReplyFile();
        // Read first for the one-line refusal of a bad file; the watcher then follows it.
        FastOpenKeys keys = keyFile == null ? null : KeysCommand.readForListener(spec.commandLine(), keyFile);
        InetSocketAddress address = new InetSocketAddress(bindAddress, port);
        if (address.isUnresolved()) {
            throw new ParameterException(spec.commandLine(), "cannot resolve bind address " + bindAddress);
        }
        try (FastOpenKeyFileWatcher watcher = keyFile == null ? null : watchKeyFile();
             ServerSocketChannel listener = ServerSocketChannel.open()) {
            // Before bind: once the socket listens, a SYN must already find Fast Open on.
            FastOpenStatus status = fastOpenQueue == null
                    ? new FastOpenStatus(false, "Fast Open not requested (use --fastopen)", "")
                    : FastOpen.enableServer(listener, fastOpenQueue);
            if (watcher != null) {
                keys = watcher.current();
                watcher.addListener(listener);
            }
            if (noCookie) {
                FastOpen.setNoCookie(listener, true);
            }
            listener.bind(address, 128);
            System.err.println("tfo4j nc: listening on " + listener.getLocalAddress()
                    + (status.active() ? " with Fast Open (queue " + fastOpenQueue + ")"
                    : " without Fast Open: " + status.reason()
                    + (status.remedy().isEmpty() ? "" : "; fix: " + status.remedy())));
            if (keys != null) {
                System.err.println("tfo4j nc: Fast Open keys from " + keyFile + ": " + KeysCommand.describe(keys));
            }
            if (noCookie) {
                System.err.println("tfo4j nc: " + KeysCommand.NO_COOKIE_WARNING);
            }
            for (int served = 0; count == null || served < count; served++) {
                SocketChannel child = listener.accept();
                serveOne(child, status, reply);
            }
            return 0;
        }
    }

    /** Follows the key file; a change is said on stderr with the new fingerprints, a bad one with why. */
    private FastOpenKeyFileWatcher watchKeyFile() {
        AtomicBoolean started = new AtomicBoolean();
        try {
            FastOpenKeyFileWatcher watcher = FastOpenKeyFileWatcher.watch(keyFile, changed -> {
                if (started.get()) {
                    System.err.println("tfo4j nc: Fast Open keys from " + keyFile + " changed: "
                            + KeysCommand.describe(changed));
                }
            }, line -> System.err.println("tfo4j nc: " + line));
            started.set(true);
            return watcher;
        } catch (IOException e) {
            throw new ParameterException(spec.commandLine(), "cannot use the Fast Open key file: " + e.getMessage());
        }
    }

    private byte[] readReplyFile() {
        try {
            return Files.readAllBytes(replyFile);
        } catch (IOException e) {
            throw new ParameterException(spec.commandLine(), "cannot read --reply file " + replyFile + ": " + e);
        }
    }

    /** Serves one connection; a failure is reported and the listener goes on. */
    private void serveOne(SocketChannel child, FastOpenStatus listenerStatus, byte[] reply) {
        long accepted = System.nanoTime();
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("role", "server");
        try (child) {
            InetSocketAddress peer = (InetSocketAddress) child.getRemoteAddress();
            line.put("peer", peer.getAddress().getHostAddress() + ":" + peer.getPort());
            ServerOutcome outcome = ServerOutcome.of(child);
            Received received = copyToStdout(child, accepted, reply != null);
            long sent = 0;
            if (reply != null && received.bytes() > 0) {
                ByteBuffer answer = ByteBuffer.wrap(reply);
                while (answer.hasRemaining()) {
                    sent += child.write(answer);
                }
            }
            line.put("fastOpen", fastOpen(listenerStatus.active(), outcome.fastOpenChild()));
            line.put("synData", outcome.synData());
            line.put("handshakeCompleteAtAccept", outcome.handshakeComplete());
            line.put("bytesSent", sent);
            line.put("bytesReceived", received.bytes());
            line.put("ttfbMs", received.firstByteMillis());
            line.put("reason", outcome.fastOpenChild() ? null : !listenerStatus.active() ? listenerStatus.reason()
                    : "the SYN carried no valid Fast Open cookie (the client's first connection, or a client"
                    + " without Fast Open)");
        } catch (IOException | RuntimeException e) {
            line.put("error", e.toString());
            System.err.println("tfo4j nc: connection failed: " + e);
        }
        emit(line);
    }

    /** What a connection delivered: its byte count, and the time from {@code since} to its first byte. */
    private record Received(long bytes, Long firstByteNanos) {
        Double firstByteMillis() {
            return firstByteNanos == null ? null : firstByteNanos / 1e6;
        }
    }

    /** Copies what arrives to stdout until EOF, or only the first chunk when {@code firstChunkOnly}. */
    private static Received copyToStdout(SocketChannel channel, long since, boolean firstChunkOnly)
            throws IOException {
        Long firstByteNanos = null;
        long bytes = 0;
        ByteBuffer in = ByteBuffer.allocate(64 * 1024);
        OutputStream stdout = System.out;
        for (int n; (n = channel.read(in)) >= 0; in.clear()) {
            if (n > 0 && firstByteNanos == null) {
                firstByteNanos = System.nanoTime() - since;
            }
            bytes += n;
            stdout.write(in.array(), 0, n);
            stdout.flush();
            if (firstChunkOnly && n > 0) {
                break;
            }
        }
        return new Received(bytes, firstByteNanos);
    }

    private static Map<String, Object> fastOpen(boolean attempted, boolean active) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("attempted", attempted);
        map.put("active", active);
        return map;
    }

    /**
     * Sends the rest of standard input after the first chunk, then half-closes the connection. Its thread
     * starts before the dial, and is handed the channel once connected: starting a thread waits until the
     * new thread runs, a scheduling delay (a millisecond or more on a busy machine) that would otherwise
     * fall between the reply's arrival and its read.
     */
    private static final class StdinPump implements Runnable {
        private final InputStream stdin;
        private final CompletableFuture<SocketChannel> channel = new CompletableFuture<>();
        private final Thread thread;
        private volatile long sent;

        StdinPump(InputStream stdin) {
            this.stdin = stdin;
            this.thread = Thread.ofPlatform().daemon().name("stdin-pump").start(this);
        }

        void sendTo(SocketChannel connected) {
            channel.complete(connected);
        }

        /** The dial failed: nothing is sent. */
        void cancel() {
            channel.cancel(false);
        }

        /** Waits at most {@code millis} for the end of standard input; returns the bytes sent. */
        long finish(long millis) throws InterruptedException {
            thread.join(millis);
            return sent;
        }

        @Override
        public void run() {
            byte[] buffer = new byte[FIRST_CHUNK];
            try {
                for (int n; (n = stdin.read(buffer)) > 0; ) {
                    ByteBuffer chunk = ByteBuffer.wrap(buffer, 0, n);
                    SocketChannel connected = channel.join();
                    while (chunk.hasRemaining()) {
                        connected.write(chunk);
                    }
                    sent += n;
                }
                channel.join().shutdownOutput();
            } catch (IOException e) {
                System.err.println("tfo4j nc: sending failed: " + e.getMessage());
            } catch (CancellationException e) {
                // The dial failed and said so.
            }
        }
    }

    private void emit(Map<String, Object> line) {
        if (json) {
            System.err.println(Json.line(line));
        }
    }
}
