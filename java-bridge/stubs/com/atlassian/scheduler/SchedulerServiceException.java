// Compile-only signature stub: never packaged, the application provides the real type at run time.
// Written from the Atlassian Scheduler 1.7 (in Jira 9.12 and Confluence 8.5) Java API reference, https://docs.atlassian.com/atlassian-scheduler/1.7.0/com/atlassian/scheduler/SchedulerServiceException.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.scheduler;

public class SchedulerServiceException extends Exception {
    private static final long serialVersionUID = 1L;

    public SchedulerServiceException(String message) {
        super(message);
    }
}
