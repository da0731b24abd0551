// Compile-only signature stub: never packaged, the application provides the real type at run time.
// Written from the Atlassian Event 4.1 (in Jira 9.12 and Confluence 8.5) Java API reference, https://docs.atlassian.com/atlassian-event/4.1.1/com/atlassian/event/api/EventPublisher.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.event.api;

public interface EventPublisher {
    void publish(Object event);

    void register(Object listener);

    void unregister(Object listener);
}
