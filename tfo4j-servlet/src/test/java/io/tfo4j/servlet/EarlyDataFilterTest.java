package io.tfo4j.servlet;

import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The filter without the agent (this test JVM runs none): it cannot know which connections carried SYN
 * data, so it lets every request through and says why once, in the servlet log; its configuration is
 * checked. What it does with a real replay is proven with the agent, in tfo4j-agent-it.
 */
class EarlyDataFilterTest {
    @SuppressWarnings("unchecked")
    private static <T> T stub(Class<T> type, Map<String, Object> answers) {
        return (T) Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (proxy, method, args) -> {
            if (answers.containsKey(method.getName())) {
                Object answer = answers.get(method.getName());
                return answer instanceof Function<?, ?> f
                        ? ((Function<Object[], Object>) f).apply(args) : answer;
            }
            return switch (method.getReturnType().getName()) {
                case "boolean" -> false;
                case "int" -> 0;
                default -> null;
            };
        });
    }

    private static FilterConfig config(Map<String, String> parameters, List<String> log) {
        ServletContext context = stub(ServletContext.class, Map.of("log",
                (Function<Object[], Object>) args -> log.add((String) args[0])));
        return stub(FilterConfig.class, Map.of("getServletContext", context,
                "getInitParameter", (Function<Object[], Object>) args -> parameters.get(args[0])));
    }

    @Test
    void withoutTheAgentEveryRequestPassesAndTheLogSaysWhy() throws Exception {
        List<String> log = new ArrayList<>();
        EarlyDataFilter filter = new EarlyDataFilter();
        filter.init(config(Map.of(), log));
        assertEquals(1, log.size(), log::toString);
        assertTrue(log.get(0).contains("the tfo4j agent is not running in this JVM"), log::toString);

        Map<String, Object> attributes = new HashMap<>();
        HttpServletRequest post = stub(HttpServletRequest.class, Map.of("getMethod", "POST", "getLocalPort", 8080,
                "getRemoteAddr", "198.18.100.1", "getRemotePort", 40000,
                "setAttribute", (Function<Object[], Object>) args -> attributes.put((String) args[0], args[1]),
                "getAttribute", (Function<Object[], Object>) args -> attributes.get(args[0])));
        HttpServletResponse response = stub(HttpServletResponse.class, Map.of());
        assertTrue(filter.admit(post, response));
        assertTrue(attributes.isEmpty(), "nothing was decided: " + attributes);
    }

    @Test
    void aPolicyOtherThanWaitRejectOrAllowIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new EarlyDataFilter("later"));
        assertTrue(e.getMessage().contains("'later' is not wait, reject or allow"), e.getMessage());
        ServletException init = assertThrows(ServletException.class,
                () -> new EarlyDataFilter().init(config(Map.of("policy", "sometimes"), new ArrayList<>())));
        assertTrue(init.getMessage().contains("tfo4j EarlyDataFilter: early-data policy 'sometimes'"), init.getMessage());
        ServletException timeout = assertThrows(ServletException.class,
                () -> new EarlyDataFilter().init(config(Map.of("handshake-timeout-ms", "0"), new ArrayList<>())));
        assertTrue(timeout.getMessage().contains("handshake-timeout-ms must be positive"), timeout.getMessage());
    }
}
