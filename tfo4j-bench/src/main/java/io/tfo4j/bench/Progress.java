package io.tfo4j.bench;

/**
 * A progress line on stderr while a long command runs: rewritten in place on a terminal, one line per step
 * otherwise (a CI log).
 */
final class Progress {
    private static final boolean TERMINAL = System.console() != null;

    private Progress() {
    }

    static void say(String note) {
        if (TERMINAL) {
            System.err.print("\r\033[K  " + note);
        } else {
            System.err.println("  " + note);
        }
        System.err.flush();
    }

    static void done() {
        if (TERMINAL) {
            System.err.print("\r\033[K");
            System.err.flush();
        }
    }
}
