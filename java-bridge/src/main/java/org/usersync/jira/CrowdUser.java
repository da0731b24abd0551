package org.usersync.jira;

import com.atlassian.crowd.embedded.api.User;
import com.atlassian.jira.user.ApplicationUser;

/**
 * A user's details as Jira's {@code UserService.validateUpdateUser} takes them: a copy of the
 * current ones with one thing changed. Jira compares directory users by directory and
 * lower-case name; so does this.
 */
record CrowdUser(String name, String displayName, String emailAddress, boolean active, long directoryId)
        implements User {
    static CrowdUser of(ApplicationUser u) {
        return new CrowdUser(u.getUsername(), u.getDisplayName(), u.getEmailAddress(), u.isActive(),
                u.getDirectoryId());
    }

    CrowdUser withName(String n) {
        return new CrowdUser(n, displayName, emailAddress, active, directoryId);
    }

    CrowdUser withDisplayName(String d) {
        return new CrowdUser(name, d, emailAddress, active, directoryId);
    }

    CrowdUser withEmail(String e) {
        return new CrowdUser(name, displayName, e, active, directoryId);
    }

    CrowdUser withActive(boolean a) {
        return new CrowdUser(name, displayName, emailAddress, a, directoryId);
    }

    @Override
    public String getName() {
        return name;
    }

    @Override
    public long getDirectoryId() {
        return directoryId;
    }

    @Override
    public boolean isActive() {
        return active;
    }

    @Override
    public String getEmailAddress() {
        return emailAddress;
    }

    @Override
    public String getDisplayName() {
        return displayName;
    }

    @Override
    public int compareTo(User other) {
        int byName = name.compareToIgnoreCase(other.getName());
        return byName != 0 ? byName : Long.compare(directoryId, other.getDirectoryId());
    }
}
