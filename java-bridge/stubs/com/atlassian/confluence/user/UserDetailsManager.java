// Compile-only signature stub: never packaged, Confluence provides the real type at run time.
// Written from the Confluence 8.5 Java API reference, https://docs.atlassian.com/ConfluenceServer/javadoc/8.5.21/com/atlassian/confluence/user/UserDetailsManager.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.confluence.user;

import com.atlassian.user.User;
import java.util.List;

public interface UserDetailsManager {
    List<String> getProfileGroups();

    List<String> getProfileKeys(String groupKey);

    String getStringProperty(User user, String key);

    /** "Stores a string < 255 chars in a property with the given key against a specified user." */
    void setStringProperty(User user, String key, String value);

    void removeProperty(User user, String key);
}
