// Compile-only signature stub: never packaged, the application provides the real type at run time.
// Written from the Atlassian Scheduler 1.7 (in Jira 9.12 and Confluence 8.5) Java API reference, https://docs.atlassian.com/atlassian-scheduler/1.7.0/com/atlassian/scheduler/status/JobDetails.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.scheduler.status;

import com.atlassian.scheduler.config.JobId;

public interface JobDetails {
    JobId getJobId();
}
