//! Operations in the engine: run leases, the connector lock across engines, skipped runs,
//! history retention, and the scheduler's fire times and catch-up.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::json;
use usersync::directory::local::LocalDirectory;
use usersync::directory::Directory;
use usersync::engine::{Engine, RunRequest};
use usersync::schedule::RunKind;
use usersync::store::sqlite::SqliteStore;
use usersync::store::{Counts, RunRecord, RunStatus, StateStore};

use crate::runs::hooked_engine;
use crate::support::graph::Graph;
use crate::support::{connector, people, Harness};

/// A run a process began and never finished (it was killed): RUNNING, its lease last renewed
/// at `started`.
fn dead_run(store: &dyn StateStore, started: DateTime<Utc>, simulate: bool) -> i64 {
    let record = RunRecord {
        id: 0,
        connector: "hr".into(),
        trigger: "schedule".into(),
        mode: "full".into(),
        simulate,
        status: RunStatus::Running,
        started_at: started,
        ended_at: None,
        counts: Counts::default(),
        writes: 0,
        photo_downloads: 0,
        error: None,
        hold_reason: None,
        notes: Vec::new(),
        approves: None,
        approved_by: None,
        config: None,
    };
    store.begin_run(&record).unwrap()
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_run_whose_lease_expired_is_interrupted_and_its_lock_released() {
    let h = Harness::new();
    h.write_users(&people(4));
    let config = h.config_with(connector(json!({})), json!({ "lease_seconds": 60 }));
    // A process took the lock, began a run and died.
    let dead = dead_run(h.engine.store(), h.now(), false);
    assert!(h.engine.directory().try_lock("usersync:hr", 6 * 3600).unwrap());

    // Within its lease the dead run still counts as running: the new run is skipped.
    h.advance_seconds(30);
    let err = h.engine.run(&config, &RunRequest::full(None), &|_| {}).unwrap_err();
    assert!(err.to_string().contains("is in progress"), "{err}");
    assert_eq!(h.engine.store().run(dead).unwrap().unwrap().status, RunStatus::Running);
    assert_eq!(h.engine.history(1).unwrap()[0].status, RunStatus::Skipped);

    // Past its lease it is marked interrupted, and the run that marked it takes the lock over.
    h.advance_seconds(31);
    let r = h.sync(&config);
    assert_eq!((r.status, r.counts.created), (RunStatus::Done, 4));
    let old = h.engine.store().run(dead).unwrap().unwrap();
    assert_eq!(old.status, RunStatus::Failed);
    assert!(old.error.as_deref().unwrap_or_default().starts_with("interrupted:"), "{:?}", old.error);
    assert!(old.ended_at.is_some());
    assert!(h.engine.directory().try_lock("usersync:hr", 60).unwrap(), "the new run released the lock at its end");
}

#[test]
fn a_lock_held_without_an_expired_run_is_never_taken_over() {
    let h = Harness::new();
    h.write_users(&people(2));
    let config = h.config_with(connector(json!({})), json!({ "lease_seconds": 60 }));
    // A dead simulation (which holds no lock) expires, while a live holder keeps the lock.
    let sim = dead_run(h.engine.store(), h.now(), true);
    assert!(h.engine.directory().try_lock("usersync:hr", 6 * 3600).unwrap());
    h.advance_seconds(120);
    let err = h.engine.run(&config, &RunRequest::full(None), &|_| {}).unwrap_err();
    assert!(err.to_string().contains("is in progress"), "{err}");
    assert_eq!(h.engine.store().run(sim).unwrap().unwrap().status, RunStatus::Failed, "the dead simulation is marked");
}

#[test]
fn a_live_run_renews_its_lease_and_another_engine_is_skipped_meanwhile() {
    let h = Harness::new();
    h.write_users(&people(8));
    let config = h.config_with(connector(json!({})), json!({ "lease_seconds": 3 }));
    let (engine, gate) = hooked_engine(&h, 3, None);
    let id = engine.start(config.clone(), RunRequest::full(None)).unwrap();
    gate.wait_for(3);
    // Longer than the lease: only heartbeats keep the run alive.
    std::thread::sleep(Duration::from_millis(4000));
    let node_b = Engine::new(
        Box::new(SqliteStore::open(&h.path("hooked-state.db")).unwrap()),
        Box::new(LocalDirectory::open(&h.path("hooked.db")).unwrap()),
    );
    let err = node_b.run(&config, &RunRequest::full(None), &|_| {}).unwrap_err();
    assert!(err.to_string().contains("is in progress"), "{err}");
    // History stays readable from the other engine while the run is under way.
    let history = node_b.history(10).unwrap();
    assert_eq!(history.iter().map(|r| r.status).collect::<Vec<_>>(), vec![RunStatus::Skipped, RunStatus::Running]);
    gate.open();
    let report = engine.wait(id).unwrap();
    assert_eq!((report.status, report.counts.created), (RunStatus::Done, 8));
}

#[test]
fn a_run_that_loses_its_lease_stops_and_leaves_the_lock_alone() {
    let h = Harness::new();
    h.write_users(&people(8));
    let config = h.config_with(connector(json!({})), json!({ "lease_seconds": 2 }));
    let (engine, gate) = hooked_engine(&h, 3, None);
    let id = engine.start(config.clone(), RunRequest::full(None)).unwrap();
    gate.wait_for(3);
    // Another node wrongly takes the run for dead (as if its heartbeats had not arrived).
    let store_b = SqliteStore::open(&h.path("hooked-state.db")).unwrap();
    let now = Utc::now();
    let marked = store_b.interrupt_expired("hr", now + chrono::Duration::hours(1), now).unwrap();
    assert_eq!(marked.iter().map(|r| r.id).collect::<Vec<_>>(), vec![id]);
    // The next heartbeat (every 0.67 s) finds out and cancels the run.
    std::thread::sleep(Duration::from_millis(2500));
    gate.open();
    let report = engine.wait(id).unwrap();
    assert_eq!(report.status, RunStatus::Cancelled);
    assert!(report.notes.iter().any(|n| n.contains("lost its lease")), "{:?}", report.notes);
    let dir_b = LocalDirectory::open(&h.path("hooked.db")).unwrap();
    assert!(!dir_b.try_lock("usersync:hr", 60).unwrap(), "the lock is not the lost run's to release");
}

#[test]
fn retention_prunes_old_runs_and_keeps_what_still_matters() {
    let h = Harness::new();
    h.write_users(&people(10));
    let config = h.config_with(connector(json!({})), json!({ "history": { "keep_runs": 3, "keep_days": 5 } }));
    let first = h.sync(&config);
    let with_results = first.run_id;
    assert!(!h.engine.store().results(with_results).unwrap().is_empty());
    // Six of ten users gone: held, awaiting approval.
    h.write_users(&people(4));
    let held = h.sync(&config);
    assert_eq!(held.status, RunStatus::Held);
    h.write_users(&people(10));
    for _ in 0..4 {
        h.sync(&config);
    }
    let ids: Vec<i64> = h.engine.history(100).unwrap().iter().map(|r| r.id).collect();
    assert_eq!(ids.len(), 4, "three newest plus the held run: {ids:?}");
    assert!(ids.contains(&held.run_id));
    assert!(h.engine.store().results(with_results).unwrap().is_empty(), "a pruned run's results go with it");

    // Days later: everything older than five days goes, but for the held run and the last full run.
    h.advance_days(6);
    let sim = h.simulate(&config);
    let left: Vec<i64> = h.engine.history(100).unwrap().iter().map(|r| r.id).collect();
    let last_full = sim.run_id - 1;
    assert_eq!(left, vec![sim.run_id, last_full, held.run_id]);
}

#[test]
fn next_fire_times_merge_full_and_incremental_schedules() {
    let h = Harness::new();
    let config = h.config(connector(json!({ "schedule": { "full": "0 0 2 * * ?", "incremental": "0 0/30 * * * ?" } })));
    // The harness clock stands at 2026-01-05 09:00:00.
    let fires = h.engine.next_fire_times(&config, 3);
    let shown: Vec<(String, RunKind)> =
        fires.iter().map(|f| (f.at.format("%d %H:%M:%S").to_string(), f.kind)).collect();
    assert_eq!(
        shown,
        vec![
            ("05 09:30:00".into(), RunKind::Incremental),
            ("05 10:00:00".into(), RunKind::Incremental),
            ("05 10:30:00".into(), RunKind::Incremental)
        ]
    );
    assert!(fires.iter().all(|f| f.connector == "hr"));
    let err = h.engine.start_scheduler(h.config(connector(json!({})))).unwrap_err();
    assert!(err.to_string().contains("no connector has a schedule"), "{err}");
}

#[test]
fn bad_schedules_and_operations_are_configuration_errors_with_paths() {
    let h = Harness::new();
    let doc = json!({
        "connectors": [
            connector(json!({ "schedule": { "full": "0 2 * * *", "incremental": "0 15 10 L * ?", "hourly": "x" } })),
            connector(json!({ "id": "feb", "schedule": "0 0 0 30 2 ?",
                              "source": { "limits": { "max_rows": 0, "max_file_mb": 99999 } } }))
        ],
        "operations": { "lease_seconds": 99999, "history": { "keep_runs": 0 } }
    });
    let errs = usersync::config::Config::from_json("t", &doc.to_string(), h.path(".")).unwrap_err();
    let text = errs.to_string();
    for expected in [
        "connectors[0].schedule.full: invalid cron expression '0 2 * * *': expected 6 or 7 fields",
        "connectors[0].schedule.incremental: invalid cron expression '0 15 10 L * ?': Quartz's L, W and #",
        "connectors[0].schedule.hourly: unknown key",
        // Above the range, the message names the range's real lower bound too.
        "operations.lease_seconds: expected a whole number from 2 to 3600, found 99999",
        "operations.history.keep_runs: expected a whole number from 1 to 1000000, found 0",
        "connectors[1].schedule: cron expression '0 0 0 30 2 ?' never fires",
        "connectors[1].source.limits.max_rows: expected a whole number from 1 to 100000000, found 0",
        "connectors[1].source.limits.max_file_mb: expected a whole number from 1 to 16384, found 99999",
    ] {
        assert!(text.contains(expected), "missing '{expected}' in:\n{text}");
    }
}

/// Downtime: fire times pass with no engine running. At start the scheduler runs once for
/// them (not once per missed time), and the incremental run reads every change since its token.
#[test]
fn an_engine_started_after_downtime_catches_up_once_with_every_change() {
    let g = Graph::start(30, 0);
    let h = Harness::new();
    let config = h.config(crate::entra::connector(&g, json!({ "schedule": { "incremental": "0 0/10 * * * ?" } })));
    // The first round, while the scheduler last ran (its claim is in the store).
    let first = h.engine.run(&config, &crate::entra::incremental(), &|_| {}).unwrap();
    assert_eq!(first.counts.created, 30);
    assert!(h.engine.store().claim_fire("entra", "incremental", h.now()).unwrap());
    // Down for an hour and a bit: six fire times missed, three users changed meanwhile.
    g.change(3, "department", json!("Research"));
    g.change(4, "jobTitle", json!("Lead"));
    g.remove(5);
    h.advance_seconds(3600 + 125);
    h.engine.start_scheduler(config.clone()).unwrap();
    wait_until("the catch-up run is recorded", || {
        h.engine.history(1).unwrap()[0].trigger == "schedule" && h.engine.history(1).unwrap()[0].ended_at.is_some()
    });
    h.engine.stop_scheduler();
    let runs = h.engine.history(10).unwrap();
    let scheduled: Vec<&RunRecord> = runs.iter().filter(|r| r.trigger == "schedule").collect();
    assert_eq!(scheduled.len(), 1, "one catch-up run for six missed fire times");
    let catch_up = scheduled[0];
    assert_eq!((catch_up.status, catch_up.mode.as_str()), (RunStatus::Done, "incremental"));
    assert_eq!((catch_up.counts.updated, catch_up.counts.disabled), (2, 1));
    assert!(catch_up.notes.iter().any(|n| n == "scheduled for 2026-01-05T10:00:00.000Z"), "{:?}", catch_up.notes);
    assert_eq!(h.user("user3").value(&"profile:department".parse().unwrap()), Some("Research"));
    // The clock stands still: no further fire time came, and a restart finds nothing missed.
    h.engine.start_scheduler(config).unwrap();
    std::thread::sleep(Duration::from_millis(700));
    h.engine.stop_scheduler();
    assert_eq!(h.engine.history(10).unwrap().iter().filter(|r| r.trigger == "schedule").count(), 1);
}

/// An engine that starts after one of its runs was interrupted (its process killed mid-run, its
/// lease since expired) runs it again at once, not at the next fire time; a second engine
/// starting at the same moment does not run it twice.
#[test]
fn a_scheduler_started_after_an_interrupted_run_runs_it_again_at_once() {
    let h = Harness::new();
    h.write_users(&people(5));
    // Daily at 02:00: nothing would fire during this test.
    let config = h.config(connector(json!({ "schedule": "0 0 2 * * ?" })));
    let dead = dead_run(h.engine.store(), h.now() - chrono::Duration::hours(1), false);
    h.engine.start_scheduler(config.clone()).unwrap();
    wait_until("the interrupted run is run again", || {
        h.engine.history(1).unwrap()[0].id != dead && h.engine.history(1).unwrap()[0].ended_at.is_some()
    });
    h.engine.stop_scheduler();
    let runs = h.engine.history(10).unwrap();
    let (again, interrupted) = (&runs[0], runs.iter().find(|r| r.id == dead).unwrap());
    assert_eq!((again.status, again.trigger.as_str(), again.counts.created), (RunStatus::Done, "schedule", 5));
    assert_eq!(interrupted.status, RunStatus::Failed);
    assert!(interrupted.error.as_deref().unwrap().starts_with("interrupted"), "{:?}", interrupted.error);
    // Restarted again: the last run is fine now, nothing more runs.
    h.engine.start_scheduler(config).unwrap();
    std::thread::sleep(Duration::from_millis(700));
    h.engine.stop_scheduler();
    assert_eq!(h.engine.history(10).unwrap().len(), 2);
}

/// A run's results are stored a chunk to a row; rows written one result each (before chunks)
/// read back alike, in order.
#[test]
fn results_stored_a_chunk_to_a_row_read_back_in_order_beside_older_single_rows() {
    let h = Harness::new();
    let path = h.path("chunks-state.db");
    let store = SqliteStore::open(&path).unwrap();
    let id = dead_run(&store, h.now(), false);
    let result = |name: &str| usersync::store::UserResult {
        idp_id: Some(format!("id-{name}")),
        username: name.into(),
        key: None,
        outcomes: vec!["created".into()],
        ops: Vec::new(),
        held: Vec::new(),
        reason: None,
        error: None,
        location: Some(format!("people.csv, {name}")),
    };
    let single = serde_json::to_string(&result("ann")).unwrap();
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("INSERT INTO results (run_id, seq, body) VALUES (?1, 0, ?2)", rusqlite::params![id, single])
        .unwrap();
    let mut record = store.run(id).unwrap().unwrap();
    record.counts.created = 3;
    let changes = usersync::store::StateChanges::default();
    store.record_progress(&record, &[result("bo"), result("cy")], &changes).unwrap();
    store.record_progress(&record, &[], &changes).unwrap();
    store.record_progress(&record, &[result("di")], &changes).unwrap();
    let names: Vec<String> = store.results(id).unwrap().into_iter().map(|r| r.username).collect();
    assert_eq!(names, ["ann", "bo", "cy", "di"]);
    let rows: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("SELECT count(*) FROM results WHERE run_id = ?1", [id], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 3, "one row per chunk that had results");
}

/// A state file of schema 3 keeps its anchors when their table is rebuilt in key order.
#[test]
fn a_schema_3_state_file_keeps_its_anchors() {
    let h = Harness::new();
    let path = h.path("v3-state.db");
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute_batch(
        "CREATE TABLE identities (connector TEXT NOT NULL, idp_id TEXT NOT NULL, dir_key TEXT NOT NULL,
           username TEXT NOT NULL, gone_since TEXT, disabled_by_sync_at TEXT, anonymised INTEGER NOT NULL DEFAULT 0,
           photo_etag TEXT, source_version TEXT, PRIMARY KEY (connector, idp_id));
         INSERT INTO identities (connector, idp_id, dir_key, username, gone_since, photo_etag)
           VALUES ('hr', 'E1', '17', 'ann', '2025-12-01T08:00:00+00:00', 'etag-1'), ('crm', 'E1', '18', 'bo', NULL, NULL);
         PRAGMA user_version = 3;",
    )
    .unwrap();
    drop(c);
    let store = SqliteStore::open(&path).unwrap();
    let hr = store.identities("hr").unwrap();
    assert_eq!(hr.len(), 1);
    assert_eq!((hr[0].idp_id.as_str(), hr[0].key.as_str(), hr[0].username.as_str()), ("E1", "17", "ann"));
    assert_eq!((hr[0].gone_since.is_some(), hr[0].photo_etag.as_deref()), (true, Some("etag-1")));
    assert_eq!(store.identities("crm").unwrap()[0].key.as_str(), "18");
    drop(store);
    let sql: String = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("SELECT sql FROM sqlite_master WHERE name = 'identities'", [], |r| r.get(0))
        .unwrap();
    assert!(sql.contains("WITHOUT ROWID"), "{sql}");
}

