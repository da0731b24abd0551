package org.usersync.jira;

import com.atlassian.jira.avatar.AvatarManager;
import com.atlassian.jira.avatar.AvatarService;
import com.atlassian.jira.bc.user.UserService;
import com.atlassian.jira.security.groups.GroupManager;
import com.atlassian.jira.user.UserPropertyManager;
import com.atlassian.jira.user.util.UserManager;
import com.atlassian.jira.user.util.UserUtil;

/**
 * The Jira components the directory writes through (injected by the plugin framework), and
 * Service Management's organisations when it is present (null otherwise).
 */
public record JiraServices(UserManager userManager, UserService userService, GroupManager groupManager,
        UserUtil userUtil, UserPropertyManager userPropertyManager, AvatarManager avatarManager,
        AvatarService avatarService, Organizations organizations) {
    /** Without Service Management. */
    public JiraServices(UserManager userManager, UserService userService, GroupManager groupManager, UserUtil userUtil,
            UserPropertyManager userPropertyManager, AvatarManager avatarManager, AvatarService avatarService) {
        this(userManager, userService, groupManager, userUtil, userPropertyManager, avatarManager, avatarService, null);
    }
}
