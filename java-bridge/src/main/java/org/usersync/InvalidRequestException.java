package org.usersync;

/** A request that cannot be carried out: an unknown run, a run that is not held, ... */
public class InvalidRequestException extends UsersyncException {
    private static final long serialVersionUID = 1L;

    public InvalidRequestException(String message) {
        super(message);
    }
}
