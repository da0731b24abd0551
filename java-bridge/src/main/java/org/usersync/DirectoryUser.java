package org.usersync;

import java.time.Instant;
import java.util.Map;
import java.util.Set;

/**
 * A user as the directory reports it. {@code values} maps targets ({@code display_name},
 * {@code email}, {@code property:x}, {@code profile:x}) to their current, non-empty values.
 * {@code lastLogin} and {@code createdAt} are null where the application does not know them, and
 * {@code admin} says the user administers the application: the idle-user cleanup reads all three
 * (never touching an administrator, and leaving a user alone whose dates are unknown).
 */
public record DirectoryUser(String key, String username, boolean active, Map<String, String> values,
        Set<String> groups, String externalId, Instant lastLogin, Instant createdAt, boolean admin) {
    /** A user without login facts (a directory that does not keep them). */
    public DirectoryUser(String key, String username, boolean active, Map<String, String> values, Set<String> groups,
            String externalId) {
        this(key, username, active, values, groups, externalId, null, null, false);
    }
}
