package io.tfo4j.agent.it.apps;

import org.apache.commons.net.ftp.FTP;
import org.apache.commons.net.ftp.FTPClient;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A plain Apache Commons Net FTP program with the library's default socket factory: {@code COUNT} sessions,
 * each connecting, logging in as anonymous, entering passive mode, retrieving {@code FILE} and logging out.
 * Prints {@code session I: greeting 'REPLY'} and {@code session I: FILE = 'CONTENT' in MS ms} per session
 * (the content with {@code \n} for new lines), and exits 0 when every session did all of it. Arguments:
 * HOST PORT FILE COUNT.
 */
public final class FtpClientApp {
    private FtpClientApp() {
    }

    public static void main(String[] args) throws Exception {
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        String file = args[2];
        int count = Integer.parseInt(args[3]);
        boolean allOk = true;
        for (int i = 1; i <= count; i++) {
            long start = System.nanoTime();
            FTPClient ftp = new FTPClient();
            ftp.setConnectTimeout(10_000);
            ftp.setDefaultTimeout(10_000);
            ftp.setDataTimeout(Duration.ofSeconds(10));
            try {
                ftp.connect(host, port);
                System.out.println("session " + i + ": greeting '" + ftp.getReplyString().trim() + "'");
                if (!ftp.login("anonymous", "someone@example.org")) {
                    System.out.println("session " + i + ": login failed: " + ftp.getReplyString().trim());
                    allOk = false;
                    continue;
                }
                ftp.enterLocalPassiveMode();
                ftp.setFileType(FTP.BINARY_FILE_TYPE);
                ByteArrayOutputStream content = new ByteArrayOutputStream();
                if (!ftp.retrieveFile(file, content)) {
                    System.out.println("session " + i + ": RETR failed: " + ftp.getReplyString().trim());
                    allOk = false;
                    continue;
                }
                ftp.logout();
                String text = content.toString(StandardCharsets.UTF_8).replace("\n", "\\n");
                System.out.println(String.format("session %d: %s = '%s' in %.1f ms", i, file, text,
                        (System.nanoTime() - start) / 1e6));
            } finally {
                if (ftp.isConnected()) {
                    ftp.disconnect();
                }
            }
        }
        System.exit(allOk ? 0 : 1);
    }
}
