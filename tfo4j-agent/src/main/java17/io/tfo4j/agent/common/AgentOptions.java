package io.tfo4j.agent.common;

import java.time.Duration;
import java.util.BitSet;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.StringJoiner;

/**
 * What the agent was asked to do, from its {@code -javaagent:tfo4j-agent.jar=OPTIONS} text and from system
 * properties ({@code -Dtfo4j.agent.listen=8080}: the same keys after {@code tfo4j.agent.}, so that
 * {@code JAVA_TOOL_OPTIONS} can carry them). The agent text wins over a property for the same key.
 *
 * <pre>
 * listen=PORTS      listeners bound through the JDK on these ports get TCP_FASTOPEN; PORT[:QLEN], joined by +
 *                   (8080, 8080:512, 8080+8443, 8000-8010); QLEN is the Fast Open queue, 256 by default
 * keys=FILE         those listeners get the Fast Open keys of FILE (a tfo4j key file, mode 600), followed
 *                   while the program runs, so that servers behind one address accept each other's cookies
 *                   (Java 25 and later; a path without commas)
 * connect=PORTS|all connections to these ports get TCP_FASTOPEN_CONNECT (Java 25 and later)
 * early=safe|all    client: with safe (the default), a first write that is an HTTP/1.x request with a
 *                   method other than GET, HEAD, OPTIONS or TRACE waits for the handshake; all sends any
 * early-data=wait|reject|allow   server: what servlets do with a non-idempotent request that came in SYN
 *                   data before the handshake completed (wait, the default; 425 Too Early; run it)
 * window=MILLIS     how long a deferred connection waits for its first write before sending its SYN
 *                   without data (10 by default, 0 to 1000)
 * verbose=true      also one line per Fast Open connection
 * </pre>
 *
 * Keys are separated by commas. A bad option is reported by {@link #parse} with what is wrong and how to
 * write it.
 */
public final class AgentOptions {
    /** The Fast Open queue length of a listener when {@code listen} names none. */
    public static final int DEFAULT_QUEUE_LENGTH = 256;
    /** How long a deferred connect waits for its first write by default: as tfo4j's socket factory. */
    public static final Duration DEFAULT_WINDOW = Duration.ofMillis(10);
    /** The prefix of the system properties: {@code tfo4j.agent.listen} and so on. */
    public static final String PROPERTY_PREFIX = "tfo4j.agent.";

    private static final List<String> KEYS = List.of("listen", "connect", "early", "early-data", "window", "verbose",
            "keys");
    private static final int MAX_PORT = 65535;
    private static final int MAX_WINDOW_MILLIS = 1000;

    /** Client: which first writes may ride in the SYN. */
    public enum Early {
        /** HTTP/1.x requests with unsafe methods wait for the handshake; everything else rides in the SYN. */
        SAFE,
        /** Every first write rides in the SYN. */
        ALL
    }

    /** Server: what happens to a non-idempotent request that came in SYN data before the handshake completed. */
    public enum EarlyData {
        /** Held until the handshake completes, dropped if the connection is reset first. */
        WAIT,
        /** Answered 425 Too Early (RFC 8470); the client sends it again after the handshake. */
        REJECT,
        /** Run at once: only for applications where running such a request twice is harmless. */
        ALLOW
    }

    private final Map<Integer, Integer> listen;
    private final boolean connectAll;
    private final BitSet connect;
    private final Early early;
    private final EarlyData earlyData;
    private final Duration window;
    private final boolean verbose;
    private final String keys;

    private AgentOptions(Map<Integer, Integer> listen, boolean connectAll, BitSet connect, Early early,
                         EarlyData earlyData, Duration window, boolean verbose, String keys) {
        this.listen = Collections.unmodifiableMap(listen);
        this.keys = keys;
        this.connectAll = connectAll;
        this.connect = connect;
        this.early = early;
        this.earlyData = earlyData;
        this.window = window;
        this.verbose = verbose;
    }

