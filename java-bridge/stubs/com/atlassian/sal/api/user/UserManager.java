// Compile-only signature stub: never packaged, the application provides the real type at run time.
// Written from the SAL 4.4 (in Jira 9.12 and Confluence 8.5) Java API reference, https://docs.atlassian.com/sal-api/4.4.2/com/atlassian/sal/api/user/UserManager.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.sal.api.user;

import javax.servlet.http.HttpServletRequest;

public interface UserManager {
    UserProfile getRemoteUser(HttpServletRequest request);

    boolean isSystemAdmin(UserKey userKey);

    /** An administrator or system administrator of the application. */
    boolean isAdmin(UserKey userKey);
}
