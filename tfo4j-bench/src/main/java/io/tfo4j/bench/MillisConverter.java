package io.tfo4j.bench;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import java.time.Duration;
import java.util.Locale;

/** Reads a time such as {@code 50ms}, {@code 0.15s} or {@code 50} (milliseconds) as a Duration. */
final class MillisConverter implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
        String text = value.trim().toLowerCase(Locale.ROOT);
        double factorToNanos = 1e6;
        if (text.endsWith("ms")) {
            text = text.substring(0, text.length() - 2);
        } else if (text.endsWith("s")) {
            text = text.substring(0, text.length() - 1);
            factorToNanos = 1e9;
        }
        try {
            double amount = Double.parseDouble(text.trim());
            if (amount < 0 || Double.isNaN(amount) || amount * factorToNanos > 60e9) {
                throw new TypeConversionException("'" + value + "' is not a time from 0 to 60 s");
            }
            return Duration.ofNanos(Math.round(amount * factorToNanos));
        } catch (NumberFormatException e) {
            throw new TypeConversionException("'" + value + "' is not a time: write it like 50ms, 0.15s or 50");
        }
    }
}
