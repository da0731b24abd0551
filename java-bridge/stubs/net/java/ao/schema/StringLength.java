// Compile-only signature stub: never packaged, the application provides the real type at run time.
// Written from the Active Objects 5.0 (in Jira 9.12 and Confluence 8.5) Java API reference, https://docs.atlassian.com/DAC/javadoc/ao/5.0/net/java/ao/schema/StringLength.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package net.java.ao.schema;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
public @interface StringLength {
    int UNLIMITED = -1;
    int value();
}
