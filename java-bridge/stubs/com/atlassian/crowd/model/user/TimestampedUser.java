// Compile-only signature stub: never packaged, Jira (Crowd embedded) provides the real type at run time.
// Written from the Crowd 5 (in Jira 9.12) Java API reference, https://docs.atlassian.com/atlassian-crowd/5.0.0/com/atlassian/crowd/model/user/TimestampedUser.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.crowd.model.user;

import java.util.Date;

/** A Crowd user that knows when it was created: what Jira's internal directory's users are. */
public interface TimestampedUser extends com.atlassian.crowd.embedded.api.User {
    Date getCreatedDate();
}
