// Compile-only signature stub: never packaged, the application provides the real type at run time.
// Written from the Atlassian Scheduler 1.7 (in Jira 9.12 and Confluence 8.5) Java API reference, https://docs.atlassian.com/atlassian-scheduler/1.7.0/com/atlassian/scheduler/config/JobId.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.scheduler.config;

/** A value class: a scheduled job's id. */
public final class JobId implements java.io.Serializable, Comparable<JobId> {
    private static final long serialVersionUID = 1L;
    private final String id;

    private JobId(String id) {
        this.id = id;
    }

    public static JobId of(String id) {
        return new JobId(id);
    }

    public int compareTo(JobId o) { return id.compareTo(o.id); }

    public boolean equals(Object o) { return o instanceof JobId k && k.id.equals(id); }

    public int hashCode() { return id.hashCode(); }

    public String toString() { return id; }
}
