// Compile-only signature stub: never packaged, Jira provides the real type at run time.
// Written from the Jira 9.12 Java API reference, https://docs.atlassian.com/software/jira/docs/api/9.12.0/com/atlassian/jira/event/user/LoginEvent.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.jira.event.user;

import com.atlassian.jira.user.ApplicationUser;

/** Published after a successful login. A value class here. */
public class LoginEvent {
    private final ApplicationUser user;

    public LoginEvent(ApplicationUser user) {
        this.user = user;
    }

    public ApplicationUser getUser() { return user; }
}
