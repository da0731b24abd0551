// Compile-only signature stub: never packaged, the application provides the real type at run time.
// Written from the Atlassian Scheduler 1.7 (in Jira 9.12 and Confluence 8.5) Java API reference, https://docs.atlassian.com/atlassian-scheduler/1.7.0/com/atlassian/scheduler/config/CronScheduleInfo.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.scheduler.config;

import java.util.TimeZone;

public interface CronScheduleInfo {
    String getCronExpression();

    TimeZone getTimeZone();
}
