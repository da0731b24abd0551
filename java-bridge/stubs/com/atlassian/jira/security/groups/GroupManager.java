// Compile-only signature stub: never packaged, Jira provides the real type at run time.
// Written from the Jira 9.12 Java API reference, https://docs.atlassian.com/software/jira/docs/api/9.12.0/com/atlassian/jira/security/groups/GroupManager.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.jira.security.groups;

import com.atlassian.crowd.embedded.api.Group;
import com.atlassian.crowd.exception.OperationNotPermittedException;
import com.atlassian.crowd.exception.embedded.InvalidGroupException;
import com.atlassian.jira.user.ApplicationUser;
import java.util.Collection;

public interface GroupManager {
    Group getGroup(String groupName);

    boolean groupExists(String groupName);

    Group createGroup(String groupName) throws OperationNotPermittedException, InvalidGroupException;

    Collection<Group> getAllGroups();

    Collection<String> getGroupNamesForUser(ApplicationUser user);
}
