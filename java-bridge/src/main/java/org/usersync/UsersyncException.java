package org.usersync;

/** The base of every exception the engine throws on purpose. */
public class UsersyncException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public UsersyncException(String message) {
        super(message);
    }
}
