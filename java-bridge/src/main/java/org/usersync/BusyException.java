package org.usersync;

/** Another run of the connector is in progress (on this node or another). */
public class BusyException extends UsersyncException {
    private static final long serialVersionUID = 1L;

    public BusyException(String message) {
        super(message);
    }
}