    /**
     * Reads the agent text (may be null or empty) and the {@code tfo4j.agent.*} properties.
     *
     * @throws IllegalArgumentException naming the bad option, what is wrong, and how to write it
     */
    public static AgentOptions parse(String agentText, Properties properties) {
        Map<String, String> values = new LinkedHashMap<>();
        for (String key : KEYS) {
            String property = properties.getProperty(PROPERTY_PREFIX + key);
            if (property != null) {
                values.put(key, property.trim());
            }
        }
        for (String name : properties.stringPropertyNames()) {
            if (name.startsWith(PROPERTY_PREFIX) && !KEYS.contains(name.substring(PROPERTY_PREFIX.length()))) {
                throw new IllegalArgumentException("unknown system property -D" + name + "; the agent knows "
                        + PROPERTY_PREFIX + String.join(", " + PROPERTY_PREFIX, KEYS));
            }
        }
        if (agentText != null && !agentText.isBlank()) {
            for (String part : agentText.split(",")) {
                String item = part.trim();
                if (item.isEmpty()) {
                    continue;
                }
                int equals = item.indexOf('=');
                if (equals <= 0) {
                    throw new IllegalArgumentException("option '" + item + "' has no value: write KEY=VALUE,"
                            + " for example listen=8080 (keys: " + String.join(", ", KEYS) + ")");
                }
                String key = item.substring(0, equals).trim().toLowerCase(Locale.ROOT);
                if (!KEYS.contains(key)) {
                    throw new IllegalArgumentException("unknown option '" + key + "'; the agent knows "
                            + String.join(", ", KEYS));
                }
                values.put(key, item.substring(equals + 1).trim());
            }
        }
        Map<Integer, Integer> listen = new LinkedHashMap<>();
        if (values.containsKey("listen")) {
            parseListen(values.get("listen"), listen);
        }
        BitSet connect = new BitSet(MAX_PORT + 1);
        boolean connectAll = false;
        String connectText = values.get("connect");
        if (connectText != null) {
            if (connectText.equalsIgnoreCase("all")) {
                connectAll = true;
            } else {
                parseConnect(connectText, connect);
            }
        }
        Early early = choice(values, "early", Early.class, Early.SAFE);
        EarlyData earlyData = choice(values, "early-data", EarlyData.class, EarlyData.WAIT);
        Duration window = values.containsKey("window") ? parseWindow(values.get("window")) : DEFAULT_WINDOW;
        boolean verbose = values.containsKey("verbose") && parseBoolean("verbose", values.get("verbose"));
        String keys = values.get("keys");
        if (keys != null && keys.isEmpty()) {
            throw new IllegalArgumentException("keys= is empty: name a Fast Open key file, as in"
                    + " keys=/etc/tfo4j/keys (made with: tfo4j keys new > FILE; chmod 600 FILE)");
        }
        return new AgentOptions(listen, connectAll, connect, early, earlyData, window, verbose, keys);
    }

    private static void parseListen(String text, Map<Integer, Integer> listen) {
        for (String item : items("listen", text)) {
            int colon = item.indexOf(':');
            String ports = colon < 0 ? item : item.substring(0, colon);
            int queueLength = DEFAULT_QUEUE_LENGTH;
            if (colon >= 0) {
                queueLength = number("listen", item.substring(colon + 1), 1, MAX_PORT,
                        "a Fast Open queue length (1-65535) after the colon, as in listen=8080:256");
            }
            int[] range = portRange("listen", ports, "listen=8080, listen=8080:512 or listen=8080+8443");
            for (int port = range[0]; port <= range[1]; port++) {
                listen.put(port, queueLength);
            }
        }
    }

    private static void parseConnect(String text, BitSet connect) {
        for (String item : items("connect", text)) {
            int[] range = portRange("connect", item, "connect=all, connect=80+443 or connect=8000-8010");
            connect.set(range[0], range[1] + 1);
        }
    }

    private static List<String> items(String key, String text) {
        if (text.isBlank()) {
            throw new IllegalArgumentException(key + "= is empty: name at least one port, as in " + key + "=8080");
        }
        return List.of(text.split("\\+"));
    }

