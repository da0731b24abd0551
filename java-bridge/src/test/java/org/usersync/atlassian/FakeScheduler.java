package org.usersync.atlassian;

import com.atlassian.scheduler.JobRunner;
import com.atlassian.scheduler.JobRunnerRequest;
import com.atlassian.scheduler.JobRunnerResponse;
import com.atlassian.scheduler.SchedulerService;
import com.atlassian.scheduler.SchedulerServiceException;
import com.atlassian.scheduler.config.JobConfig;
import com.atlassian.scheduler.config.JobId;
import com.atlassian.scheduler.config.JobRunnerKey;
import com.atlassian.scheduler.status.JobDetails;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One node's view of Atlassian Scheduler. Jobs are shared by the nodes of a cluster (pass the same
 * map); runners are per node. Modelled rules (Atlassian Scheduler 1.7, SchedulerService):
 * scheduling needs a valid cron expression; scheduling an existing id replaces the job; a job
 * whose runner is not registered on a node does not run there (its outcome is UNAVAILABLE).
 */
public final class FakeScheduler implements SchedulerService {
    private final Map<JobId, JobConfig> jobs;
    private final Map<JobRunnerKey, JobRunner> runners = new ConcurrentHashMap<>();

    public FakeScheduler(Map<JobId, JobConfig> sharedJobs) {
        this.jobs = sharedJobs;
    }

    public FakeScheduler() {
        this(new TreeMap<>());
    }

    public synchronized Map<JobId, JobConfig> jobs() {
        return new TreeMap<>(jobs);
    }

    public boolean hasRunner(JobRunnerKey key) {
        return runners.containsKey(key);
    }

    @Override
    public void registerJobRunner(JobRunnerKey key, JobRunner runner) {
        runners.put(key, runner);
    }

    @Override
    public void unregisterJobRunner(JobRunnerKey key) {
        runners.remove(key);
    }

    @Override
    public synchronized void scheduleJob(JobId id, JobConfig config) throws SchedulerServiceException {
        String cron = config.getSchedule().getCronScheduleInfo().getCronExpression();
        int fields = cron.trim().split("\\s+").length;
        if (fields < 6 || fields > 7) {
            throw new SchedulerServiceException("invalid cron expression: " + cron);
        }
        jobs.put(id, config);
    }

    @Override
    public synchronized void unscheduleJob(JobId id) {
        jobs.remove(id);
    }

    @Override
    public synchronized List<JobDetails> getJobsByJobRunnerKey(JobRunnerKey key) {
        List<JobDetails> out = new ArrayList<>();
        jobs.forEach((id, config) -> {
            if (config.getJobRunnerKey().equals(key)) {
                out.add(() -> id);
            }
        });
        return out;
    }

    /** Fires a job on this node now, as the scheduler would at its time; null when it is unavailable here. */
    public JobRunnerResponse fire(JobId id) {
        JobConfig config;
        synchronized (this) {
            config = jobs.get(id);
        }
        if (config == null) {
            throw new IllegalArgumentException("no job " + id);
        }
        JobRunner runner = runners.get(config.getJobRunnerKey());
        if (runner == null) {
            return null;
        }
        Date now = new Date();
        return runner.runJob(new JobRunnerRequest() {
            public Date getStartTime() { return now; }

            public JobId getJobId() { return id; }

            public JobConfig getJobConfig() { return config; }

            public boolean isCancellationRequested() { return false; }
        });
    }
}
