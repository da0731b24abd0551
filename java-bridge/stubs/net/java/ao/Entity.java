// Compile-only signature stub: never packaged, the application provides the real type at run time.
// Written from the Active Objects 5.0 (in Jira 9.12 and Confluence 8.5) Java API reference, https://docs.atlassian.com/DAC/javadoc/ao/5.0/net/java/ao/Entity.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package net.java.ao;

public interface Entity extends RawEntity<Integer> {
    int getID();
}
