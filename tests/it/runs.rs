//! Runs on their own threads: progress, cancellation between users, close, and a directory
//! that fails badly for one user.

use std::collections::BTreeSet;
use std::sync::{Arc, Condvar, Mutex};

use serde_json::json;
use usersync::directory::local::LocalDirectory;
use usersync::directory::{Capabilities, DirError, Directory, NewUser};
use usersync::engine::{Engine, Phase, RunRequest};
use usersync::model::{DirectoryUser, Target};
use usersync::store::sqlite::SqliteStore;
use usersync::store::RunStatus;

use crate::support::{connector, people, Harness};

/// The local directory, with hooks: `create_user` can be paused after N creations, and can
/// panic for one username. Its locks belong to the thread that took them, as a cluster lock in
/// Jira or Confluence does (`java.util.concurrent.locks.Lock`): another thread cannot release one.
pub(crate) struct Hooked {
    inner: LocalDirectory,
    gate: Arc<Gate>,
    panic_on: Option<String>,
    /// Batches are passed to the local directory; with this set, every commit fails.
    fail_commit: bool,
}

#[derive(Default)]
pub(crate) struct Gate {
    state: Mutex<(usize, bool)>, // (creations so far, open)
    changed: Condvar,
    pause_after: usize,
    lock_owners: Mutex<std::collections::HashMap<String, std::thread::ThreadId>>,
}

impl Gate {
    pub(crate) fn wait_for(&self, creations: usize) {
        let mut s = self.state.lock().unwrap();
        while s.0 < creations {
            s = self.changed.wait(s).unwrap();
        }
    }
    pub(crate) fn open(&self) {
        self.state.lock().unwrap().1 = true;
        self.changed.notify_all();
    }
}

impl Directory for Hooked {
    fn capabilities(&self) -> Result<Capabilities, DirError> {
        self.inner.capabilities()
    }
    fn list_users(&self) -> Result<Vec<DirectoryUser>, DirError> {
        self.inner.list_users()
    }
    fn list_groups(&self) -> Result<BTreeSet<String>, DirError> {
        self.inner.list_groups()
    }
    fn create_user(&self, user: &NewUser) -> Result<String, DirError> {
        if self.panic_on.as_deref() == Some(user.username.as_str()) {
            panic!("the host directory broke");
        }
        let key = self.inner.create_user(user)?;
        let mut s = self.gate.state.lock().unwrap();
        s.0 += 1;
        self.gate.changed.notify_all();
        while self.gate.pause_after > 0 && s.0 >= self.gate.pause_after && !s.1 {
            s = self.gate.changed.wait(s).unwrap();
        }
        Ok(key)
    }
    fn update_core(&self, key: &str, changes: &[(Target, Option<String>)]) -> Result<(), DirError> {
        self.inner.update_core(key, changes)
    }
    fn rename(&self, key: &str, new_username: &str) -> Result<(), DirError> {
        self.inner.rename(key, new_username)
    }
    fn set_active(&self, key: &str, active: bool) -> Result<(), DirError> {
        self.inner.set_active(key, active)
    }
    fn delete_user(&self, key: &str) -> Result<(), DirError> {
        self.inner.delete_user(key)
    }
    fn anonymise(&self, key: &str) -> Result<String, DirError> {
        self.inner.anonymise(key)
    }
    fn set_field(&self, key: &str, target: &Target, value: Option<&str>) -> Result<(), DirError> {
        self.inner.set_field(key, target, value)
    }
    fn add_membership(&self, key: &str, group: &str) -> Result<(), DirError> {
        self.inner.add_membership(key, group)
    }
    fn remove_membership(&self, key: &str, group: &str) -> Result<(), DirError> {
        self.inner.remove_membership(key, group)
    }
    fn create_group(&self, name: &str) -> Result<(), DirError> {
        self.inner.create_group(name)
    }
    fn set_avatar(&self, key: &str, image: &[u8]) -> Result<(), DirError> {
        self.inner.set_avatar(key, image)
    }
    fn begin_batch(&self) -> Result<(), DirError> {
        match self.fail_commit {
            true => self.inner.begin_batch(),
            false => Ok(()),
        }
    }
    fn end_batch(&self) -> Result<(), DirError> {
        match self.fail_commit {
            true => Err(DirError::Failed("disk I/O error".into())),
            false => Ok(()),
        }
    }
    fn try_lock(&self, name: &str, ttl_seconds: u64) -> Result<bool, DirError> {
        let taken = self.inner.try_lock(name, ttl_seconds)?;
        if taken {
            self.gate.lock_owners.lock().unwrap().insert(name.to_string(), std::thread::current().id());
        }
        Ok(taken)
    }
    fn unlock(&self, name: &str) -> Result<(), DirError> {
        let mut owners = self.gate.lock_owners.lock().unwrap();
        if owners.get(name) != Some(&std::thread::current().id()) {
            return Err(DirError::Failed(format!("the lock {name} was released by a thread that does not own it")));
        }
        owners.remove(name);
        self.inner.unlock(name)
    }
}

