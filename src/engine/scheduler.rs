//! The scheduler: each connector with a schedule gets a thread that sleeps until its next fire
//! time and runs it. Engines that share a state store (the nodes of a cluster) each run the same
//! schedule; the store lets exactly one of them claim each fire time, and the connector lock
//! keeps any run from overlapping another of the same connector, whatever started it.

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{lock, run_on, Engine, EngineError, Mode, RunControl, RunRequest, Shared};
use crate::config::{Config, ConnectorConfig};
use crate::schedule::{FireTime, Plan, RunKind};

/// The longest single sleep: the engine's clock is read again at least this often, so a clock a
/// test moves forward is followed.
const NAP: Duration = Duration::from_millis(500);

pub(super) struct Scheduler {
    stop: Arc<Stop>,
    threads: Vec<JoinHandle<()>>,
}

#[derive(Default)]
struct Stop {
    stopped: Mutex<bool>,
    wake: Condvar,
    /// The runs the scheduler has under way, to cancel when it stops.
    current: Mutex<Vec<Arc<RunControl>>>,
}

impl Stop {
    /// Sleeps up to `d`; true when the scheduler was stopped.
    fn sleep(&self, d: Duration) -> bool {
        let stopped = lock(&self.stopped);
        if *stopped {
            return true;
        }
        let (stopped, _) = self.wake.wait_timeout(stopped, d).unwrap_or_else(|p| p.into_inner());
        *stopped
    }
}

impl Engine {
    /// Starts running the schedules of `config`'s connectors in the background: full runs and
    /// incremental runs at their cron fire times, each recorded with the trigger `schedule`.
    /// A fire time missed while no engine was running is caught up once at start. Replaces a
    /// scheduler already running (after stopping it).
    pub fn start_scheduler(&self, config: Config) -> Result<(), EngineError> {
        drop(self.enter()?);
        let scheduled: Vec<&ConnectorConfig> = config.connectors.iter().filter(|c| !c.schedule.is_empty()).collect();
        if scheduled.is_empty() {
            return Err(EngineError::Invalid(
                "no connector has a schedule: set \"schedule\" on a connector (e.g. \"0 0 2 * * ?\")".into(),
            ));
        }
        self.stop_scheduler();
        let stop = Arc::new(Stop::default());
        let config = Arc::new(config.clone());
        let mut threads = Vec::new();
        for c in scheduled {
            let (shared, stop, config, id) = (self.shared.clone(), stop.clone(), config.clone(), c.id.clone());
            let thread = std::thread::Builder::new()
                .name(format!("usersync-schedule-{id}"))
                .spawn(move || follow(&shared, &stop, &config, &id))
                .map_err(|e| EngineError::Invalid(format!("cannot start a scheduler thread: {e}")))?;
            threads.push(thread);
        }
        tracing::info!("scheduler started for {} connector(s)", threads.len());
        *lock(&self.shared.scheduler) = Some(Scheduler { stop, threads });
        Ok(())
    }

