//! A host directory and a state store that fail, panic, go slow or fill up; and an engine
//! closed from another thread while a blocking sync is still writing.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::json;
use usersync::directory::local::LocalDirectory;
use usersync::directory::{Capabilities, DirError, Directory, NewUser};
use usersync::engine::{Engine, RunRequest};
use usersync::model::{DirectoryUser, Identity, Target};
use usersync::store::sqlite::SqliteStore;
use usersync::store::{RunRecord, RunStatus, StateChanges, StateStore, StoreError, UserResult};

use super::Scenario;
use crate::support::{connector, people, Harness};

pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario { name: "directory_write_failure", run: directory_write_failure },
        Scenario { name: "directory_panics_for_one_user", run: directory_panics_for_one_user },
        Scenario { name: "panic_in_core", run: panic_in_core },
        Scenario { name: "directory_capabilities_error", run: directory_capabilities_error },
        Scenario { name: "disk_full_while_recording", run: disk_full_while_recording },
        Scenario { name: "close_during_blocking_sync", run: close_during_blocking_sync },
    ]
}

/// The local directory with faults switched on and off from the scenario, and a count of the
/// reads it answered (by method).
#[derive(Default)]
pub(crate) struct Faults {
    pub reads: std::sync::Mutex<std::collections::BTreeMap<&'static str, usize>>,
    fail_create: Option<String>,
    panic_create: Option<String>,
    panic_list: AtomicBool,
    caps_error: AtomicBool,
    slow: Option<Duration>,
    /// Set by the scenario once `close` returned: no call may come after.
    closed: AtomicBool,
    calls_after_close: AtomicUsize,
}

struct Faulty {
    inner: LocalDirectory,
    faults: Arc<Faults>,
}

impl Faulty {
    fn read(&self, what: &'static str) {
        *self.faults.reads.lock().unwrap().entry(what).or_default() += 1;
    }

    fn call(&self) {
        if self.faults.closed.load(Ordering::SeqCst) {
            self.faults.calls_after_close.fetch_add(1, Ordering::SeqCst);
        }
        if let Some(d) = self.faults.slow {
            std::thread::sleep(d);
        }
    }
}

