package io.tfo4j.cli;

import io.tfo4j.FastOpenKey;
import io.tfo4j.FastOpenKeyFile;
import io.tfo4j.FastOpenKeys;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code tfo4j keys}: Fast Open server key files for a fleet ({@link FastOpenKeyFile}). {@code new} prints a
 * fresh one; {@code rotate} moves a file through the three safe steps of a rotation, one step per call.
 */
@Command(name = "keys", mixinStandardHelpOptions = true,
        description = {"Fast Open server key files, so that servers behind one address accept each other's cookies.",
                "Give the same file to every server (tfo4j serve --key-file FILE, tfo4j nc -l --key-file FILE)."},
        subcommands = {KeysCommand.New.class, KeysCommand.Rotate.class})
final class KeysCommand implements Runnable {
    /** The comment line that records which rotation step a two-key file is at. */
    static final String STEP_PREFIX = "# step: ";
    private static final Pattern STEP = Pattern.compile("(?m)^\\s*#\\s*step:\\s*(staged|promoted)\\b");

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "new", mixinStandardHelpOptions = true,
            description = {"Print a fresh key file (one random primary key, from SecureRandom) on stdout.",
                    "It is a secret: write it where only the server's user can read it, e.g.",
                    "  (umask 077; tfo4j keys new > /etc/tfo4j/fastopen.keys)   or chmod 600 the file afterwards;",
                    "servers refuse a key file that its group or others can read."})
    static final class New implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            spec.commandLine().getOut().print(FastOpenKeyFile.format(FastOpenKey.random(), null));
            spec.commandLine().getOut().flush();
            return 0;
        }
    }

    @Command(name = "rotate", mixinStandardHelpOptions = true,
            description = {"Do the next safe step of a key rotation on FILE (rewritten atomically, mode 600), and say which:",
                    "  1 stage:   one key OLD            -> OLD primary, a new key NEW as backup  (# step: staged)",
                    "  2 promote: OLD, NEW (staged)      -> NEW primary, OLD backup               (# step: promoted)",
                    "  3 drop:    NEW, OLD (promoted)    -> NEW only",
                    "Apply the file to every server between steps; drop only after the longest cookie lifetime you allow.",
                    "A two-key file without a '# step:' line is refused: add '# step: staged' or '# step: promoted'."})
    static final class Rotate implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "FILE", description = "The key file to rotate.")
        Path file;

        @Override
        public Integer call() {
            FastOpenKeys keys;
            String text;
            try {
                keys = FastOpenKeyFile.read(file);
                text = Files.readString(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                spec.commandLine().getErr().println("tfo4j keys rotate: " + e.getMessage());
                return 1;
            }
            String contents;
            String message;
            if (keys.backup() == null) {
                FastOpenKey fresh = FastOpenKey.random();
                contents = FastOpenKeyFile.format(keys.primary(), fresh) + STEP_PREFIX + "staged\n";
                message = "staged a new key " + fresh.fingerprint() + " as backup behind primary "
                        + keys.primary().fingerprint() + " (step 1 of 3): apply this file to every server,"
                        + " then run rotate again";
            } else {
                Matcher step = STEP.matcher(text);
                if (!step.find()) {
                    spec.commandLine().getErr().println("tfo4j keys rotate: " + file + " holds two keys but no '"
                            + STEP_PREFIX + "staged' or '" + STEP_PREFIX + "promoted' line, so the next step is unknown."
                            + " Fix: add '" + STEP_PREFIX + "staged' if the second key is the new one not yet"
                            + " promoted, '" + STEP_PREFIX + "promoted' if the first key is the new one");
                    return 1;
                }
                if (step.group(1).equals("staged")) {
                    contents = FastOpenKeyFile.format(keys.backup(), keys.primary()) + STEP_PREFIX + "promoted\n";
                    message = "promoted the new key " + keys.backup().fingerprint() + " to primary, the old key "
                            + keys.primary().fingerprint() + " stays as backup (step 2 of 3): apply this file to"
                            + " every server; after the longest cookie lifetime you allow, run rotate again to drop"
                            + " the old key";
                } else {
                    contents = FastOpenKeyFile.format(keys.primary(), null);
                    message = "dropped the old key " + keys.backup().fingerprint() + ", " + keys.primary().fingerprint()
                            + " is the only key (step 3 of 3): apply this file to every server; the rotation is"
                            + " done, the next rotate starts a new one";
                }
            }
            try {
                FastOpenKeyFile.writeAtomically(file, contents);
            } catch (IOException e) {
                spec.commandLine().getErr().println("tfo4j keys rotate: cannot write " + file + ": " + e.getMessage());
                return 1;
            }
            spec.commandLine().getOut().println("tfo4j keys rotate: " + file + ": " + message);
            spec.commandLine().getOut().flush();
            return 0;
        }
    }

    /** Reads a key file for a listener; a bad one is a usage error with its one line. */
    static FastOpenKeys readForListener(CommandLine commandLine, Path file) {
        try {
            return FastOpenKeyFile.read(file);
        } catch (IOException e) {
            String message = e.getMessage();
            if (e instanceof java.nio.file.NoSuchFileException) {
                message = file + ": no such file";
            }
            throw new CommandLine.ParameterException(commandLine, "cannot use the Fast Open key file: " + message);
        }
    }

    /** The fingerprints of keys, for a banner: never the key bytes. */
    static String describe(FastOpenKeys keys) {
        return "primary sha256:" + keys.primary().fingerprint()
                + (keys.backup() == null ? "" : ", backup sha256:" + keys.backup().fingerprint());
    }

    /** What a server gives up in no-cookie mode, for stderr. */
    static final String NO_COOKIE_WARNING = "--no-cookie: WARNING: accepting data in the SYN WITHOUT a cookie: anyone"
            + " who can reach this port can make the server run SYN data without ever proving their address"
            + " (spoofed sources). Use it only on a network where every source address is trusted.";
}
