// Compile-only signature stub: never packaged, the application provides the real type at run time.
// Written from the Atlassian Scheduler 1.7 (in Jira 9.12 and Confluence 8.5) Java API reference, https://docs.atlassian.com/atlassian-scheduler/1.7.0/com/atlassian/scheduler/config/Schedule.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.scheduler.config;

import java.util.TimeZone;

/** A value class: when a job runs (only the cron form is used here). */
public final class Schedule {
    private final CronScheduleInfo cron;

    private Schedule(CronScheduleInfo cron) {
        this.cron = cron;
    }

    public static Schedule forCronExpression(String cronExpression, TimeZone timeZone) {
        return new Schedule(new CronScheduleInfo() {
            public String getCronExpression() { return cronExpression; }

            public TimeZone getTimeZone() { return timeZone; }
        });
    }

    public CronScheduleInfo getCronScheduleInfo() { return cron; }
}
