//! One run from start to record. Every exit path after `begin_run` finishes the run record.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use super::apply::worth_keeping;
use super::delta_state::DeltaState;
use super::lease::{self, Keeper};
mod applier;

use applier::Applier;

use super::mapper::Mapper;
use super::snapshot::DirState;
use super::{
    thread_cpu, EngineError, Failure, HeldUser, Mode, Phase, Progress, RunControl, RunReport, RunRequest, Shared,
    Timings,
};
use crate::config::{export_value, parse_value, Config, ConfigErrors, ConnectorConfig};
use crate::connector::{self, Listing, SourceError};
use crate::mapping::Mapped;
use crate::model::Identity;
use crate::reconcile::{guard, Approval, Early, Planner, Scope, UserPlan};
use crate::store::{Counts, RunRecord, RunStatus, StateChanges, UserResult};

/// Users applied per chunk: their photos download in parallel (at most this many images held in
/// memory) and their writes form one directory batch.
const CHUNK: usize = 256;

pub(super) struct Runner<'a> {
    engine: &'a Arc<Shared>,
    control: &'a Arc<RunControl>,
    config: &'a Config,
    connector: &'a ConnectorConfig,
    request: &'a RunRequest,
    progress: &'a dyn Fn(&Progress),
    timings: Cell<Timings>,
}

/// The connector a request names, or the only one there is.
pub(super) fn connector<'c>(config: &'c Config, id: Option<&str>) -> Result<&'c ConnectorConfig, EngineError> {
    let ids = || config.connectors.iter().map(|c| c.id.as_str()).collect::<Vec<_>>().join(", ");
    match id {
        Some(id) => config
            .connector(id)
            .ok_or_else(|| EngineError::Invalid(format!("no connector with id '{id}' (configured: {})", ids()))),
        None if config.connectors.len() == 1 => Ok(&config.connectors[0]),
        None if config.connectors.is_empty() => Err(EngineError::Invalid("no connector is configured yet".into())),
        None => Err(EngineError::Invalid(format!(
            "several connectors are configured ({}); name one with --connector",
            ids()
        ))),
    }
}

/// The configuration a run recorded, for approving it later without the original file.
pub(super) fn recorded_config(run: &RunRecord) -> Result<Config, EngineError> {
    let snapshot = run
        .config
        .as_ref()
        .ok_or_else(|| EngineError::Invalid(format!("run {} recorded no configuration; pass one", run.id)))?;
    let base = snapshot.get("base_dir").and_then(|b| b.as_str()).unwrap_or_default();
    let connector = snapshot.get("connector").cloned().unwrap_or_default();
    let doc = serde_json::json!({ "connectors": [connector] });
    parse_value(&doc, base.into()).map_err(|errors| {
        EngineError::Config(ConfigErrors { source_name: format!("configuration recorded by run {}", run.id), errors })
    })
}

/// The parts of an incremental round a run uses.
fn round(d: connector::DeltaListing) -> Round {
    let scope = if d.full { Scope::Full } else { Scope::Partial };
    (d.listing, d.removed, scope, d.groups_read, Some(d.next_token).filter(|t| !t.is_empty()))
}

/// Reads again, by id, the users the last round could not apply and adds them to this round's
/// listing (those it read anyway, or that the source removed, are not read twice). A source that
/// cannot read users by id leaves them to the next full run, and the run says so.
fn retry_failed(
    source: &mut dyn connector::Connector,
    round: &mut Round,
    retry: Vec<String>,
    record: &mut RunRecord,
) -> Result<(), SourceError> {
    let (listing, removed) = (&mut round.0, &round.1);
    let seen: HashSet<&str> =
        listing.users.iter().map(|u| u.id.as_str()).chain(removed.iter().map(String::as_str)).collect();
    let wanted: Vec<String> = retry.into_iter().filter(|id| !seen.contains(id.as_str())).collect();
    if wanted.is_empty() {
        return Ok(());
    }
    match source.fetch_ids(&wanted)? {
        Some(again) => {
            record.notes.push(format!("read again {} user(s) that failed in the last round", wanted.len()));
            listing.users.extend(again.users);
            listing.row_errors.extend(again.row_errors);
            listing.notes.extend(again.notes);
        }
        None => record.notes.push(format!(
            "{} user(s) that failed in the last round are read again by the next full run: this source \
             cannot read a user by id",
            wanted.len()
        )),
    }
    Ok(())
}

