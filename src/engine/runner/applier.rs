//! Writing plans to the directory a chunk of users at a time. A full run hands over the plans
//! that need no guard (nothing destructive in them: creations, updates, users in new groups)
//! while it is still planning, so a first sync of 100,000 people never holds every new user's
//! plan at once; the rest follow once the guard has seen them. Each chunk is one directory batch,
//! its photos download while the chunk before it is written, and its results and anchors are
//! recorded as soon as it is written.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use super::super::apply::{apply_guarded, prefetch_photos, tally, wants_photo, worth_keeping, Batch};
use super::super::{thread_cpu, Phase, Progress};
use super::{redact_results, retry_list, Outcome, Runner, CHUNK};
use crate::connector::Connector;
use crate::reconcile::{Plan, UserPlan};
use crate::store::{RunRecord, RunStatus, StateChanges, UserResult};

type Photos = HashMap<String, Result<Option<Vec<u8>>, String>>;

pub(super) struct Applier<'r, 'a> {
    runner: &'r Runner<'a>,
    pub record: &'r mut RunRecord,
    source: &'r mut dyn Connector,
    /// Groups created (or tried) in this run.
    groups_done: BTreeSet<String>,
    group_errors: Vec<String>,
    /// Plans gathered towards the next chunk.
    gathering: Vec<UserPlan>,
    /// The chunk to write next, and its photos (downloaded while the chunk before it was written).
    ready: Vec<UserPlan>,
    photos: Photos,
    results: Vec<UserResult>,
    shown: Vec<UserResult>,
    done: u64,
    total: Option<u64>,
    /// A failed commit or record, or a cancellation: nothing more is written.
    stopped: bool,
    cancelled: bool,
    /// Wall time and CPU time spent writing, for the run's timings.
    pub spent: Duration,
    pub cpu: Duration,
}

impl<'r, 'a> Applier<'r, 'a> {
    pub fn new(runner: &'r Runner<'a>, record: &'r mut RunRecord, source: &'r mut dyn Connector) -> Self {
        Applier {
            runner,
            record,
            source,
            groups_done: BTreeSet::new(),
            group_errors: Vec::new(),
            gathering: Vec::with_capacity(CHUNK),
            ready: Vec::new(),
            photos: HashMap::new(),
            results: Vec::with_capacity(CHUNK),
            shown: Vec::new(),
            done: 0,
            total: None,
            stopped: false,
            cancelled: false,
            spent: Duration::ZERO,
            cpu: Duration::ZERO,
        }
    }

    /// Takes plans that may be written now; `groups` are the groups the plan creates that
    /// earlier calls did not bring, which these users may be added to (each is created once,
    /// before any user is written into it).
    pub fn take(&mut self, plans: Vec<UserPlan>, groups: &[String]) {
        let (started, cpu) = (Instant::now(), thread_cpu());
        self.create_groups(groups);
        for p in plans {
            self.gathering.push(p);
            if self.gathering.len() >= CHUNK {
                self.step();
            }
        }
        self.spent += started.elapsed();
        self.cpu += thread_cpu().saturating_sub(cpu);
    }