/// A state file written before leases existed (schema 1) is brought to the current schema in
/// place: its history stays, and a run it left RUNNING is interrupted like any other.
#[test]
fn a_schema_1_state_file_is_migrated_and_its_stale_run_interrupted() {
    let h = Harness::new();
    let path = h.path("old-state.db");
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute_batch(
        "CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, connector TEXT NOT NULL, trigger TEXT NOT NULL,
           mode TEXT NOT NULL, simulate INTEGER NOT NULL, status TEXT NOT NULL, started_at TEXT NOT NULL, ended_at TEXT,
           counts TEXT NOT NULL, writes INTEGER NOT NULL, photo_downloads INTEGER NOT NULL DEFAULT 0, error TEXT,
           hold_reason TEXT, notes TEXT NOT NULL, approves INTEGER, approved_by INTEGER, config TEXT);
         INSERT INTO runs (connector, trigger, mode, simulate, status, started_at, ended_at, counts, writes, notes)
           VALUES ('hr', 'manual', 'full', 0, 'DONE', '2025-12-01T08:00:00+00:00', '2025-12-01T08:01:00+00:00', '{}', 3, '[]'),
                  ('hr', 'manual', 'full', 0, 'RUNNING', '2025-12-02T08:00:00+00:00', NULL, '{}', 0, '[]');
         PRAGMA user_version = 1;",
    )
    .unwrap();
    drop(c);
    let store = SqliteStore::open(&path).unwrap();
    let runs = store.runs(None, 10).unwrap();
    assert_eq!(
        runs.iter().map(|r| (r.id, r.status)).collect::<Vec<_>>(),
        vec![(2, RunStatus::Running), (1, RunStatus::Done)]
    );
    let now = h.now();
    let marked = store.interrupt_expired("hr", now - chrono::Duration::seconds(120), now).unwrap();
    assert_eq!(marked.iter().map(|r| r.id).collect::<Vec<_>>(), vec![2], "no heartbeat: its start time counts");
    assert!(store.claim_fire("hr", "full", now).unwrap(), "the new table exists");
    drop(store);
    let version: i64 =
        rusqlite::Connection::open(&path).unwrap().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, 4);
}