/// An incremental round as the run uses it: listing, removed ids, scope, whether groups were
/// read, and the token to store.
type Round = (Listing, Vec<String>, Scope, bool, Option<String>);

/// What a run read from its source.
struct Fetched {
    /// The open source, for photo downloads while applying.
    source: Box<dyn connector::Connector>,
    listing: Listing,
    /// Ids the source reported as removed (an incremental round).
    removed: Vec<String>,
    scope: Scope,
    groups_read: bool,
    /// The token to store if the run ends DONE.
    next_token: Option<String>,
}

/// A run whose record exists (it has an id) and whose lock is held.
pub(super) struct Started {
    pub record: RunRecord,
    locked: bool,
}

impl<'a> Runner<'a> {
    pub fn new(
        engine: &'a Arc<Shared>,
        config: &'a Config,
        request: &'a RunRequest,
        control: &'a Arc<RunControl>,
        progress: &'a dyn Fn(&Progress),
    ) -> Result<Self, EngineError> {
        let connector = connector(config, request.connector.as_deref())?;
        check_capabilities(engine, config, connector)?;
        Ok(Runner { engine, config, connector, request, control, progress, timings: Cell::default() })
    }

    /// Adds the time since `since` to one stage, and starts the next stage's clock.
    fn timed(&self, since: &mut Instant, stage: fn(&mut Timings) -> &mut f64) {
        let mut t = self.timings.get();
        *stage(&mut t) += since.elapsed().as_secs_f64();
        self.timings.set(t);
        *since = Instant::now();
    }

    fn report(&self, run_id: i64, phase: Phase, done: u64, total: Option<u64>) {
        self.report_counts(run_id, phase, done, total, Counts::default());
    }

    fn report_counts(&self, run_id: i64, phase: Phase, done: u64, total: Option<u64>, counts: Counts) {
        let p = Progress { run_id, phase, done, total, counts };
        self.control.set_progress(p);
        (self.progress)(&p);
    }

    /// A run whose record could not be written (a full disk, a store gone away) still ends
    /// with a final status if the store takes a smaller write: FAILED with the reason, no
    /// results, no state changes (what was applied per chunk is already recorded). Otherwise the
    /// lease marks it later; the lock is released by the caller either way.
    fn record_failure(&self, record: &RunRecord, e: &crate::store::StoreError) {
        let mut last = record.clone();
        last.status = RunStatus::Failed;
        last.error = Some(crate::redact::text(&format!("the run could not be recorded: {e}")));
        last.notes.clear();
        if let Err(again) = self.engine.store.finish_run(&last, &[], &StateChanges::default()) {
            tracing::error!(
                run = record.id,
                "run {} could not be recorded ({e}), nor marked failed ({again}); its lease will mark it",
                record.id
            );
        }
    }

    /// How far applying got, for the progress a run reports as it records and when it ended.
    fn applied_so_far(&self) -> (u64, Option<u64>) {
        let last = *super::lock(&self.control.progress);
        last.filter(|p| p.phase == Phase::Applying).map(|p| (p.done, p.total)).unwrap_or((0, None))
    }

    fn engine_now(&self) -> chrono::DateTime<chrono::Utc> {
        (self.engine.clock)()
    }

    fn lock_name(&self) -> String {
        format!("usersync:{}", self.connector.id)
    }

    /// Takes the connector's lock (not for simulations, which write nothing) and records the
    /// run as RUNNING. When a live run holds the lock, this one is recorded as SKIPPED and the
    /// answer is `Busy`.
    pub fn begin(&self, approves: Option<i64>) -> Result<Started, EngineError> {
        let locked = !self.request.simulate;
        let lease = self.config.operations.lease_seconds;
        if !lease::acquire(self.engine, &self.connector.id, &self.lock_name(), lease, locked)? {
            let skipped = self.record_skipped(approves)?;
            return Err(EngineError::Busy(format!(
                "another run of connector '{}' is in progress; this one was skipped (recorded as run {skipped})",
                self.connector.id
            )));
        }
        let started = self.record(approves);
        if started.is_err() && locked {
            self.unlock();
        }
        started.map(|record| Started { record, locked })
    }

