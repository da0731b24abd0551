// Compile-only signature stub: never packaged, the application provides the real type at run time.
// Written from the Beehive 0.2 (cluster locks, in Jira 9.12 and Confluence 8.5) Java API reference, https://docs.atlassian.com/beehive-api/0.2.1/com/atlassian/beehive/ClusterLock.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.beehive;

/** A cluster-wide lock: java.util.concurrent.locks.Lock, owned by the thread that took it. */
public interface ClusterLock extends java.util.concurrent.locks.Lock {}