impl Directory for Faulty {
    fn capabilities(&self) -> Result<Capabilities, DirError> {
        if self.faults.caps_error.load(Ordering::SeqCst) {
            return Err(DirError::Failed("NullPointerException: the host's capabilities were null".into()));
        }
        self.inner.capabilities()
    }
    fn list_users(&self) -> Result<Vec<DirectoryUser>, DirError> {
        if self.faults.panic_list.load(Ordering::SeqCst) {
            panic!("a bug while listing the directory");
        }
        self.read("list_users");
        self.inner.list_users()
    }
    fn find_user(&self, username: &str) -> Result<Option<DirectoryUser>, DirError> {
        self.read("find_user");
        self.inner.find_user(username)
    }
    fn find_by_external_id(&self, external_id: &str) -> Result<Option<DirectoryUser>, DirError> {
        self.read("find_by_external_id");
        self.inner.find_by_external_id(external_id)
    }
    fn users_by_keys(&self, keys: &[String]) -> Result<Vec<DirectoryUser>, DirError> {
        self.read("users_by_keys");
        self.inner.users_by_keys(keys)
    }
    fn list_groups(&self) -> Result<BTreeSet<String>, DirError> {
        self.inner.list_groups()
    }
    fn create_user(&self, u: &NewUser) -> Result<String, DirError> {
        self.call();
        if self.faults.fail_create.as_deref() == Some(u.username.as_str()) {
            return Err(DirError::Failed("the host refused the write (licence limit reached)".into()));
        }
        if self.faults.panic_create.as_deref() == Some(u.username.as_str()) {
            panic!("a bug in the host directory");
        }
        self.inner.create_user(u)
    }
    fn update_core(&self, key: &str, changes: &[(Target, Option<String>)]) -> Result<(), DirError> {
        self.call();
        self.inner.update_core(key, changes)
    }
    fn rename(&self, key: &str, new_username: &str) -> Result<(), DirError> {
        self.inner.rename(key, new_username)
    }
    fn set_active(&self, key: &str, active: bool) -> Result<(), DirError> {
        self.call();
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
        self.call();
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
    fn try_lock(&self, name: &str, ttl_seconds: u64) -> Result<bool, DirError> {
        self.inner.try_lock(name, ttl_seconds)
    }
    fn unlock(&self, name: &str) -> Result<(), DirError> {
        self.inner.unlock(name)
    }
}

/// The SQLite store, whose next `finish_run` with results fails as a full disk does.
struct FullDisk {
    inner: SqliteStore,
    full: AtomicBool,
}

impl StateStore for FullDisk {
    fn identities(&self, c: &str) -> Result<Vec<Identity>, StoreError> {
        self.inner.identities(c)
    }
    fn managed_groups(&self, c: &str) -> Result<BTreeSet<String>, StoreError> {
        self.inner.managed_groups(c)
    }
    fn delta_token(&self, c: &str) -> Result<Option<String>, StoreError> {
        self.inner.delta_token(c)
    }
    fn begin_run(&self, r: &RunRecord) -> Result<i64, StoreError> {
        self.inner.begin_run(r)
    }
    fn finish_run(&self, r: &RunRecord, results: &[UserResult], c: &StateChanges) -> Result<(), StoreError> {
        // The full record does not fit; the small one that marks the run failed does.
        if self.full.load(Ordering::SeqCst) && r.status != RunStatus::Failed {
            return Err(StoreError("database or disk is full".into()));
        }
        self.inner.finish_run(r, results, c)
    }
    fn record_progress(&self, r: &RunRecord, results: &[UserResult], c: &StateChanges) -> Result<(), StoreError> {
        self.inner.record_progress(r, results, c)
    }
    fn runs(&self, c: Option<&str>, limit: usize) -> Result<Vec<RunRecord>, StoreError> {
        self.inner.runs(c, limit)
    }
    fn run(&self, id: i64) -> Result<Option<RunRecord>, StoreError> {
        self.inner.run(id)
    }
    fn results(&self, id: i64) -> Result<Vec<UserResult>, StoreError> {
        self.inner.results(id)
    }
    fn mark_approved(&self, held: i64, by: i64) -> Result<(), StoreError> {
        self.inner.mark_approved(held, by)
    }
    fn heartbeat(&self, id: i64, at: DateTime<Utc>) -> Result<bool, StoreError> {
        self.inner.heartbeat(id, at)
    }
    fn interrupt_expired(
        &self,
        c: &str,
        before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<RunRecord>, StoreError> {
        self.inner.interrupt_expired(c, before, now)
    }
    fn claim_fire(&self, c: &str, kind: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        self.inner.claim_fire(c, kind, at)
    }
    fn last_fire(&self, c: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.inner.last_fire(c)
    }
    fn prune(&self, keep: usize, older: DateTime<Utc>) -> Result<usize, StoreError> {
        self.inner.prune(keep, older)
    }
    fn config(&self) -> Result<Option<(String, String)>, StoreError> {
        self.inner.config()
    }
    fn put_config(&self, json: &str, base: &str) -> Result<(), StoreError> {
        self.inner.put_config(json, base)
    }
    fn scim_resources(&self, c: &str, kind: &str) -> Result<Vec<String>, StoreError> {
        self.inner.scim_resources(c, kind)
    }
    fn scim_resource(&self, c: &str, kind: &str, id: &str) -> Result<Option<String>, StoreError> {
        self.inner.scim_resource(c, kind, id)
    }
    fn put_scim_resource(&self, c: &str, kind: &str, id: &str, json: Option<&str>) -> Result<(), StoreError> {
        self.inner.put_scim_resource(c, kind, id, json)
    }
}

pub(crate) fn faulty_engine(h: &Harness, faults: Faults) -> (Engine, Arc<Faults>) {
    let faults = Arc::new(faults);
    let dir = Faulty { inner: LocalDirectory::open(&h.path("faulty.db")).unwrap(), faults: faults.clone() };
    (Engine::new(Box::new(SqliteStore::open(&h.path("faulty-state.db")).unwrap()), Box::new(dir)), faults)
}

fn lock_free(engine: &Engine) {
    assert!(engine.directory().try_lock("usersync:hr", 60).unwrap(), "the lock was left held");
    engine.directory().unlock("usersync:hr").unwrap();
}

fn active(engine: &Engine) -> usize {
    engine.directory().list_users().unwrap().iter().filter(|u| u.active).count()
}

fn directory_write_failure() {
    let h = Harness::new();
    h.write_users(&people(6));
    let (engine, _) = faulty_engine(&h, Faults { fail_create: Some("user3".into()), ..Faults::default() });
    let config = h.config(connector(json!({})));
    let r = engine.run(&config, &RunRequest::full(None), &|_| {}).unwrap();
    assert_eq!((r.status, r.counts.created, r.counts.failed), (RunStatus::PartiallyFailed, 5, 1));
    assert!(r.failures[0].error.contains("licence limit"), "{:?}", r.failures);
    lock_free(&engine);
    drop(engine);
    // The host accepts the write again: the rerun creates the one that failed, nothing else.
    let (engine, _) = faulty_engine(&h, Faults::default());
    let r = engine.run(&config, &RunRequest::full(None), &|_| {}).unwrap();
    assert_eq!((r.status, r.counts.created, r.writes), (RunStatus::Done, 1, 2));
    assert_eq!(active(&engine), 6);
}

fn directory_panics_for_one_user() {
    let h = Harness::new();
    h.write_users(&people(4));
    let (engine, _) = faulty_engine(&h, Faults { panic_create: Some("user2".into()), ..Faults::default() });
    let r = engine.run(&h.config(connector(json!({}))), &RunRequest::full(None), &|_| {}).unwrap();
    assert_eq!((r.status, r.counts.created, r.counts.failed), (RunStatus::PartiallyFailed, 3, 1));
    lock_free(&engine);
}

fn panic_in_core() {
    let h = Harness::new();
    h.write_users(&people(4));
    let faults = Faults::default();
    faults.panic_list.store(true, Ordering::SeqCst);
    let (engine, faults) = faulty_engine(&h, faults);
    let config = h.config(connector(json!({})));
    let r = engine.run(&config, &RunRequest::full(None), &|_| {}).unwrap();
    assert_eq!((r.status, r.writes), (RunStatus::Failed, 0));
    assert!(r.error.as_deref().unwrap().contains("internal error"), "{:?}", r.error);
    lock_free(&engine);
    faults.panic_list.store(false, Ordering::SeqCst);
    let r = engine.run(&config, &RunRequest::full(None), &|_| {}).unwrap();
    assert_eq!((r.status, r.counts.created), (RunStatus::Done, 4));
}

fn directory_capabilities_error() {
    let h = Harness::new();
    h.write_users(&people(3));
    let faults = Faults::default();
    faults.caps_error.store(true, Ordering::SeqCst);
    let (engine, _) = faulty_engine(&h, faults);
    let e = engine.run(&h.config(connector(json!({}))), &RunRequest::full(None), &|_| {}).unwrap_err();
    let text = e.to_string();
    assert!(text.contains("NullPointerException"), "the host's own reason, not 'targets not available': {text}");
    assert!(!text.contains("not available"), "{text}");
    lock_free(&engine);
}

fn disk_full_while_recording() {
    let h = Harness::new();
    h.write_users(&people(5));
    let dir = LocalDirectory::open(&h.path("full-dir.db")).unwrap();
    let store =
        Arc::new(FullDisk { inner: SqliteStore::open(&h.path("full-state.db")).unwrap(), full: AtomicBool::new(true) });
    let engine = Engine::new(Box::new(ByRef(store.clone())), Box::new(dir));
    let config = h.config(connector(json!({})));
    let e = engine.run(&config, &RunRequest::full(None), &|_| {}).unwrap_err();
    assert!(e.to_string().contains("disk is full"), "{e}");
    let run = &engine.history(1).unwrap()[0];
    assert_eq!(run.status, RunStatus::Failed, "the run ends with a final status, not RUNNING");
    assert!(run.error.as_deref().unwrap().contains("could not be recorded"), "{:?}", run.error);
    lock_free(&engine);
    // Space again: the next run starts at once and converges.
    store.full.store(false, Ordering::SeqCst);
    let r = engine.run(&config, &RunRequest::full(None), &|_| {}).unwrap();
    assert_eq!(r.status, RunStatus::Done);
    assert_eq!(active(&engine), 5);
}

/// A store shared with the scenario, so it can switch the fault off.
struct ByRef(Arc<FullDisk>);

macro_rules! forward_store {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        impl StateStore for ByRef {
            $(fn $name(&self, $($arg: $ty),*) -> $ret { self.0.$name($($arg),*) })*
        }
    };
}

forward_store! {
    identities(c: &str) -> Result<Vec<Identity>, StoreError>;
    managed_groups(c: &str) -> Result<BTreeSet<String>, StoreError>;
    delta_token(c: &str) -> Result<Option<String>, StoreError>;
    begin_run(r: &RunRecord) -> Result<i64, StoreError>;
    finish_run(r: &RunRecord, results: &[UserResult], c: &StateChanges) -> Result<(), StoreError>;
    record_progress(r: &RunRecord, results: &[UserResult], c: &StateChanges) -> Result<(), StoreError>;
    runs(c: Option<&str>, limit: usize) -> Result<Vec<RunRecord>, StoreError>;
    run(id: i64) -> Result<Option<RunRecord>, StoreError>;
    results(id: i64) -> Result<Vec<UserResult>, StoreError>;
    mark_approved(held: i64, by: i64) -> Result<(), StoreError>;
    heartbeat(id: i64, at: DateTime<Utc>) -> Result<bool, StoreError>;
    interrupt_expired(c: &str, before: DateTime<Utc>, now: DateTime<Utc>) -> Result<Vec<RunRecord>, StoreError>;
    claim_fire(c: &str, kind: &str, at: DateTime<Utc>) -> Result<bool, StoreError>;
    last_fire(c: &str) -> Result<Option<DateTime<Utc>>, StoreError>;
    prune(keep: usize, older: DateTime<Utc>) -> Result<usize, StoreError>;
    config() -> Result<Option<(String, String)>, StoreError>;
    put_config(json: &str, base: &str) -> Result<(), StoreError>;
    scim_resources(c: &str, kind: &str) -> Result<Vec<String>, StoreError>;
    scim_resource(c: &str, kind: &str, id: &str) -> Result<Option<String>, StoreError>;
    put_scim_resource(c: &str, kind: &str, id: &str, json: Option<&str>) -> Result<(), StoreError>;
}

fn close_during_blocking_sync() {
    let h = Harness::new();
    h.write_users(&people(400));
    let (engine, faults) = faulty_engine(&h, Faults { slow: Some(Duration::from_millis(5)), ..Faults::default() });
    let engine = Arc::new(engine);
    let config = h.config(connector(json!({})));
    let runner = {
        let engine = engine.clone();
        std::thread::spawn(move || engine.run(&config, &RunRequest::full(None), &|_| {}))
    };
    // Let it write a while, then close from this thread.
    let deadline = Instant::now() + Duration::from_secs(30);
    while active(&engine) < 20 {
        assert!(Instant::now() < deadline, "the sync never started writing");
        std::thread::sleep(Duration::from_millis(5));
    }
    let started = Instant::now();
    engine.close();
    faults.closed.store(true, Ordering::SeqCst);
    let closing = started.elapsed();
    let report = runner.join().unwrap().expect("the run had started");
    assert_eq!(report.status, RunStatus::Cancelled, "close cancels a blocking sync");
    assert!(report.counts.created < 400, "it stopped early: {:?}", report.counts);
    assert_eq!(faults.calls_after_close.load(Ordering::SeqCst), 0, "the directory was called after close returned");
    assert!(closing < Duration::from_secs(10), "close waited {closing:?}");
    assert!(engine.run(&h.config(connector(json!({}))), &RunRequest::full(None), &|_| {}).is_err(), "closed");
}
