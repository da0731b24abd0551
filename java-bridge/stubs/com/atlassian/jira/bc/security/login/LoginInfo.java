// Compile-only signature stub: never packaged, Jira provides the real type at run time.
// Written from the Jira 9.12 Java API reference, https://docs.atlassian.com/software/jira/docs/api/9.12.0/com/atlassian/jira/bc/security/login/LoginInfo.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.jira.bc.security.login;

public interface LoginInfo {
    /** Milliseconds since the epoch of the last successful login, or null. */
    Long getLastLoginTime();
}