pub(crate) fn hooked_engine(h: &Harness, pause_after: usize, panic_on: Option<&str>) -> (Engine, Arc<Gate>) {
    let gate = Arc::new(Gate { pause_after, ..Gate::default() });
    let dir = Hooked {
        inner: LocalDirectory::open(&h.path("hooked.db")).unwrap(),
        gate: gate.clone(),
        panic_on: panic_on.map(str::to_string),
        fail_commit: false,
    };
    let engine = Engine::new(Box::new(SqliteStore::open(&h.path("hooked-state.db")).unwrap()), Box::new(dir));
    (engine, gate)
}

#[test]
fn a_started_run_reports_progress_and_its_outcome() {
    let h = Harness::new();
    h.write_users(&people(30));
    let config = h.config(connector(json!({})));
    let id = h.engine.start(config.clone(), RunRequest::full(None)).unwrap();
    // Known the moment its id is returned, before its thread has done anything.
    let first = h.engine.progress(id).expect("progress right after start");
    assert_eq!(first.run_id, id);
    let report = h.engine.wait(id).unwrap();
    assert_eq!((report.run_id, report.status, report.counts.created), (id, RunStatus::Done, 30));
    let p = h.engine.progress(id).expect("progress of a known run");
    assert_eq!(p.phase, Phase::Finished);
    assert_eq!((p.done, p.total), (30, Some(30)), "a finished run says how far it got");
    assert_eq!(p.counts.created, 30, "the final counts travel with the progress");
    assert!(h.engine.progress(id + 100).is_none());
}

#[test]
fn a_started_run_takes_and_releases_its_lock_on_one_thread() {
    let h = Harness::new();
    h.write_users(&people(3));
    let config = h.config(connector(json!({})));
    let (engine, _gate) = hooked_engine(&h, 0, None);
    for created in [3, 0] {
        // Were the lock released by another thread than took it, it would stay held and the
        // second run would be skipped as busy.
        let id = engine.start(config.clone(), RunRequest::full(None)).unwrap();
        let report = engine.wait(id).unwrap();
        assert_eq!((report.status, report.counts.created), (RunStatus::Done, created));
    }
    // A request the runner refuses is refused by start itself, with the reason.
    assert!(engine.start(config, RunRequest::full(Some("nope"))).unwrap_err().to_string().contains("nope"));
}

#[test]
fn cancel_stops_between_users_and_keeps_what_was_applied() {
    let h = Harness::new();
    h.write_users(&people(20));
    let config = h.config(connector(json!({})));
    let (engine, gate) = hooked_engine(&h, 5, None);
    let id = engine.start(config.clone(), RunRequest::full(None)).unwrap();
    gate.wait_for(5);
    let p = engine.progress(id).unwrap();
    assert_eq!((p.phase, p.total), (Phase::Applying, Some(20)));
    assert!(engine.cancel(id));
    gate.open();
    let report = engine.wait(id).unwrap();
    assert_eq!(report.status, RunStatus::Cancelled);
    assert_eq!(report.counts.created, 5, "the user in progress is finished, no one after it is started");
    let users = engine.directory().list_users().unwrap();
    assert_eq!(users.len(), 5);
    assert!(users.iter().all(|u| u.groups.contains("Staff")), "no user is half-written");

    // The next run picks up where the cancelled one stopped: no duplicates, no failures.
    let next = engine.run(&config, &RunRequest::full(None), &|_| {}).unwrap();
    assert_eq!((next.status, next.counts.created, next.counts.failed), (RunStatus::Done, 15, 0));
    assert!(!engine.cancel(9999));
}

