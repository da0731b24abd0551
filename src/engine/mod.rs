//! The engine wires the pipeline together: config → connector → mapping → reconcile → guard →
//! apply → record. The CLI (and later the C ABI and JNI) only call this module.

mod apply;
mod calls;
mod delta_state;
pub mod host;
mod inbound;
mod lease;
mod mapper;
mod progress;
pub mod routing;
mod runner;
mod scheduler;
mod snapshot;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::{Config, ConfigErrors};
use crate::directory::{DirError, Directory};
use crate::mapping::{map_user, Mapped, MappingTrace};
use crate::model::SourceUser;
use crate::reconcile::Approval;
use crate::store::{Counts, RunRecord, RunStatus, StateStore, StoreError, UserResult};

pub use calls::Call;
pub use inbound::ScimAnswer;
pub use progress::{Phase, Progress};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The configuration is wrong; nothing was written.
    #[error(transparent)]
    Config(#[from] ConfigErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Directory(#[from] DirError),
    /// A request that cannot be carried out as asked (unknown run, run not held, ...).
    #[error("{0}")]
    Invalid(String),
    /// Another run of this connector holds the lock.
    #[error("{0}")]
    Busy(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Full,
    /// Only what changed since the last successful incremental run (where the source supports
    /// it; otherwise a full sync). Removals the source reports are processed; absence is not.
    Incremental,
    /// One user, by source id or username; no cleanup pass.
    SingleUser(String),
}

#[derive(Debug, Clone)]
pub struct RunRequest {
    pub connector: Option<String>,
    pub mode: Mode,
    pub simulate: bool,
    pub trigger: String,
    /// The schedule's fire time a scheduled run is for (noted in its record).
    pub scheduled_for: Option<DateTime<Utc>>,
}

impl RunRequest {
    pub fn full(connector: Option<&str>) -> Self {
        RunRequest {
            connector: connector.map(str::to_string),
            mode: Mode::Full,
            simulate: false,
            trigger: "manual".into(),
            scheduled_for: None,
        }
    }
}

/// What a run reports to its caller; the same object `sync --json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub run_id: i64,
    pub status: RunStatus,
    pub mode: String,
    pub simulate: bool,
    pub connector: String,
    pub counts: Counts,
    pub writes: u64,
    pub photo_downloads: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold_reason: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Users that failed, with where and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<Failure>,
    /// Users whose destructive operations were held.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub held: Vec<HeldUser>,
    /// Where the run's time went.
    pub timings: Timings,
}

/// Seconds of wall time per stage of a run. `map_s` and `reconcile_s` are the engine's own work
/// (no I/O); the others wait on the source, the directory or the state store.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Timings {
    /// Reading the source (requests, parsing).
    pub fetch_s: f64,
    /// Mapping every user.
    pub map_s: f64,
    /// Listing the directory, its groups and the stored identities (and releasing the listing).
    pub read_state_s: f64,
    /// Reconciling and guarding: building the plan.
    pub reconcile_s: f64,
    /// Writing to the directory, photo downloads included.
    pub apply_s: f64,
    /// Recording the run and the identities.
    pub record_s: f64,
    /// CPU seconds the run's thread spent mapping (releasing each source record included) and
    /// reconciling and guarding: the engine's own work, with no waiting in it.
    pub engine_cpu_s: f64,
    /// Users whose rules were not run again: their record, the mapping and their directory
    /// record were unchanged since they were last applied or found in step (`reconcile::version`).
    pub rules_skipped: u64,
}

/// CPU time the calling thread has used so far (wall time where the platform has no such clock).
pub(crate) fn thread_cpu() -> std::time::Duration {
    #[cfg(unix)]
    {
        let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `t` is a valid timespec for the duration of the call.
        if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) } == 0 {
            return std::time::Duration::new(t.tv_sec as u64, t.tv_nsec as u32);
        }
    }
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
}

#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub user: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    pub error: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct HeldUser {
    pub username: String,
    pub operations: Vec<String>,
}

impl RunReport {
    /// The CLI exit code for this status (README): 0 DONE, 1 FAILED, 3 HELD, 4 PARTIALLY_FAILED,
    /// 5 SKIPPED (another run of the connector held its lock), 6 CANCELLED.
    pub fn exit_code(&self) -> i32 {
        match self.status {
            RunStatus::Done => 0,
            RunStatus::Failed | RunStatus::Running => 1,
            RunStatus::Held => 3,
            RunStatus::PartiallyFailed => 4,
            RunStatus::Skipped => 5,
            RunStatus::Cancelled => 6,
        }
    }
}

