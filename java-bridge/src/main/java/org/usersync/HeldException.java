package org.usersync;

/** A run ended HELD: its destructive operations wait for {@link Engine#approve(long)}. */
public class HeldException extends UsersyncException {
    private static final long serialVersionUID = 1L;
    private final long runId;

    public HeldException(long runId, String reason) {
        super("run " + runId + " is held: " + reason);
        this.runId = runId;
    }

    public long runId() {
        return runId;
    }
}