#[test]
fn close_cancels_running_runs_and_refuses_new_ones() {
    let h = Harness::new();
    h.write_users(&people(20));
    let config = h.config(connector(json!({})));
    let (engine, gate) = hooked_engine(&h, 3, None);
    let id = engine.start(config.clone(), RunRequest::full(None)).unwrap();
    gate.wait_for(3);
    let closer = std::thread::spawn({
        let gate = gate.clone();
        move || {
            std::thread::sleep(std::time::Duration::from_millis(50));
            gate.open();
        }
    });
    engine.close();
    closer.join().unwrap();
    assert_eq!(engine.wait(id).unwrap().status, RunStatus::Cancelled);
    let err = engine.start(config, RunRequest::full(None)).unwrap_err();
    assert!(err.to_string().contains("closed"), "{err}");
}

#[test]
fn a_directory_that_panics_for_one_user_fails_only_that_user() {
    let h = Harness::new();
    h.write_users(&people(6));
    let config = h.config(connector(json!({})));
    let (engine, _) = hooked_engine(&h, 0, Some("user3"));
    let report = engine.run(&config, &RunRequest::full(None), &|_| {}).unwrap();
    assert_eq!(report.status, RunStatus::PartiallyFailed);
    assert_eq!((report.counts.created, report.counts.failed), (5, 1));
    assert_eq!(report.failures[0].user, "user3");
    assert!(report.failures[0].error.contains("internal error"));
}

#[test]
fn two_runs_of_one_connector_never_overlap() {
    let h = Harness::new();
    h.write_users(&people(10));
    let config = h.config(connector(json!({})));
    let (engine, gate) = hooked_engine(&h, 2, None);
    let id = engine.start(config.clone(), RunRequest::full(None)).unwrap();
    gate.wait_for(2);
    let err = engine.run(&config, &RunRequest::full(None), &|_| {}).unwrap_err();
    assert!(err.to_string().contains("another run of connector 'hr' is in progress"), "{err}");
    let skipped = engine.history(1).unwrap().remove(0);
    assert_eq!(skipped.status, RunStatus::Skipped, "the run that could not start is in the history");
    assert!(err.to_string().contains(&format!("recorded as run {}", skipped.id)), "{err}");
    // A simulation writes nothing and may look while a run is going on.
    let sim = RunRequest { simulate: true, ..RunRequest::full(None) };
    assert!(engine.run(&config, &sim, &|_| {}).is_ok());
    gate.open();
    assert_eq!(engine.wait(id).unwrap().status, RunStatus::Done);
    assert!(engine.run(&config, &RunRequest::full(None), &|_| {}).is_ok(), "the lock was released");
}

#[test]
fn a_batch_the_directory_cannot_commit_stops_the_run_and_records_no_anchor_for_it() {
    let h = Harness::new();
    h.write_users(&people(30));
    let dir = Hooked {
        inner: LocalDirectory::open(&h.path("failing.db")).unwrap(),
        gate: Arc::new(Gate::default()),
        panic_on: None,
        fail_commit: true,
    };
    let engine = Engine::new(Box::new(SqliteStore::open(&h.path("failing-state.db")).unwrap()), Box::new(dir));
    let r = engine.run(&h.config(connector(json!({}))), &RunRequest::full(None), &|_| {}).unwrap();
    assert_eq!(r.status, RunStatus::Failed);
    assert!(r.error.as_deref().unwrap_or_default().contains("could not commit a batch"), "{:?}", r.error);
    let store = SqliteStore::open(&h.path("failing-state.db")).unwrap();
    use usersync::store::StateStore;
    assert!(store.identities("hr").unwrap().is_empty(), "no anchor for writes that did not land");
    assert!(store.results(r.run_id).unwrap().is_empty(), "no result claims a write that did not land");
}