/// The outcome of a connection test.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub connector: String,
    pub ok: bool,
    pub steps: Vec<crate::connector::CheckStep>,
}

/// The login hook's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoginDecision {
    pub allow: bool,
    pub reason: String,
    /// The single-user run the decision needed, if any.
    pub run_id: Option<i64>,
}

/// The result of testing one user's mapping without syncing.
#[derive(Debug, Clone, Serialize)]
pub struct MappingTest {
    pub source: SourceUser,
    pub trace: MappingTrace,
    pub result: String,
}

/// The engine's idea of "now": grace periods and delayed deletion are measured with it.
pub type Clock = Box<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// How a started run's beginning went (its id, or why it did not begin), handed from the run's
/// thread to the caller of `start`. A mutex and a condition variable rather than a channel: a
/// channel's receiver registers the waiting thread with std, which a C host's thread then keeps.
#[derive(Default)]
struct Begun {
    result: Mutex<Option<Result<i64, EngineError>>>,
    told: AtomicBool,
    changed: Condvar,
}

impl Begun {
    /// The first word only: what a run says after it began does not replace its beginning.
    fn tell(&self, result: Result<i64, EngineError>) {
        if !self.told.swap(true, Ordering::AcqRel) {
            *lock(&self.result) = Some(result);
            self.changed.notify_all();
        }
    }

    fn wait(&self) -> Result<i64, EngineError> {
        let mut result = lock(&self.result);
        loop {
            if let Some(r) = result.take() {
                return r;
            }
            result = self.changed.wait(result).unwrap_or_else(|p| p.into_inner());
        }
    }
}

pub struct Engine {
    shared: Arc<Shared>,
}

/// What runs share with the engine, including runs on their own threads.
pub(crate) struct Shared {
    store: Box<dyn StateStore>,
    directory: Box<dyn Directory>,
    clock: Clock,
    runs: Mutex<HashMap<i64, Arc<RunControl>>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
    closed: AtomicBool,
    scheduler: Mutex<Option<scheduler::Scheduler>>,
    calls: calls::Calls,
    /// SCIM writes, one at a time (inbound.rs).
    scim_writes: Mutex<()>,
    /// `scim-inbound` connectors with a window's run waiting.
    scim_flushes: Mutex<std::collections::HashSet<String>>,
}

/// Progress, cancellation and outcome of one run, readable from other threads.
#[derive(Default)]
pub(crate) struct RunControl {
    progress: Mutex<Option<Progress>>,
    cancel: AtomicBool,
    outcome: Mutex<Option<Result<RunReport, String>>>,
    done: Condvar,
}

impl RunControl {
    pub(crate) fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }

    fn set_progress(&self, p: Progress) {
        *lock(&self.progress) = Some(p);
    }
}

/// One run on the calling thread, from lock to record. While it runs it is known by its id, so
/// `progress`, `cancel` and `close` reach it like a started run.
fn run_on(
    shared: &Arc<Shared>,
    config: &Config,
    request: &RunRequest,
    control: Arc<RunControl>,
    approves: Option<(i64, &Approval)>,
    progress: &dyn Fn(&Progress),
) -> Result<RunReport, EngineError> {
    let runner = runner::Runner::new(shared, config, request, &control, progress)?;
    let started = runner.begin(approves.map(|(id, _)| id))?;
    let run_id = started.record.id;
    control.set_progress(Progress::starting(run_id));
    lock(&shared.runs).insert(run_id, control.clone());
    // `close` may have come between the check at the call's start and the registration.
    if shared.closed.load(Ordering::SeqCst) {
        control.cancel.store(true, Ordering::SeqCst);
    }
    let report = runner.finish(started, approves.map(|(_, a)| a));
    lock(&shared.runs).remove(&run_id);
    report
}

