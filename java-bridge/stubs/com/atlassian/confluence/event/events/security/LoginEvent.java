// Compile-only signature stub: never packaged, Confluence provides the real type at run time.
// Written from the Confluence 8.5 Java API reference, https://docs.atlassian.com/ConfluenceServer/javadoc/8.5.21/com/atlassian/confluence/event/events/security/LoginEvent.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.confluence.event.events.security;

/** Published after a successful login. A value class here. */
public class LoginEvent {
    private final String username;

    public LoginEvent(Object src, String username, String sessionId, String remoteHost, String remoteIP) {
        this.username = username;
    }

    public String getUsername() { return username; }
}
