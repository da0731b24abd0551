package org.usersync.jira;

import com.atlassian.activeobjects.external.ActiveObjects;
import com.atlassian.beehive.ClusterLockService;
import com.atlassian.event.api.EventListener;
import com.atlassian.event.api.EventPublisher;
import com.atlassian.jira.avatar.AvatarManager;
import com.atlassian.jira.avatar.AvatarService;
import com.atlassian.jira.bc.security.login.LoginService;
import com.atlassian.jira.bc.user.UserService;
import com.atlassian.jira.event.user.LoginEvent;
import com.atlassian.jira.security.groups.GroupManager;
import com.atlassian.jira.user.UserPropertyManager;
import com.atlassian.jira.user.util.UserManager;
import com.atlassian.jira.user.util.UserUtil;
import com.atlassian.sal.api.ApplicationProperties;
import com.atlassian.scheduler.SchedulerService;
import java.util.Properties;
import org.usersync.Directory;
import org.usersync.atlassian.Locks;
import org.usersync.atlassian.UsersyncApp;

/**
 * The app in Jira: the components Jira injects, its directory, and its login event. Settings
 * (app.properties in the shared home): {@code jira.acting.user} (required: the administrator the
 * writes are made as), {@code jira.directory.id} (default: Jira's default directory),
 * {@code jira.notify.new.users} (default false), {@code sync.on.login} (default false).
 */
public final class JiraApp extends UsersyncApp {
    private final JiraServices jira;

    public JiraApp(ApplicationProperties applicationProperties, ActiveObjects ao, SchedulerService scheduler,
            ClusterLockService clusterLocks, EventPublisher events, UserManager userManager, UserService userService,
            GroupManager groupManager, UserUtil userUtil, UserPropertyManager userPropertyManager,
            AvatarManager avatarManager, AvatarService avatarService, LoginService loginService,
            com.atlassian.sal.api.user.UserManager salUsers) {
        super(applicationProperties, ao, scheduler, clusterLocks, events);
        this.jira = new JiraServices(userManager, userService, groupManager, userUtil, userPropertyManager,
                avatarManager, avatarService, null, loginService, salUsers);
    }

    @Override
    protected Directory directory(Properties settings, Locks locks) {
        String acting = settings.getProperty("jira.acting.user");
        if (acting == null || acting.isBlank()) {
            throw new IllegalStateException("set jira.acting.user in app.properties: the Jira administrator "
                    + "usersync writes as");
        }
        String dir = settings.getProperty("jira.directory.id");
        Long directoryId;
        try {
            directoryId = dir == null || dir.isBlank() ? null : Long.valueOf(dir.trim());
        } catch (NumberFormatException e) {
            throw new IllegalStateException("jira.directory.id in app.properties is not a number: " + dir);
        }
        boolean notify = Boolean.parseBoolean(settings.getProperty("jira.notify.new.users", "false"));
        JiraServices services = jira.withOrganizations(ServiceManagement.organizations());
        return new JiraDirectory(services, new JiraSettings(directoryId, acting.trim(), notify), locks);
    }

    @EventListener
    public void onLogin(LoginEvent event) {
        if (event.getUser() != null) {
            afterLogin(event.getUser().getUsername());
        }
    }
}
