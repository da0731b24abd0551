//! Runs that meet conflicting users, a locked store, a bad configuration, a kill or a signal,
//! and approvals the source no longer supports.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use usersync::store::sqlite::SqliteStore;
use usersync::store::{RunStatus, StateStore};

use super::{settled, Scenario};
use crate::daemon::{applying, count_users, signal, spawn, write_config};
use crate::support::{cli, connector, people, row, Harness};

pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario { name: "duplicate_usernames", run: duplicate_usernames },
        Scenario { name: "rename_collision", run: rename_collision },
        Scenario { name: "state_store_locked", run: state_store_locked },
        Scenario { name: "duplicate_config_key", run: duplicate_config_key },
        Scenario { name: "approve_after_source_emptied", run: approve_after_source_emptied },
        Scenario { name: "mass_membership_removal", run: mass_membership_removal },
        Scenario { name: "crash_mid_apply_then_rerun", run: crash_mid_apply_then_rerun },
        Scenario { name: "sigterm_mid_sync", run: sigterm_mid_sync },
    ]
}

fn duplicate_usernames() {
    let h = Harness::new();
    h.write_users(&[row(1, "ann", "Staff"), row(2, "bob", "Staff")]);
    let config = h.config(connector(json!({})));
    h.sync(&config);
    // A second source user claims the name "ann".
    h.write_users(&[row(1, "ann", "Staff"), row(2, "bob", "Staff"), row(3, "ANN", "Staff")]);
    let r = h.sync(&config);
    settled(&h, &r, RunStatus::PartiallyFailed, 2);
    assert!(r.failures.iter().any(|f| f.error.to_lowercase().contains("duplicate username 'ann'")), "{:?}", r.failures);
    assert_eq!(h.user("ann").external_id.as_deref(), Some("1"), "the existing user is not overwritten");
    h.write_users(&[row(1, "ann", "Staff"), row(2, "bob", "Staff")]);
    settled(&h, &h.sync(&config), RunStatus::Done, 2);
}

fn rename_collision() {
    let h = Harness::new();
    h.write_users(&[row(1, "ann", "Staff"), row(2, "bob", "Staff")]);
    let config = h.config(connector(json!({})));
    h.sync(&config);
    // Ann is renamed to a name Bob holds.
    h.write_users(&[row(1, "bob", "Staff"), row(2, "bob", "Staff")]);
    let r = h.sync(&config);
    settled(&h, &r, RunStatus::PartiallyFailed, 2);
    assert_eq!((h.user("ann").external_id.as_deref(), h.user("bob").external_id.as_deref()), (Some("1"), Some("2")));
    h.write_users(&[row(1, "anne", "Staff"), row(2, "bob", "Staff")]);
    let r = h.sync(&config);
    settled(&h, &r, RunStatus::Done, 2);
    assert_eq!(r.counts.renamed, 1);
}

fn state_store_locked() {
    let h = Harness::new();
    h.write_users(&people(10));
    let config = h.config(connector(json!({})));
    // Another process holds the store's write lock for a moment (a backup, a second node).
    let other = rusqlite::Connection::open(h.path("state.db")).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        other.execute_batch("COMMIT").unwrap();
    });
    let started = Instant::now();
    let r = h.sync(&config);
    release.join().unwrap();
    assert!(started.elapsed() >= Duration::from_millis(1000), "the run waited for the lock");
    settled(&h, &r, RunStatus::Done, 10);
}

fn duplicate_config_key() {
    let h = Harness::new();
    h.write_users(&people(3));
    let text = r#"{"connectors": [{"id": "hr", "type": "csv",
        "source": {"path": "users.csv", "id_column": "id"},
        "mapping": [{"target": "username", "source": "user"}],
        "safety": {"max_destructive_percent": 10},
        "safety": {"max_destructive_percent": 100}}]}"#;
    let path = h.write("dup.json", text);
    let (code, out, err) = cli(&h.path("data"), &["sync", "--config", path.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("connectors[0].safety: the key 'safety' is given twice") && err.contains("line 5"), "{err}");
    let (code, history, _) = cli(&h.path("data"), &["history", "--json"]);
    assert_eq!((code, history.trim()), (0, "[]"), "nothing ran");
}

