// Compile-only signature stub: never packaged, Jira provides the real type at run time.
// Written from the Jira 9.12 Java API reference, https://docs.atlassian.com/software/jira/docs/api/9.12.0/com/atlassian/jira/user/util/UserUtil.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.jira.user.util;

import com.atlassian.crowd.embedded.api.Group;
import com.atlassian.jira.exception.AddException;
import com.atlassian.jira.exception.PermissionException;
import com.atlassian.jira.exception.RemoveException;
import com.atlassian.jira.user.ApplicationUser;

public interface UserUtil {
    void addUserToGroup(Group group, ApplicationUser userToAdd) throws PermissionException, AddException;

    void removeUserFromGroup(Group group, ApplicationUser userToRemove) throws PermissionException, RemoveException;
}
