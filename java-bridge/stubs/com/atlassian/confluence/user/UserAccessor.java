// Compile-only signature stub: never packaged, Confluence provides the real type at run time.
// Written from the Confluence 8.5 Java API reference, https://docs.atlassian.com/ConfluenceServer/javadoc/8.5.21/com/atlassian/confluence/user/UserAccessor.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.confluence.user;

import com.atlassian.confluence.pages.Attachment;
import com.atlassian.sal.api.user.UserKey;
import com.atlassian.user.EntityException;
import com.atlassian.user.Group;
import com.atlassian.user.User;
import com.atlassian.user.search.page.Pager;
import com.atlassian.user.security.password.Credential;
import java.util.List;

public interface UserAccessor {
    ConfluenceUser getUserByName(String name);

    ConfluenceUser getUserByKey(UserKey userKey);

    Pager<User> getUsers();

    ConfluenceUser createUser(User userTemplate, Credential password);

    void saveUser(User user);

    ConfluenceUser renameUser(ConfluenceUser user, String newUsername) throws EntityException;

    void deactivateUser(User user);

    void reactivateUser(User user);

    boolean isDeactivated(User user);

    void removeUser(User user);

    Group createGroup(String groupname);

    Group getGroup(String name);

    Pager<Group> getGroups();

    List<String> getGroupNames(User user);

    void addMembership(Group group, User user);

    void removeMembership(Group group, User user);

    void setUserProfilePicture(User user, Attachment attachment);
}
