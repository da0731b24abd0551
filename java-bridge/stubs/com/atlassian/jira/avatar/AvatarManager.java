// Compile-only signature stub: never packaged, Jira provides the real type at run time.
// Written from the Jira 9.12 Java API reference, https://docs.atlassian.com/software/jira/docs/api/9.12.0/com/atlassian/jira/avatar/AvatarManager.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.jira.avatar;

import com.atlassian.jira.user.ApplicationUser;
import java.io.IOException;
import java.io.InputStream;

public interface AvatarManager {
    Avatar create(String fileName, String contentType, ApplicationUser owner, InputStream image, Selection selection)
            throws IOException;
}
