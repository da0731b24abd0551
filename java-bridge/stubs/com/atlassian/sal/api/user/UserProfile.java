// Compile-only signature stub: never packaged, the application provides the real type at run time.
// Written from the SAL 4.4 (in Jira 9.12 and Confluence 8.5) Java API reference, https://docs.atlassian.com/sal-api/4.4.2/com/atlassian/sal/api/user/UserProfile.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.sal.api.user;

public interface UserProfile {
    UserKey getUserKey();

    String getUsername();
}
