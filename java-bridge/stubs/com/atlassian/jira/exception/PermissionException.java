// Compile-only signature stub: never packaged, https://docs.atlassian.com/software/jira/docs/api/9.12.0 provides the real type at run time.
// Written from the  Java API reference, Jira 9.12/com/atlassian/jira/exception/PermissionException.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.jira.exception;

public class PermissionException extends Exception {
    private static final long serialVersionUID = 1L;

    public PermissionException(String message) {
        super(message);
    }
}
