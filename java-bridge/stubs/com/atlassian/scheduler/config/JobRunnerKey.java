// Compile-only signature stub: never packaged, the application provides the real type at run time.
// Written from the Atlassian Scheduler 1.7 (in Jira 9.12 and Confluence 8.5) Java API reference, https://docs.atlassian.com/atlassian-scheduler/1.7.0/com/atlassian/scheduler/config/JobRunnerKey.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.scheduler.config;

/** A value class: the key a JobRunner is registered under. */
public final class JobRunnerKey implements java.io.Serializable, Comparable<JobRunnerKey> {
    private static final long serialVersionUID = 1L;
    private final String key;

    private JobRunnerKey(String key) {
        this.key = key;
    }

    public static JobRunnerKey of(String key) {
        return new JobRunnerKey(key);
    }

    public int compareTo(JobRunnerKey o) { return key.compareTo(o.key); }

    public boolean equals(Object o) { return o instanceof JobRunnerKey k && k.key.equals(key); }

    public int hashCode() { return key.hashCode(); }

    public String toString() { return key; }
}
