// Compile-only signature stub: never packaged, the application provides the real type at run time.
// Written from the Atlassian Scheduler 1.7 (in Jira 9.12 and Confluence 8.5) Java API reference, https://docs.atlassian.com/atlassian-scheduler/1.7.0/com/atlassian/scheduler/JobRunnerResponse.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.scheduler;

import com.atlassian.scheduler.status.RunOutcome;

/** A value class: how a run of a job ended, with a message. */
public final class JobRunnerResponse {
    private final RunOutcome outcome;
    private final String message;

    private JobRunnerResponse(RunOutcome outcome, String message) {
        this.outcome = outcome;
        this.message = message;
    }

    public static JobRunnerResponse success(String message) {
        return new JobRunnerResponse(RunOutcome.SUCCESS, message);
    }

    public static JobRunnerResponse aborted(String message) {
        return new JobRunnerResponse(RunOutcome.ABORTED, message);
    }

    public static JobRunnerResponse failed(String message) {
        return new JobRunnerResponse(RunOutcome.FAILED, message);
    }

    public RunOutcome getRunOutcome() { return outcome; }

    public String getMessage() { return message; }
}