    fn create_groups<'g>(&mut self, groups: impl IntoIterator<Item = &'g String>) {
        let simulate = self.runner.request.simulate;
        for g in groups {
            if simulate || self.groups_done.contains(g) {
                continue;
            }
            self.groups_done.insert(g.clone());
            match self.runner.engine.directory.create_group(g) {
                Ok(()) => self.record.writes += 1,
                Err(e) => self.group_errors.push(format!("creating group '{g}': {e}")),
            }
        }
    }

    /// One step of the pipeline: the gathered chunk becomes the ready one; the ready one (if
    /// any) is written meanwhile, while the gathered chunk's photos download.
    fn step(&mut self) {
        let following = std::mem::take(&mut self.gathering);
        if self.stopped {
            self.ready.clear();
            return;
        }
        if self.ready.is_empty() {
            self.photos =
                if self.runner.request.simulate { HashMap::new() } else { prefetch_photos(self.source, &following) };
            self.ready = following;
            return;
        }
        let chunk = std::mem::take(&mut self.ready);
        self.photos = self.write(chunk, &following);
        self.ready = following;
    }

    /// Writes one chunk as one batch and records it; returns the photos of `following`.
    fn write(&mut self, chunk: Vec<UserPlan>, following: &[UserPlan]) -> Photos {
        let runner = self.runner;
        let dir = runner.engine.directory.as_ref();
        let simulate = runner.request.simulate;
        let mut photos = std::mem::take(&mut self.photos);
        self.record.photo_downloads += photos.len() as u64;
        let mut progress = StateChanges::default();
        let (record, results, group_errors) = (&mut *self.record, &mut self.results, &mut self.group_errors);
        let (done, total, cancelled) = (&mut self.done, self.total, &mut self.cancelled);
        // The next chunk's photos download on another thread while this chunk is written
        // here: directory calls stay on the run's own thread. Without photos to fetch no
        // thread is started (a scoped thread registers the calling host thread with std).
        let write = || {
            let batch = Batch::begin(dir, simulate, group_errors);
            for user in chunk {
                // Cancellation takes effect between users, so nobody is left half-written.
                if runner.control.cancelled() {
                    *cancelled = true;
                    break;
                }
                let mut photo =
                    |id: &str| photos.remove(id).unwrap_or_else(|| Err("the photo was not downloaded".into()));
                let applied = apply_guarded(dir, user, simulate, record.started_at, &mut photo);
                record.writes += applied.writes;
                if !simulate {
                    progress.upsert.extend(applied.identity);
                    progress.remove.extend(applied.forget);
                }
                tally(&mut record.counts, &applied.result);
                if worth_keeping(&applied.result) {
                    results.push(applied.result);
                }
                *done += 1;
                // Hosts polling `progress` see every user; the callback hears every 100th.
                let p =
                    Progress { run_id: record.id, phase: Phase::Applying, done: *done, total, counts: record.counts };
                runner.control.set_progress(p);
                if *done % 100 == 1 || Some(*done) == total {
                    (runner.progress)(&p);
                }
            }
            batch.end()
        };
        let source = &mut *self.source;
        let (next_photos, committed) = if !simulate && following.iter().any(wants_photo) {
            std::thread::scope(|scope| {
                let fetcher = scope.spawn(|| prefetch_photos(source, following));
                let committed = write();
                (fetcher.join().unwrap_or_default(), committed)
            })
        } else {
            (HashMap::new(), write())
        };
        if let Err(e) = committed {
            // Nothing of this chunk is recorded as done: its writes are not in the directory.
            self.record.error = Some(format!("the directory could not commit a batch of writes; the run stopped: {e}"));
            self.results.clear();
            self.stopped = true;
            return HashMap::new();
        }
        // What this chunk wrote is recorded now: results and anchors are not held for the
        // whole run, and a run that dies keeps the anchors of the users it wrote.
        redact_results(&mut self.results);
        if let Err(e) = runner.engine.store.record_progress(self.record, &self.results, &progress) {
            self.record.error = Some(format!("recording the run's progress: {e}"));
            self.stopped = true;
            return HashMap::new();
        }
        self.shown.extend(self.results.drain(..).filter(|r| r.error.is_some() || !r.held.is_empty()));
        self.stopped |= self.cancelled;
        next_photos
    }

    /// Writes the rest of the plan (what the guard has seen) and says how the run ended.
    pub fn finish(mut self, plan: Plan) -> Outcome {
        let (started, cpu) = (Instant::now(), thread_cpu());
        let simulate = self.runner.request.simulate;
        let mut changes = StateChanges { remove: plan.forget.clone(), ..StateChanges::default() };
        self.create_groups(&plan.create_groups);
        self.record.counts.unchanged += plan.unchanged as u64;
        let pending = self.gathering.len() + self.ready.len() + plan.users.len();
        self.total = Some(self.done + pending as u64);
        for p in plan.users {
            self.gathering.push(p);
            if self.gathering.len() >= CHUNK {
                self.step();
            }
        }
        while !self.gathering.is_empty() || !self.ready.is_empty() {
            self.step();
        }
        let record = &mut *self.record;
        record.notes.extend(self.group_errors.iter().cloned());
        let failed = record.counts.failed > 0 || !self.group_errors.is_empty();
        record.status = if record.error.is_some() {
            RunStatus::Failed
        } else if self.cancelled {
            RunStatus::Cancelled
        } else if record.counts.held > 0 {
            RunStatus::Held
        } else if failed {
            RunStatus::PartiallyFailed
        } else {
            RunStatus::Done
        };
        if simulate {
            // A simulation changes nothing, not even the engine's memory of anchors.
            changes = StateChanges::default();
        } else {
            changes.managed_groups = Some(plan.managed_groups);
        }
        let retry = retry_list(record.status, &self.shown, self.group_errors.is_empty());
        self.spent += started.elapsed();
        self.cpu += thread_cpu().saturating_sub(cpu);
        Outcome { results: self.results, shown: self.shown, changes, retry }
    }
}
