// Compile-only signature stub: never packaged, Confluence provides the real type at run time.
// Written from the Confluence 8.5 Java API reference, https://docs.atlassian.com/ConfluenceServer/javadoc/8.5.21/com/atlassian/user/EntityException.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.user;

public class EntityException extends Exception {
    private static final long serialVersionUID = 1L;

    public EntityException(String message) {
        super(message);
    }
}
