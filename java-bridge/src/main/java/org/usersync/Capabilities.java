package org.usersync;

import java.util.Set;

/**
 * What a directory can hold. Jira: user properties, no profile fields. Confluence: the six
 * profile fields (phone, im, website, position, department, location). A mapping that targets
 * something missing here is a configuration error before any write.
 */
public record Capabilities(boolean properties, Set<String> profileFields, boolean communardo, boolean linchpin,
        boolean jsmOrganizations, boolean avatars, boolean createGroups) {}
