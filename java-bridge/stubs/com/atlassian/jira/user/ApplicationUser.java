// Compile-only signature stub: never packaged, https://docs.atlassian.com/software/jira/docs/api/9.12.0 provides the real type at run time.
// Written from the  Java API reference, Jira 9.12/com/atlassian/jira/user/ApplicationUser.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.jira.user;

import com.atlassian.crowd.embedded.api.User;

public interface ApplicationUser {
    String getKey();

    String getUsername();

    String getName();

    long getDirectoryId();

    boolean isActive();

    String getEmailAddress();

    String getDisplayName();

    User getDirectoryUser();

    Long getId();
}
