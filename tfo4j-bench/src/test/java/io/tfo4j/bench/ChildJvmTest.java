package io.tfo4j.bench;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Child JVMs start as the launcher would: bench and peer in this module, the CLI's commands from its class path. */
class ChildJvmTest {
    private final String before = System.getProperty(ChildJvm.CLI_CLASSPATH);

    @AfterEach
    void restore() {
        if (before == null) {
            System.clearProperty(ChildJvm.CLI_CLASSPATH);
        } else {
            System.setProperty(ChildJvm.CLI_CLASSPATH, before);
        }
    }

    @Test
    void peerRunsThisModule() {
        System.clearProperty(ChildJvm.CLI_CLASSPATH);
        List<String> command = ChildJvm.command("peer", "load", "--help");
        int main = command.indexOf(BenchMain.class.getName());
        assertTrue(main > 1, command.toString());
        assertEquals(System.getProperty("java.class.path"), command.get(main - 1));
        assertEquals(List.of("peer", "load", "--help"), command.subList(main + 1, command.size()));
    }

    @Test
    void getRunsTheUserCliFromTheClassPathTheLauncherNames() {
        System.setProperty(ChildJvm.CLI_CLASSPATH, "/x/tfo4j-cli.jar:/x/lib/*");
        List<String> command = ChildJvm.command("get", "--json", "http://10.0.0.2/");
        int main = command.indexOf(ChildJvm.CLI_MAIN);
        assertEquals("/x/tfo4j-cli.jar:/x/lib/*", command.get(main - 1));
        assertEquals(List.of("get", "--json", "http://10.0.0.2/"), command.subList(main + 1, command.size()));
    }

    @Test
    void withoutTheCliClassPathTheErrorSaysHowToGiveIt() {
        System.clearProperty(ChildJvm.CLI_CLASSPATH);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ChildJvm.command("serve", "/tmp"));
        assertTrue(e.getMessage().startsWith("cannot run `tfo4j serve`: the user CLI's class path is not known;"), e.getMessage());
        assertTrue(e.getMessage().contains("./tfo4j bench") && e.getMessage().contains("-Dtfo4j.cliClasspath="), e.getMessage());
    }
}
