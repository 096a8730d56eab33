package io.tfo4j.agent.common;

import io.tfo4j.agent.bootstrap.AgentClassLoader;
import java.io.PrintStream;
import java.lang.instrument.Instrumentation;

/**
 * Reads the options, says what the agent will do, and starts the variant that fits this JVM: the full
 * agent on Java 25 and later, the listener-only agent on Java 17 to 24. A bad option, a JVM it does not
 * know, or any failure is one line, and the program runs on plain TCP: the agent never stops a program
 * from starting.
 */
public final class AgentStarter {
    /** The release from which the full agent (class-file API, FFM) runs. */
    public static final int FULL_AGENT_JAVA = 25;

    private static final String USAGE = String.join("\n",
            "tfo4j-agent: TCP Fast Open for Java programs that were not written for it.",
            "",
            "  java -javaagent:tfo4j-agent.jar=OPTIONS ...      (or -Dtfo4j.agent.KEY=VALUE, e.g. in JAVA_TOOL_OPTIONS)",
            "  java -jar tfo4j-agent.jar --check OPTIONS        checks options and prints them as the agent reads them",
            "",
            "OPTIONS are KEY=VALUE pairs separated by commas; lists inside a value are joined by +:",
            "  listen=PORTS            listeners bound through the JDK on these ports accept data in the SYN;",
            "                          PORT[:QLEN] (queue length, default 256), ranges like 8000-8010",
            "  keys=FILE               those listeners get the Fast Open keys of FILE (tfo4j keys new; mode 600),",
            "                          followed while the program runs (Java 25+)",
            "  connect=PORTS|all       connections to these ports send their first write in the SYN (Java 25+)",
            "  early=safe|all          safe (default): an HTTP/1.x request other than GET, HEAD, OPTIONS or TRACE",
            "                          waits for the handshake; all: any first write rides in the SYN",
            "  early-data=wait|reject|allow   servlets: a non-idempotent request from SYN data waits for the",
            "                          handshake (default), is answered 425 Too Early, or runs at once",
            "  window=MILLIS           a connection with nothing written after this long sends its SYN without",
            "                          data (default 10)",
            "  verbose=true            one line per Fast Open connection",
            "",
            "-Dtfo4j.disable=true switches the agent off. Example: listen=8080+8443,connect=all");

    private AgentStarter() {
    }

    /** Called by the bootstrap from {@code premain}. */
    public static void start(String arguments, Instrumentation instrumentation) {
        PrintStream err = System.err;
        AgentLog log;
        AgentOptions options;
        try {
            options = AgentOptions.parse(arguments, System.getProperties());
        } catch (IllegalArgumentException e) {
            new AgentLog(err, false).line("bad option: " + e.getMessage()
                    + ". The agent changes nothing, and the program runs on plain TCP");
            return;
        }
        log = new AgentLog(err, options.verbose());
        if (options.listen().isEmpty() && !options.anyConnect()) {
            log.line("nothing to do: no listen= or connect= option was given (java -jar tfo4j-agent.jar lists them)");
            return;
        }
        try {
            AgentClassLoader loader = (AgentClassLoader) AgentStarter.class.getClassLoader();
            String variantName = Runtime.version().feature() >= FULL_AGENT_JAVA
                    ? "io.tfo4j.agent.jdk25.FullAgent" : "io.tfo4j.agent.jdk17.ListenerOnlyAgent";
            AgentVariant variant = (AgentVariant) loader.loadClass(variantName).getDeclaredConstructor().newInstance();
            AgentStats stats = new AgentStats(loader.version(), variant.mode(), options.toString(), log);
            ListenPorts listenPorts = new ListenPorts(options, log);
            log.line(loader.version() + " on Java " + Runtime.version() + " (" + variant.mode() + "): " + options);
            variant.start(new AgentContext(options, instrumentation, log, stats, listenPorts, loader));
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                listenPorts.reportNeverBound();
                if (stats.anything()) {
                    log.line("at exit: " + stats.summary());
                }
            }, "tfo4j-agent-exit"));
        } catch (Exception | LinkageError e) {
            log.line("could not start (" + e + "): the agent changes nothing, and the program runs on plain TCP");
        }
    }

    /** {@code java -jar tfo4j-agent.jar [--check OPTIONS]}: exit 0 for good options, 2 for bad ones. */
    public static void main(String[] args) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
            System.out.println(USAGE);
            return;
        }
        if (!args[0].equals("--check") || args.length != 2) {
            System.err.println("usage: java -jar tfo4j-agent.jar [--check OPTIONS]");
            System.exit(2);
        }
        try {
            AgentOptions options = AgentOptions.parse(args[1], System.getProperties());
            if (options.listen().isEmpty() && !options.anyConnect()) {
                System.err.println("tfo4j-agent: nothing to do: give listen=PORTS and/or connect=PORTS|all");
                System.exit(2);
            }
            System.out.println(options);
        } catch (IllegalArgumentException e) {
            System.err.println("tfo4j-agent: bad option: " + e.getMessage());
            System.exit(2);
        }
    }
}
