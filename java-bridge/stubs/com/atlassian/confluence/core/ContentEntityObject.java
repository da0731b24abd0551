// Compile-only signature stub: never packaged, Confluence provides the real type at run time.
// Written from the Confluence 8.5 Java API reference, https://docs.atlassian.com/ConfluenceServer/javadoc/8.5.21/com/atlassian/confluence/core/ContentEntityObject.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.confluence.core;

/** The base of Confluence's content; only its id and creation date are used here. */
public abstract class ContentEntityObject {
    private long id;

    public long getId() { return id; }

    public void setId(long id) { this.id = id; }
    private java.util.Date creationDate;
    /** From ConfluenceEntityObject: when the content was created. */
    public java.util.Date getCreationDate() { return creationDate; }
    public void setCreationDate(java.util.Date creationDate) { this.creationDate = creationDate; }
}