/// A poisoned lock only means another thread panicked while holding it; the data is still usable.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Engine {
    pub fn new(store: Box<dyn StateStore>, directory: Box<dyn Directory>) -> Self {
        Engine {
            shared: Arc::new(Shared {
                store,
                directory,
                clock: Box::new(Utc::now),
                runs: Mutex::new(HashMap::new()),
                workers: Mutex::new(Vec::new()),
                closed: AtomicBool::new(false),
                scheduler: Mutex::new(None),
                calls: calls::Calls::default(),
                scim_writes: Mutex::new(()),
                scim_flushes: Mutex::new(Default::default()),
            }),
        }
    }

    /// Replaces the clock (tests step through grace periods with it). Call before any run.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        Arc::get_mut(&mut self.shared).expect("with_clock is called before the engine is shared").clock = clock;
        self
    }

    pub fn directory(&self) -> &dyn Directory {
        self.shared.directory.as_ref()
    }

    pub fn store(&self) -> &dyn StateStore {
        self.shared.store.as_ref()
    }

    /// Enters a call: refused once the engine is closed; `close` waits for the calls inside.
    /// Hosts hold one across a whole boundary call (the C exports do), so that freeing the
    /// engine on another thread waits until the call has written its answer.
    pub fn enter(&self) -> Result<Call<'_>, EngineError> {
        if self.shared.closed.load(Ordering::SeqCst) {
            return Err(EngineError::Invalid("the engine is closed".into()));
        }
        Ok(self.shared.calls.enter())
    }

    /// Starts a run on its own thread and returns its id at once. Follow it with `progress`,
    /// stop it with `cancel`, collect its report with `wait`.
    pub fn start(&self, config: Config, request: RunRequest) -> Result<i64, EngineError> {
        let _call = self.enter()?;
        let control = Arc::new(RunControl::default());
        let shared = self.shared.clone();
        let begun = Arc::new(Begun::default());
        let (run_control, run_begun) = (control.clone(), begun.clone());
        // The run begins (takes the connector's lock) and ends (releases it) on its own thread: a
        // host's lock may belong to the thread that took it, as a cluster lock in Jira does. The
        // caller still learns at once whether it began, or was busy.
        let worker = std::thread::Builder::new()
            .name("usersync-run".into())
            .spawn(move || {
                let (control, begun) = (run_control, run_begun);
                // A call like any other: `close` waits for it, and knows this thread as a run's.
                let _call = shared.calls.enter();
                let mut run_id = None;
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let begin = runner::Runner::new(&shared, &config, &request, &control, &|_| {})
                        .and_then(|runner| runner.begin(None).map(|started| (runner, started)));
                    let (runner, started) = match begin {
                        Ok(begun) => begun,
                        Err(e) => {
                            begun.tell(Err(e));
                            return Ok(None);
                        }
                    };
                    run_id = Some(started.record.id);
                    // Known from the moment its id is returned: `progress` answers at once.
                    control.set_progress(Progress::starting(started.record.id));
                    begun.tell(Ok(started.record.id));
                    runner.finish(started, None).map(Some)
                }));
                // A panic before the run began still answers the caller.
                begun.tell(Err(EngineError::Invalid("the run stopped by an internal error before it began".into())));
                let outcome = match outcome {
                    Ok(Ok(None)) => return,
                    Ok(Ok(Some(report))) => Ok(report),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(_) => Err(format!("run {} stopped by an internal error", run_id.unwrap_or_default())),
                };
                *lock(&control.outcome) = Some(outcome);
                control.done.notify_all();
            })
            .map_err(|e| EngineError::Invalid(format!("cannot start a run thread: {e}")))?;
        let run_id = match begun.wait() {
            Ok(run_id) => run_id,
            Err(e) => {
                let _ = worker.join();
                return Err(e);
            }
        };
        lock(&self.shared.runs).insert(run_id, control);
        lock(&self.shared.workers).push(worker);
        Ok(run_id)
    }

    /// The latest progress of a run started with `start`; `None` for unknown runs.
    pub fn progress(&self, run_id: i64) -> Option<Progress> {
        let control = lock(&self.shared.runs).get(&run_id).cloned()?;
        let p = *lock(&control.progress);
        p
    }

    /// Asks a run to stop. It stops between users, so no user is left half-written; the run
    /// ends CANCELLED with what was applied recorded. Returns false for an unknown run.
    pub fn cancel(&self, run_id: i64) -> bool {
        match lock(&self.shared.runs).get(&run_id) {
            Some(control) => {
                control.cancel.store(true, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }

    /// Asks every run of this engine — started, blocking or scheduled — to stop between users.
    /// What a signal handler's watcher calls (`usersync sync` on SIGTERM).
    pub fn cancel_all(&self) {
        for control in lock(&self.shared.runs).values() {
            control.cancel.store(true, Ordering::SeqCst);
        }
    }

    /// Waits for a run started with `start` and returns its report.
    pub fn wait(&self, run_id: i64) -> Result<RunReport, EngineError> {
        let control = lock(&self.shared.runs)
            .get(&run_id)
            .cloned()
            .ok_or_else(|| EngineError::Invalid(format!("run {run_id} was not started by this engine")))?;
        let mut outcome = lock(&control.outcome);
        while outcome.is_none() {
            outcome = control.done.wait(outcome).unwrap_or_else(|p| p.into_inner());
        }
        outcome.clone().expect("set before notify").map_err(EngineError::Invalid)
    }

    /// Cancels every run — started or blocking on another thread — and waits until they and
    /// every other call have left the engine. Later calls fail. Called from within a run (a host
    /// callback), it cancels without waiting, since that run is waiting for the callback.
    pub fn close(&self) {
        self.shared.closed.store(true, Ordering::SeqCst);
        self.stop_scheduler();
        for control in lock(&self.shared.runs).values() {
            control.cancel.store(true, Ordering::SeqCst);
        }
        if calls::inside() {
            // A host callback on a run's thread: that run waits for this call to return.
            return;
        }
        self.shared.calls.wait_idle();
        let workers: Vec<JoinHandle<()>> = lock(&self.shared.workers).drain(..).collect();
        for w in workers {
            let _ = w.join();
        }
    }

    /// Runs a sync. A source that cannot be read ends the run FAILED (reported, not an `Err`);
    /// `Err` means the run could not start: bad configuration, store or directory unavailable.
    pub fn run(
        &self,
        config: &Config,
        request: &RunRequest,
        progress: &dyn Fn(&Progress),
    ) -> Result<RunReport, EngineError> {
        let _call = self.enter()?;
        run_on(&self.shared, config, request, Arc::default(), None, progress)
    }

    /// Applies the destructive operations a HELD run held back, after re-checking them against
    /// a fresh listing: a held operation the source no longer calls for does not happen. Uses
    /// `config` when given, else the connector configuration the held run recorded.
    pub fn approve(
        &self,
        run_id: i64,
        config: Option<&Config>,
        progress: &dyn Fn(&Progress),
    ) -> Result<RunReport, EngineError> {
        let _call = self.enter()?;
        let run = self.open_held_run(run_id, "approve")?;
        let recorded;
        let config = match config {
            Some(c) => c,
            None => {
                recorded = runner::recorded_config(&run)?;
                &recorded
            }
        };
        let approved: Approval = self
            .shared
            .store
            .results(run_id)?
            .into_iter()
            .filter_map(|r| r.key.map(|k| (k, r.held)))
            .flat_map(|(k, held)| held.into_iter().map(move |op| (k.clone(), op.approval_id())))
            .collect();
        let request = RunRequest {
            connector: Some(run.connector.clone()),
            mode: Mode::Full,
            simulate: false,
            trigger: "approve".into(),
            scheduled_for: None,
        };
        let report = run_on(&self.shared, config, &request, Arc::default(), Some((run_id, &approved)), progress)?;
        // A refused approval (held again) leaves the held run open to approve once the source
        // is back; the refusing run can be approved in its own right.
        if report.status != RunStatus::Held {
            self.shared.store.mark_approved(run_id, report.run_id)?;
        }
        Ok(report)
    }

    /// A held run still waiting for approval, or why `action` cannot be taken on run `run_id`.
    fn open_held_run(&self, run_id: i64, action: &str) -> Result<RunRecord, EngineError> {
        let run =
            self.shared.store.run(run_id)?.ok_or_else(|| EngineError::Invalid(format!("no run with id {run_id}")))?;
        if run.status != RunStatus::Held || run.simulate {
            return Err(EngineError::Invalid(format!(
                "run {run_id} is {}, not a held run; nothing to {action}",
                run.status
            )));
        }
        match run.approved_by {
            Some(by) => {
                let how = match self.shared.store.run(by)? {
                    Some(r) if r.mode == "discard" => "discarded",
                    _ => "approved",
                };
                Err(EngineError::Invalid(format!("run {run_id} was already {how} by run {by}")))
            }
            None => Ok(run),
        }
    }

    /// Closes a held run without applying what it held back: recorded as a `discard` run that
    /// names it (`approves`), and the held run, marked with that run, no longer waits for
    /// approval. The connector's next run decides again from the source. Returns the new run's id.
    pub fn discard(&self, run_id: i64, trigger: &str) -> Result<i64, EngineError> {
        let _call = self.enter()?;
        let held = self.open_held_run(run_id, "discard")?;
        let now = (self.shared.clock)();
        let mut record = held.clone();
        record.id = 0;
        record.trigger = trigger.into();
        record.mode = "discard".into();
        record.status = RunStatus::Done;
        record.started_at = now;
        record.ended_at = Some(now);
        record.counts = Default::default();
        record.writes = 0;
        record.photo_downloads = 0;
        record.error = None;
        record.hold_reason = None;
        record.notes = vec![format!("discarded held run {run_id}: nothing it held back was applied")];
        record.approves = Some(run_id);
        record.approved_by = None;
        record.id = self.shared.store.begin_run(&record)?;
        self.shared.store.finish_run(&record, &[], &crate::store::StateChanges::default())?;
        self.shared.store.mark_approved(run_id, record.id)?;
        tracing::info!(run = record.id, "held run {run_id} of connector '{}' discarded", record.connector);
        Ok(record.id)
    }

    /// The login hook: may `username` log in? A user the sync disabled is looked up in the source
    /// first and reactivated (and updated) when the source says active; an unknown user is
    /// provisioned when the connector allows it. Every lookup is a recorded single-user run.
    pub fn on_login(&self, config: &Config, connector: &str, username: &str) -> Result<LoginDecision, EngineError> {
        let _call = self.enter()?;
        let c = runner::connector(config, Some(connector))?;
        let find = || -> Result<Option<crate::model::DirectoryUser>, EngineError> {
            Ok(self.shared.directory.find_user(username)?)
        };
        let decide =
            |allow: bool, reason: &str, run_id: Option<i64>| LoginDecision { allow, reason: reason.into(), run_id };
        let identity = |key: &str| -> Result<Option<crate::model::Identity>, EngineError> {
            Ok(self.shared.store.identities(&c.id)?.into_iter().find(|i| i.key == key))
        };
        let lookup = match find()? {
            Some(u) if u.active => {
                self.logged_in(&u.key);
                return Ok(decide(true, "active", None));
            }
            Some(u) => match identity(&u.key)? {
                Some(i)
                    if i.disabled_by_sync_at.is_some()
                        || i.anonymised
                        || c.lifecycle.reactivate == crate::config::Reactivate::Always =>
                {
                    i.idp_id.to_string()
                }
                Some(_) => return Ok(decide(false, "disabled in the directory, not by the sync", None)),
                None => return Ok(decide(false, "disabled, and not managed by this connector", None)),
            },
            None if c.provision_on_login => username.to_string(),
            None => {
                return Ok(decide(false, "unknown user; just-in-time provisioning is off for this connector", None))
            }
        };
        let request = RunRequest {
            connector: Some(c.id.clone()),
            mode: Mode::SingleUser(lookup),
            simulate: false,
            trigger: "login".into(),
            scheduled_for: None,
        };
        let report = match run_on(&self.shared, config, &request, Arc::default(), None, &|_| {}) {
            Ok(r) => r,
            Err(EngineError::Busy(_)) => {
                return Ok(decide(false, "a sync of this connector is running; try again shortly", None))
            }
            Err(e) => return Err(e),
        };
        let run = Some(report.run_id);
        let found = find()?;
        if let Some(u) = found.as_ref().filter(|u| u.active) {
            self.logged_in(&u.key);
        }
        Ok(match found {
            Some(u) if u.active && report.counts.created > 0 => {
                decide(true, "provisioned just in time from the source", run)
            }
            Some(u) if u.active => decide(true, "reactivated: active in the source", run),
            _ => {
                let why = report
                    .error
                    .clone()
                    .or_else(|| report.failures.first().map(|f| f.error.clone()))
                    .unwrap_or_else(|| "inactive or filtered out in the source".into());
                decide(false, &format!("not allowed: {why}"), run)
            }
        })
    }

    /// A login the hook let through, for the directory's last-login time (the idle-user
    /// cleanup). A directory that cannot record it does not stop the login.
    fn logged_in(&self, key: &str) {
        if let Err(e) = self.shared.directory.record_login(key, (self.shared.clock)()) {
            tracing::warn!("could not record the login of user key {key}: {e}");
        }
    }

    /// The newest runs, without the configuration each recorded (that is in `run_details`): a
    /// history of a thousand runs stays a summary.
    pub fn history(&self, limit: usize) -> Result<Vec<RunRecord>, EngineError> {
        let _call = self.enter()?;
        let mut runs = self.shared.store.runs(None, limit)?;
        runs.iter_mut().for_each(|r| r.config = None);
        Ok(runs)
    }

    pub fn run_details(&self, run_id: i64) -> Result<(RunRecord, Vec<UserResult>), EngineError> {
        let _call = self.enter()?;
        let store = &self.shared.store;
        let run = store.run(run_id)?.ok_or_else(|| EngineError::Invalid(format!("no run with id {run_id}")))?;
        Ok((run, store.results(run_id)?))
    }

    /// Reads the source and shows how one user maps, rule by rule. Writes nothing.
    pub fn test_mapping(&self, config: &Config, connector: &str, user: &str) -> Result<MappingTest, EngineError> {
        let _call = self.enter()?;
        let c = runner::connector(config, Some(connector))?;
        let listing = inbound::open_source(&self.shared, c, &config.base_dir)
            .and_then(|mut src| src.fetch())
            .map_err(|e| EngineError::Invalid(e.to_string()))?;
        let source = listing.users.into_iter().find(|u| u.id == user).ok_or_else(|| {
            EngineError::Invalid(format!("no source user with id '{user}' in connector '{connector}'"))
        })?;
        let mut trace = MappingTrace::default();
        let result = match map_user(c, &source, Some(&mut trace)) {
            Mapped::User(d) => format!("synced as '{}'{}", d.username, if d.active { "" } else { " (inactive)" }),
            Mapped::Filtered { reason, .. } => format!("filtered out: {reason}"),
            Mapped::Invalid { location, message, .. } => format!("error at {location}: {message}"),
        };
        Ok(MappingTest { source, trace, result })
    }

    /// Tests a connector's connection without syncing: authenticates, reads a little, and says
    /// what is missing (a permission, a scope, a file) in plain words.
    pub fn check(&self, config: &Config, connector: &str) -> Result<CheckReport, EngineError> {
        let _call = self.enter()?;
        let c = runner::connector(config, Some(connector))?;
        let steps = match inbound::open_source(&self.shared, c, &config.base_dir) {
            Ok(mut source) => source.check(),
            Err(e) => vec![crate::connector::CheckStep::new("open the connector", Err(e.to_string()))],
        };
        Ok(CheckReport { connector: c.id.clone(), ok: steps.iter().all(|s| s.ok), steps })
    }

    /// Imports a configuration document into the state store, keeping secrets the document left
    /// out from the configuration it replaces.
    pub fn import_config(&self, name: &str, text: &str, base_dir: PathBuf) -> Result<Config, EngineError> {
        let mut value = crate::config::parse_document(name, text)?;
        let previous = self.stored_config()?;
        crate::config::merge_secrets(&mut value, previous.as_ref());
        let config = crate::config::parse_value(&value, base_dir.clone())
            .map_err(|errors| ConfigErrors { source_name: name.to_string(), errors })?;
        let stored = serde_json::to_string_pretty(&crate::config::export_value(&config, true)).expect("serialises");
        self.shared.store.put_config(&stored, &base_dir.to_string_lossy())?;
        Ok(config)
    }

    /// What `config` maps that this engine's directory cannot hold (a profile field Jira does not
    /// have, photos where there are no avatars), each error at its JSON path: the admin page
    /// shows them when a connector is saved rather than when it first runs.
    pub fn directory_errors(&self, config: &Config) -> Result<Vec<crate::config::ConfigError>, EngineError> {
        let caps = self
            .shared
            .directory
            .capabilities()
            .map_err(|e| EngineError::Invalid(format!("the directory could not say what it can hold: {e}")))?;
        Ok(config.connectors.iter().enumerate().flat_map(|(i, c)| runner::capability_errors(&caps, i, c)).collect())
    }

    /// The imported configuration's text and base directory, if any.
    pub(crate) fn stored_config_text(&self) -> Result<Option<(String, String)>, EngineError> {
        Ok(self.shared.store.config()?)
    }

    /// The imported configuration, if any.
    pub fn stored_config(&self) -> Result<Option<Config>, EngineError> {
        let Some((json, base)) = self.shared.store.config()? else { return Ok(None) };
        Ok(Some(Config::from_json("stored configuration", &json, PathBuf::from(base))?))
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.close();
    }
}
