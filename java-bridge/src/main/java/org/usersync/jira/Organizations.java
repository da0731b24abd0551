package org.usersync.jira;

import com.atlassian.jira.user.ApplicationUser;
import java.util.Map;
import java.util.SortedSet;

/**
 * Jira Service Management's customer organisations, for the target {@code jsm:organization}:
 * the value is the set of a user's organisations, names joined by "; ". Present only when
 * Service Management is ({@link JsmOrganizations}); without it the target is a configuration
 * error before any write.
 */
public interface Organizations {
    /** Every user's organisations, by user key (users in none are left out). */
    Map<String, SortedSet<String>> byUserKey(ApplicationUser acting);

    /** Makes {@code names} the user's organisations, creating any that does not exist. */
    void set(ApplicationUser acting, ApplicationUser user, SortedSet<String> names);
}
