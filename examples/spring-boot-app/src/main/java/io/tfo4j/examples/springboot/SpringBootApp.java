package io.tfo4j.examples.springboot;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.web.server.context.WebServerInitializedEvent;
import org.springframework.context.event.EventListener;

/** A plain Spring Boot web application on embedded Tomcat. */
@SpringBootApplication
public class SpringBootApp {

    public static void main(String[] args) {
        SpringApplication.run(SpringBootApp.class, args);
    }

    /** One line on stdout once the web server listens, whatever the logging configuration. */
    @EventListener
    public void onWebServerReady(WebServerInitializedEvent event) {
        System.out.println("spring-boot-app ready on port " + event.getWebServer().getPort());
        System.out.flush();
    }
}