    fn unlock(&self) {
        if let Err(e) = self.engine.directory.unlock(&self.lock_name()) {
            tracing::warn!("could not release the lock for connector '{}': {e}", self.connector.id);
        }
    }

    /// A run that did not start because another held the lock, in the history as SKIPPED.
    fn record_skipped(&self, approves: Option<i64>) -> Result<i64, EngineError> {
        let mut record = self.new_record(approves);
        record.status = RunStatus::Skipped;
        record.ended_at = Some(record.started_at);
        record.notes.push("another run of this connector held its lock".into());
        record.id = self.engine.store.begin_run(&record)?;
        self.engine.store.finish_run(&record, &[], &StateChanges::default())?;
        tracing::info!(
            run = record.id,
            "run {} of connector '{}' skipped: another run holds the connector's lock (trigger {})",
            record.id,
            record.connector,
            record.trigger
        );
        Ok(record.id)
    }

    fn new_record(&self, approves: Option<i64>) -> RunRecord {
        let mode = match (&self.request.mode, approves) {
            (_, Some(_)) => "approve",
            (Mode::Full, None) => "full",
            (Mode::Incremental, None) => "incremental",
            (Mode::SingleUser(_), None) => "single_user",
        };
        let snapshot = serde_json::json!({
            "connector": export_value(self.config, false)["connectors"]
                .as_array()
                .and_then(|list| list.iter().find(|c| c["id"] == self.connector.id.as_str()))
                .cloned(),
            "base_dir": self.config.base_dir.to_string_lossy(),
        });
        RunRecord {
            id: 0,
            connector: self.connector.id.clone(),
            trigger: self.request.trigger.clone(),
            mode: mode.into(),
            simulate: self.request.simulate,
            status: RunStatus::Running,
            started_at: (self.engine.clock)(),
            ended_at: None,
            counts: Counts::default(),
            writes: 0,
            photo_downloads: 0,
            error: None,
            hold_reason: None,
            // A scheduled run names its fire time, so each fire time can be traced to its run.
            notes: self
                .request
                .scheduled_for
                .map(|at| vec![format!("scheduled for {}", at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))])
                .unwrap_or_default(),
            approves,
            approved_by: None,
            config: Some(snapshot),
        }
    }

    fn record(&self, approves: Option<i64>) -> Result<RunRecord, EngineError> {
        let mut record = self.new_record(approves);
        let mode = record.mode.clone();
        record.id = self.engine.store.begin_run(&record)?;
        tracing::info!(
            run = record.id,
            "run {} started: connector '{}', mode {}{}, trigger {}",
            record.id,
            record.connector,
            mode,
            if record.simulate { " (simulation)" } else { "" },
            record.trigger
        );
        Ok(record)
    }

    /// Executes a begun run, renewing its lease meanwhile, records it and releases the lock,
    /// whatever happens; then prunes the history as configured.
    pub fn finish(&self, started: Started, approved: Option<&Approval>) -> Result<RunReport, EngineError> {
        let Started { mut record, locked } = started;
        let keeper = Arc::new(Keeper::default());
        let (run_id, lease) = (record.id, self.config.operations.lease_seconds);
        // A thread of its own, not a scoped one: `thread::scope` registers the calling thread
        // (a host's) with std, an allocation valgrind reports against every host thread.
        let beating = {
            let (keeper, shared, control) = (keeper.clone(), self.engine.clone(), self.control.clone());
            std::thread::Builder::new()
                .name(format!("usersync-lease-{run_id}"))
                .spawn(move || keeper.keep(&shared, run_id, lease, &control))
        };
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.execute(&mut record, approved)));
        keeper.stop();
        match beating {
            Ok(t) => {
                let _ = t.join();
            }
            Err(e) => tracing::warn!(run = run_id, "run {run_id}: no thread to renew its lease ({e}); it runs without"),
        }
        let outcome = outcome.unwrap_or_else(|_| Err("internal error: the run stopped unexpectedly".into()));
        if keeper.lost() {
            record.notes.push(format!(
                "this run lost its lease (no heartbeat reached the state store for {lease} s) and stopped; another run may have taken over"
            ));
        }
        let result = self.conclude(record, outcome);
        // A run that lost its lease no longer owns the lock: another run may hold it now.
        if locked && !keeper.lost() {
            self.unlock();
        }
        self.prune();
        result
    }

    /// Applies the history retention; a failure is logged, never the run's.
    fn prune(&self) {
        let keep = &self.config.operations.history;
        let older_than = self.engine_now() - chrono::Duration::days(keep.keep_days.into());
        match self.engine.store.prune(keep.keep_runs as usize, older_than) {
            Ok(0) => {}
            Ok(n) => tracing::info!("history: removed {n} run(s) beyond the retention"),
            Err(e) => tracing::warn!("history: could not apply the retention: {e}"),
        }
    }

    fn conclude(&self, mut record: RunRecord, outcome: Result<Outcome, String>) -> Result<RunReport, EngineError> {
        let Outcome { mut results, mut shown, changes, .. } = match outcome {
            Ok(done) => done,
            Err(message) => {
                record.status = RunStatus::Failed;
                record.error = Some(message);
                Outcome::default()
            }
        };
        record.ended_at = Some((self.engine.clock)().max(record.started_at));
        let (done, total) = self.applied_so_far();
        self.report_counts(record.id, Phase::Recording, done, total, record.counts);
        results.retain(worth_keeping);
        redact_run(&mut record);
        redact_results(&mut results);
        redact_results(&mut shown);
        let mut clock = Instant::now();
        if let Err(e) = self.engine.store.finish_run(&record, &results, &changes) {
            self.record_failure(&record, &e);
            return Err(e.into());
        }
        self.report_counts(record.id, Phase::Finished, done, total, record.counts);
        shown.append(&mut results);
        let results = shown;
        self.timed(&mut clock, |t| &mut t.record_s);
        let c = &record.counts;
        tracing::info!(
            run = record.id,
            "run {} of connector '{}' finished: {} (created {}, updated {}, disabled {}, failed {}, held {}; {} writes)",
            record.id,
            record.connector,
            record.status,
            c.created,
            c.updated,
            c.disabled,
            c.failed,
            c.held,
            record.writes
        );
        Ok(report(&record, &results, self.timings.get()))
    }

    /// Fetch, map, plan, guard and apply. `Err` is a run-level failure (the source could not be
    /// read, the directory could not be listed): nothing was written.
    fn execute(&self, record: &mut RunRecord, approved: Option<&Approval>) -> Result<Outcome, String> {
        let run_id = record.id;
        let store = self.engine.store.as_ref();
        self.report(run_id, Phase::Fetching, 0, None);
        let mut clock = Instant::now();
        let identities = store.identities(&self.connector.id).map_err(|e| e.to_string())?;
        let source = super::inbound::open_source(self.engine, self.connector, &self.config.base_dir)
            .map_err(|e| format!("source: {e}"))?;
        let delta = match self.request.mode {
            Mode::Incremental => self.stored_delta(record)?,
            _ => None,
        };
        // A full run reads the directory first and plans while the source is read: users in step
        // are let go as they are mapped (reconcile::Planner), not held next to the directory. So
        // does a first incremental round where the source hands its users over as it reads.
        let first_round_streams =
            self.request.mode == Mode::Incremental && delta.is_none() && source.streams_first_round();
        let early = match self.request.mode {
            Mode::Full => Some(self.read_state(Scope::Full, &[], &[], &identities)?),
            _ if first_round_streams => Some(self.read_state(Scope::Full, &[], &[], &identities)?),
            _ => None,
        };
        self.timed(&mut clock, |t| &mut t.read_state_s);
        let mut mapper = Mapper::new(self.connector, self.engine_now());
        if let Some(state) = &early {
            mapper.planner = Some(Planner::new(state.context(self.connector, Scope::Full, &identities, record)));
        }
        let fetched = self.fetch(record, source, &mut mapper, &identities, delta)?;
        if early.is_some() && fetched.scope != Scope::Full {
            // Planned as a full run, so absence would read as removal: never go on.
            return Err("source: a first incremental round that did not list every user".into());
        }
        // Mapping done while reading counts as mapping, not reading.
        let mut t = self.timings.get();
        t.fetch_s += (clock.elapsed().saturating_sub(mapper.elapsed)).as_secs_f64();
        self.timings.set(t);
        if self.control.cancelled() {
            record.status = RunStatus::Cancelled;
            return Ok(Outcome::default());
        }
        let Fetched { mut source, listing, removed, scope, groups_read, next_token } = fetched;
        let Listing { users, row_errors, complete, notes, retracted, .. } = listing;
        record.notes.extend(notes);
        // An incremental round that found nothing has nothing to reconcile: the directory is not
        // listed (at 100,000 users that listing was most of such a run's time and memory).
        let quiet = scope == Scope::Partial && users.is_empty() && removed.is_empty() && row_errors.is_empty();
        if quiet && self.request.mode == Mode::Incremental && mapper.kept() == 0 {
            record.status = RunStatus::Done;
            record.notes.push("nothing changed in the source since the last run".into());
            let mut outcome = Outcome::default();
            if !self.request.simulate {
                outcome.changes.delta_token = next_token.map(Some);
            }
            return Ok(outcome);
        }
        // Users a full listing handed over as it read them are mapped already.
        for user in users {
            mapper.push(user, groups_read);
        }
        mapper.flush();
        mapper.retract(&retracted);
        let planner = mapper.planner.take();
        let in_step = planner.as_ref().map_or(0, Planner::unchanged);
        let kept = mapper.mapped.len() + planner.as_ref().map_or(0, Planner::held);
        let listing_empty = scope == Scope::Full && kept == 0 && in_step == 0 && row_errors.is_empty();
        let listed = (kept + in_step) as u64;
        self.report(run_id, Phase::Mapping, listed, Some(listed));
        let (mut mapped, unidentified) =
            self.finish_mapping(std::mem::take(&mut mapper.mapped), row_errors, &identities)?;
        // The mapped users are held through reconcile, next to the directory: without the slack
        // their vector grew with (up to half again at 100,000 users).
        mapped.shrink_to_fit();
        let mut t = self.timings.get();
        t.map_s += mapper.elapsed.as_secs_f64();
        t.engine_cpu_s += mapper.cpu.as_secs_f64();
        t.rules_skipped += mapper.skipped.get();
        self.timings.set(t);
        clock = Instant::now();

        self.report(run_id, Phase::Planning, 0, None);
        let mut late = None;
        let planner = match planner {
            Some(planner) => planner,
            None => {
                let state = late.insert(self.read_state(scope, &mapped, &removed, &identities)?);
                Planner::new(state.context(self.connector, scope, &identities, record))
            }
        };
        self.timed(&mut clock, |t| &mut t.read_state_s);
        let cpu = thread_cpu();
        // A full run writes the plans the guard never holds while it plans the rest.
        let streams = early.is_some();
        let mut applier = Applier::new(self, record, source.as_mut());
        let mut write_now = |plans: Vec<UserPlan>, groups: &[String]| applier.take(plans, groups);
        let sink: Option<Early> = if streams { Some(&mut write_now) } else { None };
        let mut plan = planner.plan(mapped, unidentified, removed, complete, sink);
        // Every run that can change many users is guarded; a single-user run cannot.
        if !matches!(self.request.mode, Mode::SingleUser(_)) {
            guard(&mut plan, &self.connector.safety, listing_empty, approved);
        }
        applier.record.hold_reason = plan.hold.clone();
        applier.record.notes.extend(plan.notes.iter().cloned());
        // Writing done while planning counts as writing.
        let (spent, written_cpu) = (applier.spent, applier.cpu);
        let mut t = self.timings.get();
        t.engine_cpu_s += thread_cpu().saturating_sub(cpu).saturating_sub(written_cpu).as_secs_f64();
        t.reconcile_s += clock.elapsed().saturating_sub(spent).as_secs_f64();
        t.apply_s += spent.as_secs_f64();
        self.timings.set(t);
        clock = Instant::now();
        // Releasing the directory snapshot is the other half of reading it.
        drop(early);
        drop(late);
        self.timed(&mut clock, |t| &mut t.read_state_s);
        let pending_keys = std::mem::take(&mut plan.manager_keys);
        let mut outcome = applier.finish(plan);
        if !pending_keys.is_empty() {
            self.write_manager_keys(record, &pending_keys);
        }
        self.timed(&mut clock, |t| &mut t.apply_s);
        // A delta token moves on when every change it covers was applied, or failed for a user
        // the next round can read again by id.
        if !self.request.simulate {
            if let (Some(token), Some(retry)) = (next_token, outcome.retry.take()) {
                outcome.changes.delta_token = Some(Some(DeltaState { token, retry }.encode()));
            }
        }
        Ok(outcome)
    }

    /// The directory users, groups and claims a plan is made against.
    fn read_state(
        &self,
        scope: Scope,
        mapped: &[Mapped],
        removed: &[String],
        identities: &[Identity],
    ) -> Result<DirState, String> {
        DirState::read(self.engine, self.config, self.connector, scope, mapped, removed, identities)
    }

    /// The keys of managers this run created or linked, written to their reports' target now
    /// that they exist (reconcile could not know them). Said in the run's notes.
    fn write_manager_keys(&self, record: &mut RunRecord, pending: &[(String, String)]) {
        let Some(rule) = &self.connector.manager else { return };
        if self.request.simulate {
            let n = pending.len();
            record.notes.push(format!("{n} user(s) get the key of a manager this run creates, once it exists"));
            return;
        }
        let identities = match self.engine.store.identities(&self.connector.id) {
            Ok(list) => list,
            Err(e) => {
                record.notes.push(format!("the keys of managers created in this run were not written: {e}"));
                return;
            }
        };
        let keys: HashMap<&str, &str> = identities.iter().map(|i| (i.idp_id.as_str(), i.key.as_str())).collect();
        let mut written = 0;
        for (report, manager) in pending {
            let (Some(r), Some(m)) = (keys.get(report.as_str()), keys.get(manager.as_str())) else { continue };
            match self.engine.directory.set_field(r, &rule.target, Some(m)) {
                Ok(()) => written += 1,
                Err(e) => record.notes.push(format!("the key of manager {manager} was not written for {report}: {e}")),
            }
        }
        record.writes += written;
        if written > 0 {
            record.notes.push(format!("wrote the key of a manager created in this run for {written} user(s)"));
        }
    }

    /// Reads the source: a full listing, or an incremental round from the stored token (falling
    /// back to a full round when the token expired or the source has no incremental reads).
    /// A full listing is mapped as it is read (`mapper`); other reads return their users.
    fn fetch(
        &self,
        record: &mut RunRecord,
        mut source: Box<dyn connector::Connector>,
        mapper: &mut Mapper,
        identities: &[Identity],
        delta: Option<DeltaState>,
    ) -> Result<Fetched, String> {
        let full = |listing| (listing, Vec::new(), Scope::Full, true, None);
        let (listing, removed, scope, groups_read, next_token) = match &self.request.mode {
            Mode::Full => source.fetch_each(&mut |u| mapper.push(u, true)).map(full),
            Mode::SingleUser(wanted) => {
                // A known user is read alone where the source can; otherwise everything is read.
                // A SCIM push names the user by its id, known or new.
                let pushed = self.connector.kind == crate::config::ConnectorKind::ScimInbound;
                let id = identities
                    .iter()
                    .find(|i| i.idp_id == *wanted || i.username.eq_ignore_ascii_case(wanted))
                    .map(|i| i.idp_id.to_string())
                    .or_else(|| pushed.then(|| wanted.clone()));
                let one = match id {
                    Some(id) => source.fetch_one(&id),
                    None => Ok(None),
                };
                match one {
                    Ok(Some(listing)) => Ok(listing),
                    Ok(None) => source.fetch(),
                    Err(e) => Err(e),
                }
                .map(|l| (l, Vec::new(), Scope::Partial, true, None))
            }
            Mode::Incremental => {
                let (token, retry) = match delta {
                    Some(s) => (Some(s.token), s.retry),
                    None => (None, Vec::new()),
                };
                let first = match token {
                    Some(token) => source.delta(Some(&token)),
                    None => source.delta_first_each(&mut |u| mapper.push(u, true)),
                };
                match first {
                    Err(SourceError::DeltaExpired(why)) => {
                        record.notes.push(format!("{why}; ran a full round instead"));
                        source.delta_first_each(&mut |u| mapper.push(u, true)).map(round)
                    }
                    Err(SourceError::NoIncremental(_)) => {
                        record.notes.push("this source reads only full listings; ran a full sync".into());
                        source.fetch_each(&mut |u| mapper.push(u, true)).map(full)
                    }
                    other => other.map(round),
                }
                .and_then(|mut r| {
                    if r.2 == Scope::Partial && !retry.is_empty() {
                        retry_failed(source.as_mut(), &mut r, retry, record)?;
                    }
                    Ok(r)
                })
            }
        }
        .map_err(|e| format!("source: {e}"))?;
        if self.request.mode == Mode::Incremental && scope == Scope::Full {
            // Recorded as what it was, so the next runs count incremental runs from here.
            record.mode = "full".into();
        }
        Ok(Fetched { source, listing, removed, scope, groups_read, next_token })
    }

    /// The stored delta state an incremental run goes on from; `None` for a first round (no
    /// token yet, or a periodic full reconcile is due, which the run's notes say).
    fn stored_delta(&self, record: &mut RunRecord) -> Result<Option<DeltaState>, String> {
        let stored = self.engine.store.delta_token(&self.connector.id).map_err(|e| e.to_string())?;
        let Some(state) = stored.map(DeltaState::decode) else { return Ok(None) };
        match self.full_reconcile_due(record).map_err(|e| e.to_string())? {
            Some(why) => {
                record.notes.push(format!("a periodic full reconcile: {why}"));
                Ok(None)
            }
            None => Ok(Some(state)),
        }
    }

    /// Why this incremental run should read everything instead, if it should: too many
    /// incremental runs, or too long, since the last full one.
    fn full_reconcile_due(&self, record: &RunRecord) -> Result<Option<String>, EngineError> {
        let policy = &self.connector.full_reconcile;
        let mut incremental = 0u32;
        // Enough history to find the last full run behind `every_runs` incremental ones, allowing
        // for simulations and failed runs in between.
        let window = (policy.every_runs as usize).saturating_mul(4).saturating_add(50);
        for run in self.engine.store.runs(Some(&self.connector.id), window)? {
            if run.simulate || run.id == record.id {
                continue;
            }
            if !matches!(run.status, RunStatus::Done | RunStatus::PartiallyFailed) {
                continue;
            }
            match run.mode.as_str() {
                "incremental" => incremental += 1,
                "full" | "approve" => {
                    let age = record.started_at - run.started_at;
                    if age >= chrono::Duration::hours(policy.max_age_hours.into()) {
                        return Ok(Some(format!("the last full run is older than {} hours", policy.max_age_hours)));
                    }
                    break;
                }
                _ => {}
            }
            if incremental >= policy.every_runs {
                return Ok(Some(format!("{incremental} incremental runs since the last full run")));
            }
        }
        Ok(None)
    }

    /// Adds the rows that could not be read to the mapped users; in single-user mode keeps only
    /// the one asked for.
    #[allow(clippy::type_complexity)]
    fn finish_mapping(
        &self,
        mut mapped: Vec<Mapped>,
        row_errors: Vec<connector::RowError>,
        identities: &[Identity],
    ) -> Result<(Vec<Mapped>, Vec<(String, String)>), String> {
        let mut unidentified = Vec::new();
        for e in row_errors {
            match e.idp_id {
                Some(idp_id) => mapped.push(Mapped::Invalid { idp_id, location: e.location, message: e.message }),
                None => unidentified.push((e.location, e.message)),
            }
        }
        if let Mode::SingleUser(wanted) = &self.request.mode {
            let anchored: HashSet<&str> = identities
                .iter()
                .filter(|i| i.username.eq_ignore_ascii_case(wanted))
                .map(|i| i.idp_id.as_str())
                .collect();
            mapped.retain(|m| match m {
                Mapped::User(d) => {
                    d.idp_id == *wanted
                        || d.username.eq_ignore_ascii_case(wanted)
                        || anchored.contains(d.idp_id.as_str())
                }
                Mapped::Filtered { idp_id, .. } | Mapped::Invalid { idp_id, .. } => {
                    idp_id == wanted || anchored.contains(idp_id.as_str())
                }
            });
            if mapped.is_empty() {
                return Err(format!("no source user with id or username '{wanted}'"));
            }
            unidentified.clear();
        }
        Ok((mapped, unidentified))
    }
}

