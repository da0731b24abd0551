// Compile-only signature stub: never packaged, Confluence provides the real type at run time.
// Written from the Confluence 8.5 Java API reference, https://docs.atlassian.com/ConfluenceServer/javadoc/8.5.21/com/atlassian/user/User.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.user;

public interface User extends Entity {
    String getFullName();

    String getEmail();
}
