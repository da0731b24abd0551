package org.usersync;

/** The configuration or a request is invalid; the message lists every error with its JSON path. */
public class ConfigurationException extends UsersyncException {
    private static final long serialVersionUID = 1L;

    public ConfigurationException(String message) {
        super(message);
    }
}