/// What a run leaves for its record: results not yet stored, stored ones the report names
/// (failures, holds), and the state changes to commit with the run.
#[derive(Default)]
pub(super) struct Outcome {
    results: Vec<UserResult>,
    shown: Vec<UserResult>,
    changes: StateChanges,
    /// When the run's delta token may move on: the source ids to read again next round.
    retry: Option<Vec<String>>,
}

/// Whether a finished apply lets the delta token move on, and which users the next round reads
/// again: all applied (none), or only users failed that are known by source id. Anything else
/// (a hold, a cancel, a failed group, a failure without an id) keeps the old token.
fn retry_list(status: RunStatus, shown: &[UserResult], groups_ok: bool) -> Option<Vec<String>> {
    match status {
        RunStatus::Done => Some(Vec::new()),
        RunStatus::PartiallyFailed if groups_ok => {
            let failed: Vec<&UserResult> = shown.iter().filter(|r| r.error.is_some()).collect();
            let ids: Vec<String> = failed.iter().filter_map(|r| r.idp_id.clone()).collect();
            (!failed.is_empty() && ids.len() == failed.len()).then_some(ids)
        }
        _ => None,
    }
}

fn check_capabilities(engine: &Shared, config: &Config, connector: &ConnectorConfig) -> Result<(), EngineError> {
    let caps = engine
        .directory
        .capabilities()
        .map_err(|e| EngineError::Invalid(format!("the directory could not say what it can hold: {e}")))?;
    let index = config.connectors.iter().position(|c| c.id == connector.id).unwrap_or(0);
    let errors = capability_errors(&caps, index, connector);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(EngineError::Config(ConfigErrors { source_name: "configuration".into(), errors }))
    }
}

