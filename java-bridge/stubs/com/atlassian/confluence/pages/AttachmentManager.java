// Compile-only signature stub: never packaged, Confluence provides the real type at run time.
// Written from the Confluence 8.5 Java API reference, https://docs.atlassian.com/ConfluenceServer/javadoc/8.5.21/com/atlassian/confluence/pages/AttachmentManager.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.confluence.pages;

import com.atlassian.confluence.core.ContentEntityObject;
import java.io.IOException;
import java.io.InputStream;

public interface AttachmentManager {
    Attachment getAttachment(ContentEntityObject content, String attachmentFileName);

    void saveAttachment(Attachment attachment, Attachment previousVersion, InputStream attachmentData)
            throws IOException;
}
