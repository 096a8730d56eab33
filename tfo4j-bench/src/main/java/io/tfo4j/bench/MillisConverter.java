package io.tfo4j.bench;

import io.tfo4j.lab.LinkProfile;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import java.time.Duration;

/** Reads a time such as {@code 50ms}, {@code 0.15s} or {@code 50} (milliseconds): {@link LinkProfile#parseTime}. */
final class MillisConverter implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
        try {
            return LinkProfile.parseTime(value);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }
}
