package org.usersync.atlassian;

import com.atlassian.scheduler.JobRunner;
import com.atlassian.scheduler.JobRunnerRequest;
import com.atlassian.scheduler.JobRunnerResponse;
import com.atlassian.scheduler.SchedulerService;
import com.atlassian.scheduler.SchedulerServiceException;
import com.atlassian.scheduler.config.JobConfig;
import com.atlassian.scheduler.config.JobId;
import com.atlassian.scheduler.config.JobRunnerKey;
import com.atlassian.scheduler.config.RunMode;
import com.atlassian.scheduler.config.Schedule;
import com.atlassian.scheduler.status.JobDetails;
import java.io.Serializable;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TimeZone;
import org.usersync.BusyException;
import org.usersync.JsonReader;

/**
 * The engine's schedules as Atlassian Scheduler jobs: one job per connector and kind (full,
 * incremental), with the engine's cron expression, run once per cluster. The engine's own lock
 * still guards each run, so a second node that fires anyway records SKIPPED.
 */
final class SyncJobs implements JobRunner {
    static final JobRunnerKey KEY = JobRunnerKey.of("org.usersync.sync");

    private final SchedulerService scheduler;
    private final UsersyncApp app;

    SyncJobs(SchedulerService scheduler, UsersyncApp app) {
        this.scheduler = scheduler;
        this.app = app;
    }

    void register() {
        scheduler.registerJobRunner(KEY, this);
    }

    /** The jobs stay scheduled in the cluster; a node without the runner just does not run them. */
    void unregister() {
        scheduler.unregisterJobRunner(KEY);
    }

    static JobId jobId(String connector, String kind) {
        return JobId.of("org.usersync." + connector + "." + kind);
    }

    /** Schedules the engine's schedules and unschedules the jobs of schedules that are gone. */
    void schedule(String schedulesJson) throws SchedulerServiceException {
        Set<JobId> wanted = new HashSet<>();
        for (Map<String, Object> s : JsonReader.objects(schedulesJson)) {
            String connector = (String) s.get("connector");
            String kind = (String) s.get("kind");
            JobId id = jobId(connector, kind);
            wanted.add(id);
            Map<String, Serializable> parameters = Map.of("connector", connector, "kind", kind);
            scheduler.scheduleJob(id, JobConfig.forJobRunnerKey(KEY)
                    .withRunMode(RunMode.RUN_ONCE_PER_CLUSTER)
                    .withSchedule(Schedule.forCronExpression((String) s.get("cron"),
                            TimeZone.getTimeZone((String) s.get("time_zone"))))
                    .withParameters(parameters));
        }
        for (JobDetails job : scheduler.getJobsByJobRunnerKey(KEY)) {
            if (!wanted.contains(job.getJobId())) {
                scheduler.unscheduleJob(job.getJobId());
            }
        }
    }

    @Override
    public JobRunnerResponse runJob(JobRunnerRequest request) {
        Map<String, Serializable> p = request.getJobConfig().getParameters();
        try {
            String report = app.runScheduled((String) p.get("connector"), (String) p.get("kind"));
            Map<String, Object> r = JsonReader.object(report);
            String summary = "run " + r.get("run_id") + ": " + r.get("status");
            return "FAILED".equals(r.get("status")) ? JobRunnerResponse.failed(summary + ": " + r.get("error"))
                    : JobRunnerResponse.success(summary);
        } catch (BusyException e) {
            // Another node's run of this connector holds the lock: recorded SKIPPED by the engine.
            return JobRunnerResponse.aborted("usersync: " + e.getMessage());
        } catch (RuntimeException e) {
            return JobRunnerResponse.failed("usersync: " + e.getMessage());
        }
    }
}
