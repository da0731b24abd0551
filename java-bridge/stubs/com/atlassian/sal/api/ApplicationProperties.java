// Compile-only signature stub: never packaged, the application provides the real type at run time.
// Written from the SAL 4.4 (in Jira 9.12 and Confluence 8.5) Java API reference, https://docs.atlassian.com/sal-api/4.4.2/com/atlassian/sal/api/ApplicationProperties.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.sal.api;

import java.nio.file.Path;
import java.util.Optional;

public interface ApplicationProperties {
    /** This node's home directory. */
    Optional<Path> getLocalHomeDirectory();

    /** The home directory the nodes of a Data Center cluster share (the local one otherwise). */
    Optional<Path> getSharedHomeDirectory();
}