/// What connector `index` maps to that the directory cannot hold, each at its path.
pub(super) fn capability_errors(
    caps: &crate::directory::Capabilities,
    index: usize,
    connector: &ConnectorConfig,
) -> Vec<crate::config::ConfigError> {
    let mut errors: Vec<_> = connector
        .mapping
        .iter()
        .enumerate()
        .filter(|(_, r)| !caps.supports(&r.target))
        .map(|(i, r)| crate::config::ConfigError {
            path: format!("connectors[{index}].mapping[{i}].target"),
            message: format!("'{}' is not available in this directory", r.target),
        })
        .collect();
    if let Some(m) = connector.manager.as_ref().filter(|m| !caps.supports(&m.target)) {
        errors.push(crate::config::ConfigError {
            path: format!("connectors[{index}].manager.target"),
            message: format!("'{}' is not available in this directory", m.target),
        });
    }
    if connector.photos && !caps.avatars {
        errors.push(crate::config::ConfigError {
            path: format!("connectors[{index}].photos"),
            message: "this directory does not store avatars".into(),
        });
    }
    errors
}

fn report(record: &RunRecord, results: &[UserResult], timings: Timings) -> RunReport {
    let name = |r: &UserResult| {
        if !r.username.is_empty() {
            r.username.clone()
        } else {
            r.idp_id.clone().unwrap_or_else(|| "(unidentified record)".into())
        }
    };
    RunReport {
        run_id: record.id,
        status: record.status,
        mode: record.mode.clone(),
        simulate: record.simulate,
        connector: record.connector.clone(),
        counts: record.counts,
        writes: record.writes,
        photo_downloads: record.photo_downloads,
        error: record.error.clone(),
        hold_reason: record.hold_reason.clone(),
        notes: record.notes.clone(),
        failures: results
            .iter()
            .filter_map(|r| {
                r.error.as_ref().map(|e| Failure { user: name(r), location: r.location.clone(), error: e.clone() })
            })
            .collect(),
        held: results
            .iter()
            .filter(|r| !r.held.is_empty())
            .map(|r| HeldUser {
                username: name(r),
                operations: r.held.iter().map(|op| op.kind().to_string()).collect(),
            })
            .collect(),
        timings,
    }
}

/// What a run records passes the redaction layer first: errors and notes may quote a provider
/// that echoed a credential, or a file the configuration pointed at.
fn redact_run(record: &mut RunRecord) {
    record.error.iter_mut().chain(record.hold_reason.iter_mut()).chain(record.notes.iter_mut()).for_each(clean);
}

fn redact_results(results: &mut [UserResult]) {
    for r in results {
        r.reason.iter_mut().chain(r.error.iter_mut()).chain(r.location.iter_mut()).for_each(clean);
        r.ops.iter_mut().filter_map(|o| o.error.as_mut()).for_each(clean);
    }
}

fn clean(s: &mut String) {
    if let std::borrow::Cow::Owned(c) = crate::redact::clean(s) {
        *s = c;
    }
}
