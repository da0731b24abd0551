package org.usersync;

/**
 * Receives the library's log events; the host forwards them to SLF4J or java.util.logging. Calls
 * never overlap and may come from any thread. An exception thrown here loses that line only.
 */
@FunctionalInterface
public interface LogSink {
    void log(String level, String target, String message);
}
