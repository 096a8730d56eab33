package io.tfo4j.cli;

import com.sun.tools.attach.AttachNotSupportedException;
import com.sun.tools.attach.VirtualMachine;
import com.sun.tools.attach.VirtualMachineDescriptor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import javax.management.Attribute;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code tfo4j agent [PID...]}: the counters of the tfo4j agent in running JVMs, read from its MBean
 * ({@code io.tfo4j:type=Agent}) through the JDK's Attach API and the JVM's local JMX agent, which attaching
 * starts. Looks at every JVM of this user, or at the PIDs given. A JVM can be attached to across network
 * namespaces, not across users; but its JMX agent listens on that JVM's own loopback, so the counters can be
 * read only from the same network namespace (the command says so when that is what failed). The agent
 * registers its MBean when it first sees a listed port.
 */
@Command(name = "agent", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Counters of the tfo4j agent (-javaagent:tfo4j-agent.jar) in running JVMs, read over JMX.",
                "With no PID, every JVM of this user that runs the agent."})
final class AgentCommand implements Callable<Integer> {
    static final String OBJECT_NAME = "io.tfo4j:type=Agent";

    @Parameters(paramLabel = "PID", arity = "0..*", description = "JVMs to look at (default: all of this user's).")
    List<String> pids = new ArrayList<>();

    @Option(names = "--json", description = "One JSON line per JVM.")
    boolean json;

    @Override
    public Integer call() {
        List<String> targets = new ArrayList<>(pids);
        if (targets.isEmpty()) {
            String self = Long.toString(ProcessHandle.current().pid());
            for (VirtualMachineDescriptor descriptor : VirtualMachine.list()) {
                if (!descriptor.id().equals(self)) {
                    targets.add(descriptor.id());
                }
            }
        }
        int found = 0;
        int unreadable = 0;
        for (String pid : targets) {
            boolean named = !pids.isEmpty();
            try {
                VirtualMachine vm = VirtualMachine.attach(pid);
                try {
                    boolean agent = vm.getAgentProperties().getProperty("sun.jvm.args", "").contains("tfo4j-agent");
                    if (!agent && !named) {
                        continue;
                    }
                    Map<String, Object> counters = counters(vm);
                    if (counters == null) {
                        System.err.println("tfo4j agent: JVM " + pid + (agent ? " runs the tfo4j agent, which has"
                                + " not seen a listed port yet" : " does not run the tfo4j agent"));
                        continue;
                    }
                    found++;
                    print(pid, counters);
                } catch (IOException e) {
                    unreadable++;
                    System.err.println("tfo4j agent: cannot read JVM " + pid + "'s counters over JMX (" + e.getMessage()
                            .lines().findFirst().orElse("") + "); its JMX agent listens on its own loopback, so run"
                            + " this command in the same network namespace (ip netns exec NAME ./tfo4j agent)");
                } finally {
                    vm.detach();
                }
            } catch (IOException | AttachNotSupportedException | RuntimeException e) {
                if (named) {
                    System.err.println("tfo4j agent: cannot attach to JVM " + pid + ": " + e.getMessage());
                }
            }
        }
        if (found == 0 && unreadable == 0 && pids.isEmpty()) {
            System.err.println("tfo4j agent: no running JVM of this user shows the tfo4j agent's counters (the agent"
                    + " registers them when it first sees a listed port)");
        }
        return found > 0 ? 0 : 1;
    }

    /** The agent's attributes in an attached JVM, or null when it has no agent MBean. */
    static Map<String, Object> counters(VirtualMachine vm) throws IOException {
        String address = vm.startLocalManagementAgent();
        try (JMXConnector connector = JMXConnectorFactory.connect(new JMXServiceURL(address))) {
            MBeanServerConnection server = connector.getMBeanServerConnection();
            ObjectName name = new ObjectName(OBJECT_NAME);
            if (!server.isRegistered(name)) {
                return null;
            }
            List<String> names = new ArrayList<>();
            for (MBeanAttributeInfo info : server.getMBeanInfo(name).getAttributes()) {
                names.add(info.getName());
            }
            Map<String, Object> values = new LinkedHashMap<>();
            for (Attribute attribute : server.getAttributes(name, names.toArray(String[]::new)).asList()) {
                values.put(attribute.getName(), attribute.getValue());
            }
            return values;
        } catch (javax.management.JMException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    private void print(String pid, Map<String, Object> counters) {
        if (json) {
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("pid", Long.parseLong(pid));
            line.putAll(counters);
            System.out.println(Json.line(line));
            return;
        }
        System.out.println("JVM " + pid + ": tfo4j agent " + counters.get("Version") + " (" + counters.get("Mode")
                + "), " + counters.get("Options"));
        counters.forEach((key, value) -> {
            if (value instanceof Number number && number.longValue() != 0) {
                System.out.println("  " + key + " " + value);
            }
        });
    }
}
