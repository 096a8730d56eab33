package io.tfo4j.cli;

import io.tfo4j.FastOpenStatus;
import io.tfo4j.FastOpenSupport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tfo4j probe}: what this host (this network namespace) can do with Fast Open. */
@Command(name = "probe", mixinStandardHelpOptions = true,
        description = "Report whether this host can use TCP Fast Open as client and server, and how to fix it.")
final class ProbeCommand implements Callable<Integer> {
    @Option(names = "--json", description = "Print the report as one JSON object.")
    boolean json;

    @Override
    public Integer call() {
        FastOpenSupport support = FastOpenSupport.current();
        NoCookieRoutes routes = NoCookieRoutes.find();
        System.out.println(json ? Json.pretty(report(support, routes)) : text(support, routes));
        return 0;
    }

    static Map<String, Object> report(FastOpenSupport support, NoCookieRoutes routes) {
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("os", support.osName());
        report.put("kernel", support.kernelRelease());
        report.put("tcpFastopenSysctl", support.sysctl().isPresent() ? support.sysctl().getAsInt() : null);
        report.put("sysctlBits", support.sysctlBits().stream().map(Enum::name).toList());
        report.put("blackholeTimeoutSec", support.blackholeTimeoutSeconds().isPresent()
                ? support.blackholeTimeoutSeconds().getAsInt() : null);
        report.put("socketOptions", socketOptions(support));
        report.put("disabledByProperty", support.disabledByProperty());
        report.put("client", verdict(support.client()));
        report.put("server", verdict(support.server()));
        report.put("noCookie", noCookie(support, routes));
        return report;
    }

    /**
     * What turns trusted no-cookie mode on for this whole namespace or some of its routes, besides a
     * program's own TCP_FASTOPEN_NO_COOKIE: the sysctl bits 0x4 and 0x200, and routes with
     * {@code fastopen_no_cookie 1}.
     */
    private static Map<String, Object> noCookie(FastOpenSupport support, NoCookieRoutes routes) {
        boolean client = support.sysctlBits().contains(FastOpenSupport.SysctlBit.CLIENT_NO_COOKIE);
        boolean server = support.sysctlBits().contains(FastOpenSupport.SysctlBit.SERVER_NO_COOKIE);
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("on", client || server || !routes.routes().isEmpty());
        map.put("clientSysctl", client);
        map.put("serverSysctl", server);
        map.put("routes", routes.skipped() == null ? routes.routes() : null);
        map.put("routeCheckSkipped", routes.skipped());
        return map;
    }

    /** Each Fast Open socket option the probe asks about, and whether this kernel knows it. */
    private static Map<String, Boolean> socketOptions(FastOpenSupport support) {
        Map<String, Boolean> options = new LinkedHashMap<>();
        for (FastOpenSupport.TcpOption option : FastOpenSupport.TcpOption.values()) {
            options.put(option.name(), support.knows(option));
        }
        return options;
    }

    private static Map<String, Object> verdict(FastOpenStatus verdict) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("available", verdict.active());
        map.put("reason", verdict.reason());
        map.put("remedy", verdict.remedy());
        return map;
    }

    static String text(FastOpenSupport support, NoCookieRoutes routes) {
        StringBuilder out = new StringBuilder();
        out.append("os                 ").append(support.osName()).append(' ').append(support.kernelRelease()).append('\n');
        out.append("tcp_fastopen       ");
        if (support.sysctl().isPresent()) {
            int value = support.sysctl().getAsInt();
            out.append(value).append(String.format(" (0x%x)", value)).append('\n');
            for (FastOpenSupport.SysctlBit bit : FastOpenSupport.SysctlBit.values()) {
                boolean set = support.sysctlBits().contains(bit);
                out.append(String.format("  %s 0x%-4x %s%n", set ? "[x]" : "[ ]", bit.mask(), bit.meaning()));
            }
        } else {
            out.append("unreadable\n");
        }
        out.append("blackhole timeout  ").append(support.blackholeTimeoutSeconds().isPresent()
                ? support.blackholeTimeoutSeconds().getAsInt() + " s" + (support.blackholeTimeoutSeconds().getAsInt() == 0 ? " (off)" : "")
                : "unreadable").append('\n');
        out.append("socket options    ");
        for (Map.Entry<String, Boolean> option : socketOptions(support).entrySet()) {
            out.append(' ').append(option.getKey()).append(option.getValue() ? "" : "(missing)");
        }
        out.append('\n');
        if (support.disabledByProperty()) {
            out.append("disabled by        -D").append(FastOpenSupport.DISABLE_PROPERTY).append("=true\n");
        }
        for (var side : List.of(Map.entry("client", support.client()), Map.entry("server", support.server()))) {
            FastOpenStatus verdict = side.getValue();
            out.append(String.format("%-19s", side.getKey()));
            if (verdict.active()) {
                out.append("yes\n");
            } else {
                out.append("no: ").append(verdict.reason()).append('\n');
                out.append("  fix: ").append(verdict.remedy()).append('\n');
            }
        }
        noCookieText(support, routes, out);
        return out.toString().stripTrailing();
    }

    private static void noCookieText(FastOpenSupport support, NoCookieRoutes routes, StringBuilder out) {
        boolean client = support.sysctlBits().contains(FastOpenSupport.SysctlBit.CLIENT_NO_COOKIE);
        boolean server = support.sysctlBits().contains(FastOpenSupport.SysctlBit.SERVER_NO_COOKIE);
        out.append("no-cookie mode     ");
        if (!client && !server && routes.routes().isEmpty()) {
            out.append("off (sysctl bits 0x4 and 0x200 clear, ")
                    .append(routes.skipped() == null ? "no route with fastopen_no_cookie 1)" : "routes not checked)")
                    .append('\n');
        } else {
            out.append("ON: Fast Open data in the SYN without a cookie, a trusted network only\n");
        }
        if (client) {
            out.append("  sysctl 0x4       client: every connection sends SYN data without a cookie\n");
        }
        if (server) {
            out.append("  sysctl 0x200     server: every Fast Open listener accepts SYN data without a cookie, from"
                    + " any address\n");
        }
        for (String route : routes.routes()) {
            out.append("  route            ").append(route).append(" (no cookie to or from"
                    + " these addresses)\n");
        }
        if (routes.skipped() != null) {
            out.append("  route check      skipped: ").append(routes.skipped()).append('\n');
        }
    }
}
