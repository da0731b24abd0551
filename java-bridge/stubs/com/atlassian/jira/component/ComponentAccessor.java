// Compile-only signature stub: never packaged, Jira provides the real type at run time.
// Written from the Jira 9.12 Java API reference, https://docs.atlassian.com/software/jira/docs/api/9.12.0/com/atlassian/jira/component/ComponentAccessor.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.jira.component;

public final class ComponentAccessor {
    private ComponentAccessor() {}

    /** A component another app exports through OSGi, or null when no enabled app provides one. */
    public static <T> T getOSGiComponentInstanceOfType(Class<T> componentClass) {
        return null;
    }
}
