package org.usersync.jira;

import com.atlassian.jira.avatar.AvatarManager;
import com.atlassian.jira.avatar.AvatarService;
import com.atlassian.jira.bc.security.login.LoginService;
import com.atlassian.jira.bc.user.UserService;
import com.atlassian.jira.security.groups.GroupManager;
import com.atlassian.jira.user.UserPropertyManager;
import com.atlassian.jira.user.util.UserManager;
import com.atlassian.jira.user.util.UserUtil;

/**
 * The Jira components the directory writes through (injected by the plugin framework), Service
 * Management's organisations when it is present, and what the idle-user cleanup reads: Jira's
 * login records and SAL's answer to "is this user an administrator" (each null when absent: the
 * users then report no last login and no administrator, and the cleanup leaves them alone).
 */
public record JiraServices(UserManager userManager, UserService userService, GroupManager groupManager,
        UserUtil userUtil, UserPropertyManager userPropertyManager, AvatarManager avatarManager,
        AvatarService avatarService, Organizations organizations, LoginService loginService,
        com.atlassian.sal.api.user.UserManager salUsers) {
    /** Without Service Management or login facts. */
    public JiraServices(UserManager userManager, UserService userService, GroupManager groupManager, UserUtil userUtil,
            UserPropertyManager userPropertyManager, AvatarManager avatarManager, AvatarService avatarService) {
        this(userManager, userService, groupManager, userUtil, userPropertyManager, avatarManager, avatarService, null);
    }

    /** Without login facts. */
    public JiraServices(UserManager userManager, UserService userService, GroupManager groupManager, UserUtil userUtil,
            UserPropertyManager userPropertyManager, AvatarManager avatarManager, AvatarService avatarService,
            Organizations organizations) {
        this(userManager, userService, groupManager, userUtil, userPropertyManager, avatarManager, avatarService,
                organizations, null, null);
    }

    /** The same components with Service Management's organisations (found at run time). */
    JiraServices withOrganizations(Organizations found) {
        return new JiraServices(userManager, userService, groupManager, userUtil, userPropertyManager, avatarManager,
                avatarService, found, loginService, salUsers);
    }
}