fn approve_after_source_emptied() {
    let h = Harness::new();
    let all = people(20);
    h.write_users(&all);
    let config = h.config(connector(json!({})));
    h.sync(&config);
    h.write_users(&all[..5]);
    let held = h.sync(&config);
    assert_eq!(held.status, RunStatus::Held);
    h.write_users(&[]);
    let r = h.engine.approve(held.run_id, Some(&config), &|_| {}).unwrap();
    settled(&h, &r, RunStatus::Held, 20);
    h.write_users(&all[..5]);
    let r = h.engine.approve(held.run_id, Some(&config), &|_| {}).unwrap();
    assert_eq!((r.status, r.counts.disabled), (RunStatus::Done, 15), "once the source is back, the approval holds");
}

fn mass_membership_removal() {
    let h = Harness::new();
    let rows: Vec<String> = (1..=30).map(|i| row(i, &format!("u{i}"), "Staff;Sales")).collect();
    h.write_users(&rows);
    let config = h.config(connector(json!({})));
    h.sync(&config);
    let rows: Vec<String> = (1..=30).map(|i| row(i, &format!("u{i}"), "Staff")).collect();
    h.write_users(&rows);
    let r = h.sync(&config);
    settled(&h, &r, RunStatus::Held, 30);
    assert!(h.user("u7").groups.contains("Sales"), "no membership removed while held");
}

/// A CLI sync of `N` users with a long lease, stopped by `sig` once it is writing. Returns the
/// harness, the configuration file and how the process ended.
fn stopped_mid_apply(sig: libc::c_int) -> (Harness, String, std::process::ExitStatus, Duration) {
    let h = Harness::new();
    h.write_users(&people(N));
    let config = write_config(&h, connector(json!({})), json!({ "lease_seconds": 600 }));
    let data = h.path("data");
    let mut child = spawn(&data, &["sync", "--config", &config], &h.path("stopped.log"));
    applying(&data.join("directory.db"), 300, &mut child);
    let sent = Instant::now();
    signal(&child, sig);
    let status = child.wait().unwrap();
    (h, config, status, sent.elapsed())
}

const N: u32 = 4000;

/// The next sync starts at once, fails nobody and leaves exactly the source in the directory.
fn rerun_converges(h: &Harness, config: &str) {
    let data = h.path("data");
    let (code, out, err) = cli(&data, &["sync", "--config", config, "--json"]);
    assert_eq!(code, 0, "{out}{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["counts"]["failed"], 0);
    assert_eq!(count_users(&data.join("directory.db")), Some(i64::from(N)));
    assert_eq!(SqliteStore::open(&data.join("state.db")).unwrap().identities("hr").unwrap().len(), N as usize);
}

/// A sync killed with SIGKILL mid-apply: marked interrupted at once by the next sync, which
/// converges.
fn crash_mid_apply_then_rerun() {
    let (h, config, _, _) = stopped_mid_apply(libc::SIGKILL);
    rerun_converges(&h, &config);
    let runs = SqliteStore::open(&h.path("data").join("state.db")).unwrap().runs(None, 5).unwrap();
    assert_eq!(runs.iter().map(|r| r.status).collect::<Vec<_>>(), vec![RunStatus::Done, RunStatus::Failed]);
}

/// `kill -TERM` during a sync: CANCELLED within seconds (exit 6), nothing half-written, lock
/// released, and the next sync starts at once.
fn sigterm_mid_sync() {
    let (h, config, status, took) = stopped_mid_apply(libc::SIGTERM);
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert_eq!(status.code(), Some(6), "{}", std::fs::read_to_string(h.path("stopped.log")).unwrap_or_default());
    let data = h.path("data");
    let run = SqliteStore::open(&data.join("state.db")).unwrap().runs(None, 1).unwrap().remove(0);
    assert_eq!(run.status, RunStatus::Cancelled);
    // The CLI's lock lives in its own directory file: released.
    let dir = usersync::directory::local::LocalDirectory::open(&data.join("directory.db")).unwrap();
    assert!(usersync::directory::Directory::try_lock(&dir, "usersync:hr", 5).unwrap(), "lock released");
    usersync::directory::Directory::unlock(&dir, "usersync:hr").unwrap();
    rerun_converges(&h, &config);
}
