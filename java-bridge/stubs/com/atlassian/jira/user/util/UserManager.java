// Compile-only signature stub: never packaged, https://docs.atlassian.com/software/jira/docs/api/9.12.0 provides the real type at run time.
// Written from the  Java API reference, Jira 9.12/com/atlassian/jira/user/util/UserManager.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.jira.user.util;

import com.atlassian.jira.user.ApplicationUser;
import java.util.Collection;

public interface UserManager {
    ApplicationUser getUserByKey(String userKey);

    ApplicationUser getUserByName(String userName);

    Collection<ApplicationUser> getAllApplicationUsers();
}
