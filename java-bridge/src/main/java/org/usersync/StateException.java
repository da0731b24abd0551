package org.usersync;

/** The state store failed. */
public class StateException extends UsersyncException {
    private static final long serialVersionUID = 1L;

    public StateException(String message) {
        super(message);
    }
}
