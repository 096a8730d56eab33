package io.tfo4j.agent.it.apps;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;

/**
 * A plain JDBC program: {@code COUNT} times a new {@code DriverManager.getConnection(URL)} (whatever driver
 * the class path has for it; here MariaDB Connector/J, where the server speaks first), {@code SELECT 1},
 * close. Prints {@code connection I: SELECT 1 = 1 in MS ms} per connection, and exits 0 when every one
 * answered 1. Arguments: URL (with user and password in it) COUNT.
 */
public final class JdbcApp {
    private JdbcApp() {
    }

    public static void main(String[] args) throws Exception {
        String url = args[0];
        int count = Integer.parseInt(args[1]);
        boolean allOk = true;
        for (int i = 1; i <= count; i++) {
            long start = System.nanoTime();
            try (Connection connection = DriverManager.getConnection(url);
                 Statement statement = connection.createStatement();
                 ResultSet result = statement.executeQuery("SELECT 1")) {
                int value = result.next() ? result.getInt(1) : -1;
                System.out.println(String.format("connection %d: SELECT 1 = %d in %.1f ms", i, value,
                        (System.nanoTime() - start) / 1e6));
                allOk &= value == 1;
            }
        }
        System.exit(allOk ? 0 : 1);
    }
}