    /// Stops the scheduler: runs it started are cancelled (they stop between users and are
    /// recorded CANCELLED) and waited for. Nothing happens when no scheduler runs.
    pub fn stop_scheduler(&self) {
        let Some(scheduler) = lock(&self.shared.scheduler).take() else { return };
        *lock(&scheduler.stop.stopped) = true;
        scheduler.stop.wake.notify_all();
        for control in lock(&scheduler.stop.current).iter() {
            control.cancel.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        for t in scheduler.threads {
            let _ = t.join();
        }
        tracing::info!("scheduler stopped");
    }

    pub fn scheduler_running(&self) -> bool {
        lock(&self.shared.scheduler).is_some()
    }

    /// The next `count` fire times of every scheduled connector of `config`, soonest first.
    pub fn next_fire_times(&self, config: &Config, count: usize) -> Vec<FireTime> {
        let now = (self.shared.clock)();
        let mut all: Vec<FireTime> = config
            .connectors
            .iter()
            .flat_map(|c| {
                c.schedule
                    .plan(config.operations.time_zone)
                    .upcoming(now, count)
                    .into_iter()
                    .map(|(at, kind)| FireTime { connector: c.id.clone(), kind, at })
            })
            .collect();
        all.sort_by(|a, b| (a.at, &a.connector).cmp(&(b.at, &b.connector)));
        all.truncate(count);
        all
    }
}

/// One connector's schedule, until the scheduler stops.
fn follow(shared: &Arc<Shared>, stop: &Stop, config: &Config, id: &str) {
    let Some(connector) = config.connector(id) else { return };
    let plan = connector.schedule.plan(config.operations.time_zone);
    let mut after = (shared.clock)();
    if let Some(missed) = missed_fire(shared, &plan, id, after) {
        tracing::info!(
            "connector '{id}': the {} run due at {} was missed; running it now",
            missed.1.as_str(),
            missed.0
        );
        fire(shared, stop, config, id, missed);
    } else if let Some(redo) = interrupted_run(shared, id, config.operations.lease_seconds) {
        tracing::info!(
            "connector '{id}': its last {} run, started at {}, was interrupted; running it again now",
            redo.1.as_str(),
            redo.0
        );
        fire(shared, stop, config, id, redo);
    }
    loop {
        let Some(next) = plan.next_after(after) else {
            tracing::info!("connector '{id}': its schedule has no more fire times");
            return;
        };
        loop {
            let now = (shared.clock)();
            if now >= next.0 {
                break;
            }
            let wait = (next.0 - now).to_std().unwrap_or_default().min(NAP);
            if stop.sleep(wait) {
                return;
            }
        }
        if *lock(&stop.stopped) {
            return;
        }
        // A bug in one run must not end the schedule: it is logged and the next fire time comes.
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fire(shared, stop, config, id, next))).is_err() {
            tracing::error!("connector '{id}': the scheduled run for {} stopped by an internal error", next.0);
        }
        // Fire times that passed during a long run are not made up one by one: the next one
        // after now is.
        after = next.0.max((shared.clock)());
    }
}

/// The latest run of the connector, when it was interrupted (its process died — found now if it
/// was on this machine — or its lease ran out): its start and kind, to run again once. The start
/// time is claimed like a fire time, so of several engines starting together one runs it.
fn interrupted_run(shared: &Shared, id: &str, lease_seconds: u32) -> Option<(DateTime<Utc>, RunKind)> {
    let now = (shared.clock)();
    let _ = shared.store.interrupt_expired(id, now - chrono::Duration::seconds(lease_seconds.into()), now);
    let runs = shared.store.runs(Some(id), 20).ok()?;
    let last = runs.iter().find(|r| !r.simulate && r.status != crate::store::RunStatus::Skipped)?;
    let interrupted = last.status == crate::store::RunStatus::Failed
        && last.error.as_deref().is_some_and(|e| e.starts_with("interrupted"));
    let kind = if last.mode == "incremental" { RunKind::Incremental } else { RunKind::Full };
    interrupted.then_some((last.started_at, kind))
}

/// The last fire time before `now` that no engine claimed since the last claimed one: an engine
/// was down at that time. Only the latest is returned: one run catches up for all of them.
fn missed_fire(shared: &Shared, plan: &Plan, id: &str, now: DateTime<Utc>) -> Option<(DateTime<Utc>, RunKind)> {
    let last = shared.store.last_fire(id).ok().flatten()?;
    plan.missed(last, now)
}

/// Runs one fire time, if this engine is the one that claims it.
fn fire(shared: &Arc<Shared>, stop: &Stop, config: &Config, id: &str, (at, kind): (DateTime<Utc>, RunKind)) {
    match shared.store.claim_fire(id, kind.as_str(), at) {
        Ok(true) => {}
        Ok(false) => {
            tracing::debug!("connector '{id}': the fire time {at} was claimed by another engine");
            return;
        }
        Err(e) => {
            tracing::error!("connector '{id}': cannot claim the fire time {at}: {e}");
            return;
        }
    }
    let request = RunRequest {
        connector: Some(id.to_string()),
        mode: match kind {
            RunKind::Full => Mode::Full,
            RunKind::Incremental => Mode::Incremental,
        },
        simulate: false,
        trigger: "schedule".into(),
        scheduled_for: Some(at),
    };
    let control = Arc::new(RunControl::default());
    lock(&stop.current).push(control.clone());
    let outcome = run_on(shared, config, &request, control.clone(), None, &|_| {});
    lock(&stop.current).retain(|c| !Arc::ptr_eq(c, &control));
    match outcome {
        Ok(report) => {
            tracing::debug!(run = report.run_id, "connector '{id}': scheduled run for {at} ended {}", report.status)
        }
        Err(EngineError::Busy(why)) => tracing::info!("connector '{id}': scheduled run for {at} not started: {why}"),
        Err(e) => tracing::error!("connector '{id}': scheduled run for {at} could not start: {e}"),
    }
}
