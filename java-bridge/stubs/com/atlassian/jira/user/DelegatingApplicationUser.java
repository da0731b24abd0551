// Compile-only signature stub: never packaged, https://docs.atlassian.com/software/jira/docs/api/9.12.0 provides the real type at run time.
// Written from the  Java API reference, Jira 9.12/com/atlassian/jira/user/DelegatingApplicationUser.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.jira.user;

import com.atlassian.crowd.embedded.api.User;

/** A value class in Jira: the user's id and key with a directory user's details. */
public class DelegatingApplicationUser implements ApplicationUser {
    private final Long id;
    private final String key;
    private final User user;

    public DelegatingApplicationUser(Long id, String key, User user) {
        this.id = id;
        this.key = key;
        this.user = user;
    }

    public String getKey() { return key; }

    public String getUsername() { return user.getName(); }

    public String getName() { return user.getName(); }

    public long getDirectoryId() { return user.getDirectoryId(); }

    public boolean isActive() { return user.isActive(); }

    public String getEmailAddress() { return user.getEmailAddress(); }

    public String getDisplayName() { return user.getDisplayName(); }

    public User getDirectoryUser() { return user; }

    public Long getId() { return id; }
}
