// Compile-only signature stub: never packaged, the application provides the real type at run time.
// Written from the Atlassian Scheduler 1.7 (in Jira 9.12 and Confluence 8.5) Java API reference, https://docs.atlassian.com/atlassian-scheduler/1.7.0/com/atlassian/scheduler/config/JobConfig.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.scheduler.config;

import java.io.Serializable;
import java.util.Map;

/** A value class: which runner a job uses, how it runs in a cluster, when, and its parameters. */
public final class JobConfig {
    private final JobRunnerKey runnerKey;
    private final RunMode runMode;
    private final Schedule schedule;
    private final Map<String, Serializable> parameters;

    private JobConfig(JobRunnerKey runnerKey, RunMode runMode, Schedule schedule, Map<String, Serializable> parameters) {
        this.runnerKey = runnerKey;
        this.runMode = runMode;
        this.schedule = schedule;
        this.parameters = parameters;
    }

    public static JobConfig forJobRunnerKey(JobRunnerKey jobRunnerKey) {
        return new JobConfig(jobRunnerKey, RunMode.RUN_ONCE_PER_CLUSTER, null, Map.of());
    }

    public JobConfig withRunMode(RunMode runMode) {
        return new JobConfig(runnerKey, runMode, schedule, parameters);
    }

    public JobConfig withSchedule(Schedule schedule) {
        return new JobConfig(runnerKey, runMode, schedule, parameters);
    }

    public JobConfig withParameters(Map<String, Serializable> parameters) {
        return new JobConfig(runnerKey, runMode, schedule, Map.copyOf(parameters));
    }

    public JobRunnerKey getJobRunnerKey() { return runnerKey; }

    public RunMode getRunMode() { return runMode; }

    public Schedule getSchedule() { return schedule; }

    public Map<String, Serializable> getParameters() { return parameters; }
}
