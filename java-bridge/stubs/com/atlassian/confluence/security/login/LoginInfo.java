// Compile-only signature stub: never packaged, Confluence provides the real type at run time.
// Written from the Confluence 8.5 Java API reference, https://docs.atlassian.com/ConfluenceServer/javadoc/8.5.21/com/atlassian/confluence/security/login/HistoricalLoginInfo.html (LoginInfo extends it)
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.confluence.security.login;

import java.util.Date;

public interface LoginInfo {
    /** The last successful login (including the one of the current session), or null if not recorded. */
    Date getLastSuccessfulLoginDate();
}
