package org.usersync.atlassian;

import org.usersync.DirectoryException;

/**
 * One write through an application's API, its refusal translated: whatever the API throws (its
 * own checked exceptions included) becomes a {@link DirectoryException} that says what was
 * refused and why, which fails that operation of that user only.
 */
public final class Attempt {
    /** A call into the application that may throw anything. */
    @FunctionalInterface
    public interface Call {
        void run() throws Exception;
    }

    private Attempt() {}

    /** Runs {@code call}; a failure reads "{@code what}: the API's message". */
    public static void write(String what, Call call) {
        try {
            call.run();
        } catch (DirectoryException e) {
            throw e;
        } catch (Exception e) {
            throw new DirectoryException(DirectoryException.Kind.FAILED, what + ": " + e.getMessage());
        }
    }
}
