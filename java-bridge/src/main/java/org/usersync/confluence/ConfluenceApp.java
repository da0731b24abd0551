package org.usersync.confluence;

import com.atlassian.activeobjects.external.ActiveObjects;
import com.atlassian.beehive.ClusterLockService;
import com.atlassian.confluence.event.events.security.LoginEvent;
import com.atlassian.confluence.pages.AttachmentManager;
import com.atlassian.confluence.security.login.LoginManager;
import com.atlassian.confluence.user.PersonalInformationManager;
import com.atlassian.confluence.user.UserAccessor;
import com.atlassian.confluence.user.UserDetailsManager;
import com.atlassian.event.api.EventListener;
import com.atlassian.event.api.EventPublisher;
import com.atlassian.sal.api.ApplicationProperties;
import com.atlassian.scheduler.SchedulerService;
import java.util.Properties;
import org.usersync.Directory;
import org.usersync.atlassian.Locks;
import org.usersync.atlassian.UsersyncApp;

/**
 * The app in Confluence: the components Confluence injects, its directory, and its login event.
 * Communardo and Linchpin User Profiles are not bridged yet, so their targets are refused as
 * configuration errors. Settings (app.properties in the shared home): {@code sync.on.login}.
 */
public final class ConfluenceApp extends UsersyncApp {
    private final ConfluenceServices confluence;

    public ConfluenceApp(ApplicationProperties applicationProperties, ActiveObjects ao, SchedulerService scheduler,
            ClusterLockService clusterLocks, EventPublisher events, UserAccessor userAccessor,
            UserDetailsManager userDetailsManager, PersonalInformationManager personalInformationManager,
            AttachmentManager attachmentManager, LoginManager loginManager,
            com.atlassian.sal.api.user.UserManager salUsers) {
        super(applicationProperties, ao, scheduler, clusterLocks, events);
        this.confluence = new ConfluenceServices(userAccessor, userDetailsManager, personalInformationManager,
                attachmentManager, null, null, loginManager, salUsers);
    }

    @Override
    protected Directory directory(Properties settings, Locks locks) {
        return new ConfluenceDirectory(confluence, locks);
    }

    @EventListener
    public void onLogin(LoginEvent event) {
        afterLogin(event.getUsername());
    }
}
