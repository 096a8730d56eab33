package io.tfo4j.bench.peer;

import picocli.CommandLine.Option;

/** {@code --fastopen} (the default) and {@code --no-fastopen}, for the commands that make client connections. */
final class FastOpenSwitch {
    // fallbackValue: without it picocli reads --no-fastopen of a true-by-default option as "the default", true.
    @Option(names = "--fastopen", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Use Fast Open (default); --no-fastopen for plain connections.")
    boolean on;

    /** Whether Fast Open was asked for. */
    boolean on() {
        return on;
    }
}