    private static int[] portRange(String key, String text, String example) {
        int dash = text.indexOf('-');
        String what = "a port (1-65535) or a range of ports like 8000-8010; write " + example;
        if (dash < 0) {
            int port = number(key, text, 1, MAX_PORT, what);
            return new int[] {port, port};
        }
        int first = number(key, text.substring(0, dash), 1, MAX_PORT, what);
        int last = number(key, text.substring(dash + 1), 1, MAX_PORT, what);
        if (last < first) {
            throw new IllegalArgumentException(key + "=" + text + ": the range ends before it starts; write "
                    + example);
        }
        return new int[] {first, last};
    }

    private static int number(String key, String text, int min, int max, String what) {
        try {
            int value = Integer.parseInt(text.trim());
            if (value >= min && value <= max) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(key + ": '" + text + "' is not " + what);
    }

    private static <E extends Enum<E>> E choice(Map<String, String> values, String key, Class<E> type, E fallback) {
        String text = values.get(key);
        if (text == null) {
            return fallback;
        }
        for (E value : type.getEnumConstants()) {
            if (value.name().equalsIgnoreCase(text)) {
                return value;
            }
        }
        StringJoiner names = new StringJoiner("|");
        for (E value : type.getEnumConstants()) {
            names.add(value.name().toLowerCase(Locale.ROOT));
        }
        throw new IllegalArgumentException(key + "=" + text + " is not one of " + names + " (write " + key + "="
                + fallback.name().toLowerCase(Locale.ROOT) + ", the default)");
    }

    private static Duration parseWindow(String text) {
        String digits = text.toLowerCase(Locale.ROOT).endsWith("ms") ? text.substring(0, text.length() - 2) : text;
        return Duration.ofMillis(number("window", digits, 0, MAX_WINDOW_MILLIS,
                "a number of milliseconds from 0 to " + MAX_WINDOW_MILLIS + ", as in window=10"));
    }

    private static boolean parseBoolean(String key, String text) {
        if (text.equalsIgnoreCase("true") || text.isEmpty()) {
            return true;
        }
        if (text.equalsIgnoreCase("false")) {
            return false;
        }
        throw new IllegalArgumentException(key + "=" + text + " is not true or false");
    }

    /** Listener ports and their Fast Open queue lengths, in the order given. */
    public Map<Integer, Integer> listen() {
        return listen;
    }

    /** True when connections to {@code port} get Fast Open. */
    public boolean connects(int port) {
        return connectAll || (port > 0 && port <= MAX_PORT && connect.get(port));
    }

    /** The key file whose keys the listeners get ({@code keys=FILE}), or null for the host's own key. */
    public String keys() {
        return keys;
    }

    /** True when any connection gets Fast Open. */
    public boolean anyConnect() {
        return connectAll || !connect.isEmpty();
    }

    /** Which client first writes may ride in the SYN. */
    public Early early() {
        return early;
    }

    /** What servlets do with non-idempotent requests that came in SYN data. */
    public EarlyData earlyData() {
        return earlyData;
    }

    /** How long a deferred connect waits for its first write before sending its SYN without data. */
    public Duration window() {
        return window;
    }

    /** True for one line per Fast Open connection. */
    public boolean verbose() {
        return verbose;
    }

    /** The listen ports as they are written in options: {@code 8080:256+8443:256}. */
    public String listenText() {
        StringJoiner text = new StringJoiner("+");
        listen.forEach((port, queue) -> text.add(port + ":" + queue));
        return text.length() == 0 ? "none" : text.toString();
    }

    /** The connect ports as they are written in options: {@code all}, {@code 80+443}, {@code 8000-8010}. */
    public String connectText() {
        if (connectAll) {
            return "all";
        }
        StringJoiner text = new StringJoiner("+");
        for (int start = connect.nextSetBit(0); start >= 0; start = connect.nextSetBit(start + 1)) {
            int end = connect.nextClearBit(start) - 1;
            text.add(start == end ? Integer.toString(start) : start + "-" + end);
            start = end;
        }
        return text.length() == 0 ? "none" : text.toString();
    }

    @Override
    public String toString() {
        return "listen=" + listenText() + (keys == null ? "" : ",keys=" + keys) + ",connect=" + connectText() + ",early=" + early.name().toLowerCase(Locale.ROOT)
                + ",early-data=" + earlyData.name().toLowerCase(Locale.ROOT) + ",window=" + window.toMillis()
                + (verbose ? ",verbose=true" : "");
    }
}
