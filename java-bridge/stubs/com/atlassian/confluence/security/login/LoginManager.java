// Compile-only signature stub: never packaged, Confluence provides the real type at run time.
// Written from the Confluence 8.5 Java API reference, https://docs.atlassian.com/ConfluenceServer/javadoc/8.5.21/com/atlassian/confluence/security/login/LoginManager.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.confluence.security.login;

/** Confluence's record of logins. */
public interface LoginManager {
    /** The user's login history, or null where none is recorded. */
    LoginInfo getLoginInfo(String userName);
}
