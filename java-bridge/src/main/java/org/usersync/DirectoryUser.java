package org.usersync;

import java.util.Map;
import java.util.Set;

/**
 * A user as the directory reports it. {@code values} maps targets ({@code display_name},
 * {@code email}, {@code property:x}, {@code profile:x}) to their current, non-empty values.
 */
public record DirectoryUser(String key, String username, boolean active, Map<String, String> values,
        Set<String> groups, String externalId) {}
