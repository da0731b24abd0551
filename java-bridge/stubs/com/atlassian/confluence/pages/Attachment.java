// Compile-only signature stub: never packaged, Confluence provides the real type at run time.
// Written from the Confluence 8.5 Java API reference, https://docs.atlassian.com/ConfluenceServer/javadoc/8.5.21/com/atlassian/confluence/pages/Attachment.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.confluence.pages;

import com.atlassian.confluence.core.ContentEntityObject;

/** A value class in Confluence: an attachment's name, type, size and the content it belongs to. */
public class Attachment {
    private final String fileName;
    private final String contentType;
    private final long fileSize;
    private final String comment;
    private ContentEntityObject container;

    public Attachment(String fileName, String contentType, long fileSize, String comment) {
        this.fileName = fileName;
        this.contentType = contentType;
        this.fileSize = fileSize;
        this.comment = comment;
    }

    public String getFileName() { return fileName; }

    public String getMediaType() { return contentType; }

    public long getFileSize() { return fileSize; }

    public String getVersionComment() { return comment; }

    public ContentEntityObject getContainer() { return container; }

    public void setContainer(ContentEntityObject container) { this.container = container; }
}
