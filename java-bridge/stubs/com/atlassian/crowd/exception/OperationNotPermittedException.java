// Compile-only signature stub: never packaged, https://docs.atlassian.com/atlassian-crowd/5.2.0 provides the real type at run time.
// Written from the  Java API reference, Crowd 5.2 (embedded in Jira 9.12)/com/atlassian/crowd/exception/OperationNotPermittedException.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.crowd.exception;

public class OperationNotPermittedException extends Exception {
    private static final long serialVersionUID = 1L;

    public OperationNotPermittedException(String message) {
        super(message);
    }
}
