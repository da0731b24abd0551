//! Real processes: two `usersync daemon`s sharing one state store and one directory, and a sync
//! killed with SIGKILL in the middle of applying.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use usersync::store::sqlite::SqliteStore;
use usersync::store::{RunStatus, StateStore};

use crate::support::{cli, connector, people, Harness};

pub(crate) fn write_config(h: &Harness, connector: Value, operations: Value) -> String {
    let doc = json!({ "connectors": [connector], "operations": operations });
    h.write("config.json", serde_json::to_string_pretty(&doc).unwrap()).to_string_lossy().into_owned()
}

pub(crate) fn spawn(data: &Path, args: &[&str], log: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_usersync"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .expect("usersync starts")
}

pub(crate) fn signal(child: &Child, sig: libc::c_int) {
    // SAFETY: plain kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, sig) }, 0);
}

pub(crate) fn count_users(db: &Path) -> Option<i64> {
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
    c.query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0)).ok()
}

/// Waits until `child` has written `users` users to `directory`, while it is still running.
pub(crate) fn applying(directory: &Path, users: i64, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while count_users(directory).unwrap_or(0) < users {
        assert!(Instant::now() < deadline, "the run never started applying");
        assert!(child.try_wait().unwrap().is_none(), "the process ended before it could be stopped");
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn two_daemons_sharing_a_store_start_exactly_one_run_per_fire_time() {
    let h = Harness::new();
    h.write_users(&people(5));
    let config = write_config(&h, connector(json!({ "schedule": "* * * * * ?" })), json!({ "lease_seconds": 5 }));
    let data = h.path("data");
    let nodes: Vec<Child> =
        (0..2).map(|i| spawn(&data, &["daemon", "--config", &config], &h.path(&format!("node{i}.log")))).collect();
    std::thread::sleep(Duration::from_secs(8));
    for node in &nodes {
        signal(node, libc::SIGTERM);
    }
    for (i, mut node) in nodes.into_iter().enumerate() {
        let status = node.wait().unwrap();
        let log = std::fs::read_to_string(h.path(&format!("node{i}.log"))).unwrap();
        assert_eq!(status.code(), Some(0), "a daemon stops cleanly on SIGTERM:\n{log}");
    }
    for i in 0..2 {
        let log = std::fs::read_to_string(h.path(&format!("node{i}.log"))).unwrap();
        assert!(log.contains("scheduler started") && log.contains("scheduler stopped"), "{log}");
    }

    let store = SqliteStore::open(&data.join("state.db")).unwrap();
    let runs = store.runs(None, 1000).unwrap();
    let mut per_fire: BTreeMap<String, Vec<RunStatus>> = BTreeMap::new();
    for run in runs.iter().filter(|r| r.trigger == "schedule") {
        let fire = run
            .notes
            .iter()
            .find_map(|n| n.strip_prefix("scheduled for "))
            .expect("a scheduled run names its fire time");
        per_fire.entry(fire.to_string()).or_default().push(run.status);
    }
    assert!(per_fire.len() >= 5, "fire times over 8 seconds: {per_fire:?}");
    let last = per_fire.keys().next_back().cloned();
    for (fire, statuses) in &per_fire {
        // On a loaded machine a run can outlast a second: the next fire time's run then finds the
        // lock held and is recorded SKIPPED, which is still that fire time's one run. The run
        // under way when SIGTERM came is CANCELLED: still one run for its fire time.
        let stopped = Some(fire) == last.as_ref() && statuses.as_slice() == [RunStatus::Cancelled];
        assert!(
            matches!(statuses.as_slice(), [RunStatus::Done] | [RunStatus::Skipped]) || stopped,
            "fire time {fire}: exactly one run, got {statuses:?}"
        );
    }
    let done = per_fire.values().filter(|s| s[0] == RunStatus::Done).count();
    assert!(done >= 4, "most fire times ran: {per_fire:?}");
    // No fire time between the first and the last went without a run.
    let seconds: Vec<i64> =
        per_fire.keys().map(|k| chrono::DateTime::parse_from_rfc3339(k).unwrap().timestamp()).collect();
    assert_eq!(seconds.last().unwrap() - seconds.first().unwrap() + 1, seconds.len() as i64, "{per_fire:?}");
    assert_eq!(runs.len(), per_fire.len(), "no run other than the scheduled ones");
    assert_eq!(count_users(&data.join("directory.db")), Some(5));
}

#[test]
fn a_sync_killed_mid_apply_is_marked_interrupted_and_the_next_run_converges() {
    const N: u32 = 6000;
    let h = Harness::new();
    h.write_users(&people(N));
    // A long lease: the next run must not need it to expire, since the killed process is gone.
    let config = write_config(&h, connector(json!({})), json!({ "lease_seconds": 600 }));
    let data = h.path("data");
    let directory = data.join("directory.db");
    let mut child = spawn(&data, &["sync", "--config", &config], &h.path("killed.log"));
    // Kill it once the first chunks have landed, well before the last.
    applying(&directory, 600, &mut child);
    signal(&child, libc::SIGKILL);
    child.wait().unwrap();
    let written = count_users(&directory).unwrap();
    assert!(written > 0 && written < i64::from(N), "killed mid-apply: {written} of {N} users written");

    // The killed process is gone from this machine: the next run marks its run interrupted at
    // once, well within the lease, takes the lock over and converges.
    let (code, out, err) = cli(&data, &["sync", "--config", &config, "--json"]);
    assert_eq!(code, 0, "{out}{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["counts"]["failed"], 0);
    let created = report["counts"]["created"].as_i64().unwrap();
    assert!(created < i64::from(N), "what the killed run wrote was not written again: {created}");

    let store = SqliteStore::open(&data.join("state.db")).unwrap();
    let runs = store.runs(None, 10).unwrap();
    let statuses: Vec<RunStatus> = runs.iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![RunStatus::Done, RunStatus::Failed]);
    let error = runs[1].error.as_deref().unwrap_or_default();
    assert!(error.starts_with("interrupted: the process that ran it"), "{error}");
    assert!(runs[1].counts.created > 0, "the killed run's counts show what it wrote: {:?}", runs[1].counts);
    assert_eq!(store.identities("hr").unwrap().len(), N as usize, "every user anchored once");

    // The directory is exactly the source: no duplicate, no user missing, no half-written one.
    let c = rusqlite::Connection::open(&directory).unwrap();
    let (users, distinct_ids, with_mail): (i64, i64, i64) = c
        .query_row(
            "SELECT COUNT(*), COUNT(DISTINCT external_id), COUNT(*) FILTER (WHERE email = username || '@example.com') FROM users",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((users, distinct_ids, with_mail), (i64::from(N), i64::from(N), i64::from(N)));
    let in_staff: i64 = c
        .query_row("SELECT COUNT(DISTINCT user_id) FROM memberships WHERE group_name = 'Staff'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(in_staff, i64::from(N), "every membership written");
    let names: BTreeSet<String> = (1..=N).map(|i| format!("user{i}")).collect();
    let found: BTreeSet<String> = c
        .prepare("SELECT username FROM users")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(found, names);
}

#[test]
fn sigterm_cancels_the_daemons_current_run_between_users_and_exits_cleanly() {
    const N: u32 = 6000;
    let h = Harness::new();
    h.write_users(&people(N));
    let config = write_config(&h, connector(json!({ "schedule": "* * * * * ?" })), json!({}));
    let data = h.path("data");
    let directory = data.join("directory.db");
    let mut daemon = spawn(&data, &["daemon", "--config", &config], &h.path("daemon.log"));
    applying(&directory, 300, &mut daemon);
    signal(&daemon, libc::SIGTERM);
    assert_eq!(daemon.wait().unwrap().code(), Some(0));
    let log = std::fs::read_to_string(h.path("daemon.log")).unwrap();
    assert!(log.contains("run 1 started") && log.contains("run 1 of connector 'hr' finished: CANCELLED"), "{log}");
    let store = SqliteStore::open(&data.join("state.db")).unwrap();
    let run = store.run(1).unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Cancelled);
    let written = count_users(&directory).unwrap();
    assert!(written < i64::from(N), "stopped before the end: {written}");
    assert_eq!(store.identities("hr").unwrap().len() as i64, written, "what was written is anchored");
}

/// Nodes starting together open one new state file at once: none may fail on another's lock.
#[test]
fn processes_opening_one_new_data_directory_at_once_all_succeed() {
    for round in 0..10 {
        let h = Harness::new();
        let data = h.path("data");
        let procs: Vec<Child> = (0..6).map(|i| spawn(&data, &["history"], &h.path(&format!("p{i}.log")))).collect();
        for (i, mut p) in procs.into_iter().enumerate() {
            let code = p.wait().unwrap().code();
            let log = std::fs::read_to_string(h.path(&format!("p{i}.log"))).unwrap();
            assert_eq!(code, Some(0), "round {round}, process {i}: {log}");
        }
    }
}
