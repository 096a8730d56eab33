package io.tfo4j.agent.common;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AgentOptionsTest {
    private static AgentOptions parse(String text) {
        return AgentOptions.parse(text, new Properties());
    }

    @Test
    void theIssuesExampleReadsAsWritten() {
        AgentOptions options = parse("listen=8080+8443,connect=all");
        assertEquals(Map.of(8080, 256, 8443, 256), options.listen());
        assertTrue(options.connects(1) && options.connects(65535));
        assertEquals(AgentOptions.Early.SAFE, options.early());
        assertEquals(AgentOptions.EarlyData.WAIT, options.earlyData());
        assertEquals(10, options.window().toMillis());
        assertEquals("listen=8080:256+8443:256,connect=all,early=safe,early-data=wait,window=10", options.toString());
    }

    @Test
    void queueLengthsRangesAndEveryKey() {
        AgentOptions options = parse("listen=8080:512+9000-9002,connect=80+443+8000-8001,early=all,"
                + "early-data=reject,window=25ms,verbose=true");
        assertEquals(Map.of(8080, 512, 9000, 256, 9001, 256, 9002, 256), options.listen());
        assertTrue(options.connects(80) && options.connects(443) && options.connects(8001));
        assertFalse(options.connects(81) || options.connects(8002));
        assertEquals("80+443+8000-8001", options.connectText());
        assertEquals(AgentOptions.Early.ALL, options.early());
        assertEquals(AgentOptions.EarlyData.REJECT, options.earlyData());
        assertEquals(25, options.window().toMillis());
        assertTrue(options.verbose());
    }

    @Test
    void systemPropertiesCarryTheSameKeysAndTheAgentTextWins() {
        Properties properties = new Properties();
        properties.setProperty("tfo4j.agent.listen", "8080");
        properties.setProperty("tfo4j.agent.connect", "443");
        AgentOptions fromProperties = AgentOptions.parse(null, properties);
        assertEquals(Map.of(8080, 256), fromProperties.listen());
        assertTrue(fromProperties.connects(443));
        AgentOptions both = AgentOptions.parse("connect=80", properties);
        assertTrue(both.connects(80));
        assertFalse(both.connects(443));
        assertEquals(Map.of(8080, 256), both.listen());
    }

    @Test
    void nothingAskedIsNothingToDo() {
        AgentOptions options = parse("");
        assertTrue(options.listen().isEmpty());
        assertFalse(options.anyConnect());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "listen=80a|listen: '80a' is not a port (1-65535)",
            "listen=0|listen: '0' is not a port",
            "listen=70000|listen: '70000' is not a port",
            "listen=8080:0|is not a Fast Open queue length (1-65535)",
            "listen=|listen= is empty",
            "connect=9-3|the range ends before it starts",
            "connect=some|connect: 'some' is not a port",
            "early=maybe|early=maybe is not one of safe|all",
            "early-data=later|early-data=later is not one of wait|reject|allow",
            "window=5s|window: '5s' is not a number of milliseconds from 0 to 1000",
            "window=2000|window: '2000' is not a number of milliseconds",
            "verbose=yes|verbose=yes is not true or false",
            "listen=8080,keys=|keys= is empty: name a Fast Open key file, as in keys=/etc/tfo4j/keys",
            "lisen=8080|unknown option 'lisen'; the agent knows listen, connect",
            "8080|option '8080' has no value: write KEY=VALUE"})
    void badOptionsSayWhatIsWrongAndHowToWriteIt(String text, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse(text));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @Test
    void keysNameAFileForTheListenersFromTheTextOrAProperty() {
        AgentOptions options = parse("listen=8080,keys=/etc/tfo4j/keys");
        assertEquals("/etc/tfo4j/keys", options.keys());
        assertEquals("listen=8080:256,keys=/etc/tfo4j/keys,connect=none,early=safe,early-data=wait,window=10",
                options.toString());
        assertNull(parse("listen=8080").keys(), "no key file: the host's own key");

        Properties properties = new Properties();
        properties.setProperty("tfo4j.agent.keys", " /run/secrets/tfo4j/keys ");
        assertEquals("/run/secrets/tfo4j/keys", AgentOptions.parse("listen=8080", properties).keys());
        assertEquals("/etc/tfo4j/keys", AgentOptions.parse("keys=/etc/tfo4j/keys", properties).keys(),
                "the agent text wins");
    }

    @Test
    void anUnknownPropertyIsNamed() {
        Properties properties = new Properties();
        properties.setProperty("tfo4j.agent.lisen", "8080");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AgentOptions.parse(null, properties));
        assertTrue(e.getMessage().contains("-Dtfo4j.agent.lisen"), e.getMessage());
    }
}
