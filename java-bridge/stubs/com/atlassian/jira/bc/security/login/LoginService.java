// Compile-only signature stub: never packaged, Jira provides the real type at run time.
// Written from the Jira 9.12 Java API reference, https://docs.atlassian.com/software/jira/docs/api/9.12.0/com/atlassian/jira/bc/security/login/LoginService.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.jira.bc.security.login;

/** Jira's record of logins (the "Last login" column of the user browser). */
public interface LoginService {
    /** Never null; its times are null for a user who never logged in. */
    LoginInfo getLoginInfo(String userName);
}
