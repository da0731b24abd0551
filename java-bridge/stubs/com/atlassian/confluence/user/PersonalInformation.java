// Compile-only signature stub: never packaged, Confluence provides the real type at run time.
// Written from the Confluence 8.5 Java API reference, https://docs.atlassian.com/ConfluenceServer/javadoc/8.5.21/com/atlassian/confluence/user/PersonalInformation.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.confluence.user;

import com.atlassian.confluence.core.ContentEntityObject;

/** A value class in Confluence: the content that holds a user's "about me" and attachments. */
public class PersonalInformation extends ContentEntityObject {
    private String body = "";

    public String getBodyAsString() { return body; }

    public void setBodyAsString(String body) { this.body = body; }
}
