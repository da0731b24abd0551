// Compile-only signature stub: never packaged, the application provides the real type at run time.
// Written from the Atlassian Event 4.1 (in Jira 9.12 and Confluence 8.5) Java API reference, https://docs.atlassian.com/atlassian-event/4.1.1/com/atlassian/event/api/EventListener.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.event.api;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/** Marks a method that receives the events of its parameter's type. */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface EventListener {}
