package io.tfo4j.examples.springboot;

import java.util.concurrent.atomic.AtomicLong;

import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/** A greeting, and orders: POST /orders is not idempotent, each one counts. */
@RestController
public class OrderController {

    private final AtomicLong orders = new AtomicLong();

    @GetMapping(path = "/hello", produces = MediaType.TEXT_PLAIN_VALUE)
    public String hello() {
        return "hello\n";
    }

    @PostMapping(path = "/orders", produces = MediaType.TEXT_PLAIN_VALUE)
    public String createOrder(@RequestBody(required = false) byte[] body) {
        return "order " + orders.incrementAndGet() + "\n";
    }

    @GetMapping(path = "/orders/count", produces = MediaType.TEXT_PLAIN_VALUE)
    public String count() {
        return orders.get() + "\n";
    }
}
