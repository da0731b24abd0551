package org.usersync;

/** A run ended FAILED because its source could not be read; nothing was written. */
public class SourceException extends UsersyncException {
    private static final long serialVersionUID = 1L;
    private final long runId;

    public SourceException(long runId, String message) {
        super("run " + runId + " failed: " + message);
        this.runId = runId;
    }

    public long runId() {
        return runId;
    }
}
