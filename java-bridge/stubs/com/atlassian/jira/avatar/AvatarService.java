// Compile-only signature stub: never packaged, Jira provides the real type at run time.
// Written from the Jira 9.12 Java API reference, https://docs.atlassian.com/software/jira/docs/api/9.12.0/com/atlassian/jira/avatar/AvatarService.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.jira.avatar;

import com.atlassian.jira.user.ApplicationUser;

public interface AvatarService {
    void setCustomUserAvatar(ApplicationUser remoteUser, ApplicationUser user, Long avatarId);
}
