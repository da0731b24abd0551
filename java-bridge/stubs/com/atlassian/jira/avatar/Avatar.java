// Compile-only signature stub: never packaged, Jira provides the real type at run time.
// Written from the Jira 9.12 Java API reference, https://docs.atlassian.com/software/jira/docs/api/9.12.0/com/atlassian/jira/avatar/Avatar.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.jira.avatar;

public interface Avatar {
    Long getId();

    String getOwner();
}
