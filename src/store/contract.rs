//! The state store's contract (DESIGN §8), written once against `&dyn StateStore`: what the engine
//! relies on from any store. The SQLite store and the table store pass it in the tests
//! (tests/it/store_contract.rs); a host checks its own tables against it through
//! `NativeEngine.checkStateTables` (the app's tables over Active Objects do, in JUnit).

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::json;

use super::{Counts, RunRecord, RunStatus, StateChanges, StateStore, UserResult};
use crate::model::Identity;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap()
}

fn record(connector: &str, mode: &str, at: DateTime<Utc>) -> RunRecord {
    RunRecord {
        id: 0,
        connector: connector.into(),
        trigger: "manual".into(),
        mode: mode.into(),
        simulate: false,
        status: RunStatus::Running,
        started_at: at,
        ended_at: None,
        counts: Counts::default(),
        writes: 0,
        photo_downloads: 0,
        error: None,
        hold_reason: None,
        notes: vec!["a note".into()],
        approves: None,
        approved_by: None,
        config: Some(json!({ "connector": { "id": connector } })),
    }
}

fn identity(idp_id: &str, key: &str) -> Identity {
    Identity {
        idp_id: idp_id.into(),
        key: key.into(),
        username: format!("user-{idp_id}").into(),
        gone_since: None,
        disabled_by_sync_at: None,
        anonymised: false,
        photo_etag: Some("\"etag\"".into()),
        source_version: None,
    }
}

fn result(username: &str) -> UserResult {
    UserResult {
        idp_id: Some(username.into()),
        username: username.into(),
        key: None,
        outcomes: vec!["created".into()],
        ops: Vec::new(),
        held: Vec::new(),
        reason: None,
        error: None,
        location: None,
    }
}

/// Every rule of the contract, each against a fresh store from `make`. A broken rule panics with
/// the rule's own assertion message (the boundaries turn that into an error).
pub fn check(make: &dyn Fn() -> Box<dyn StateStore>) {
    runs_are_recorded_read_back_and_listed_newest_first(make().as_ref());
    progress_and_finish_commit_results_anchors_groups_and_tokens(make().as_ref());
    leases_expire_once_and_a_marked_run_loses_its_heartbeat(make().as_ref());
    a_fire_time_is_claimed_once(make().as_ref());
    retention_keeps_held_runs_and_the_last_full_run(make().as_ref());
    the_configuration_round_trips(make().as_ref());
}

fn runs_are_recorded_read_back_and_listed_newest_first(s: &dyn StateStore) {
    let a = s.begin_run(&record("hr", "full", t0())).unwrap();
    let b = s.begin_run(&record("okta", "full", t0())).unwrap();
    let c = s.begin_run(&record("hr", "incremental", t0())).unwrap();
    assert!(a < b && b < c, "ids grow: {a} {b} {c}");
    let back = s.run(a).unwrap().expect("run a");
    assert_eq!(
        (back.connector.as_str(), back.status, back.notes.clone()),
        ("hr", RunStatus::Running, vec!["a note".to_string()])
    );
    assert_eq!(back.config, Some(json!({ "connector": { "id": "hr" } })));
    assert_eq!(s.runs(Some("hr"), 10).unwrap().iter().map(|r| r.id).collect::<Vec<_>>(), vec![c, a]);
    assert_eq!(s.runs(None, 2).unwrap().iter().map(|r| r.id).collect::<Vec<_>>(), vec![c, b]);
    assert!(s.run(9999).unwrap().is_none());
    s.mark_approved(a, c).unwrap();
    assert_eq!(s.run(a).unwrap().unwrap().approved_by, Some(c));
}

fn progress_and_finish_commit_results_anchors_groups_and_tokens(s: &dyn StateStore) {
    let mut r = record("hr", "incremental", t0());
    r.id = s.begin_run(&r).unwrap();
    r.counts.created = 2;
    let first = StateChanges { upsert: vec![identity("1", "k1"), identity("2", "k2")], ..StateChanges::default() };
    s.record_progress(&r, &[result("ann"), result("bob")], &first).unwrap();
    assert_eq!(s.identities("hr").unwrap().len(), 2, "anchors of a chunk are kept as it goes");
    assert_eq!(s.run(r.id).unwrap().unwrap().counts.created, 2, "counts so far are kept too");
    r.status = RunStatus::Done;
    r.ended_at = Some(t0() + Duration::seconds(5));
    r.counts.created = 3;
    let last = StateChanges {
        upsert: vec![identity("3", "k3")],
        remove: vec!["1".into()],
        managed_groups: Some(BTreeSet::from(["staff".to_string()])),
        delta_token: Some(Some("token-1".into())),
    };
    s.finish_run(&r, &[result("cy")], &last).unwrap();
    let ids: Vec<String> = s.identities("hr").unwrap().into_iter().map(|i| i.idp_id.to_string()).collect();
    assert_eq!(ids.iter().collect::<BTreeSet<_>>(), BTreeSet::from([&"2".to_string(), &"3".to_string()]));
    assert_eq!(s.identities("okta").unwrap().len(), 0, "anchors are per connector");
    let names: Vec<String> = s.results(r.id).unwrap().into_iter().map(|u| u.username).collect();
    assert_eq!(names, vec!["ann", "bob", "cy"], "results in the order they were recorded");
    assert_eq!(s.managed_groups("hr").unwrap(), BTreeSet::from(["staff".to_string()]));
    assert_eq!(s.delta_token("hr").unwrap().as_deref(), Some("token-1"));
    let done = s.run(r.id).unwrap().unwrap();
    assert_eq!((done.status, done.counts.created, done.ended_at), (RunStatus::Done, 3, r.ended_at));
    // A token is forgotten when asked.
    let mut again = record("hr", "full", t0());
    again.id = s.begin_run(&again).unwrap();
    again.status = RunStatus::Done;
    s.finish_run(&again, &[], &StateChanges { delta_token: Some(None), ..StateChanges::default() }).unwrap();
    assert_eq!(s.delta_token("hr").unwrap(), None);
}

fn leases_expire_once_and_a_marked_run_loses_its_heartbeat(s: &dyn StateStore) {
    let old = s.begin_run(&record("hr", "full", t0())).unwrap();
    let fresh = s.begin_run(&record("hr", "full", t0() + Duration::seconds(100))).unwrap();
    assert!(s.heartbeat(fresh, t0() + Duration::seconds(110)).unwrap());
    let now = t0() + Duration::seconds(130);
    let marked = s.interrupt_expired("hr", now - Duration::seconds(60), now).unwrap();
    assert_eq!(marked.iter().map(|r| r.id).collect::<Vec<_>>(), vec![old], "only the run whose lease ran out");
    assert!(s.interrupt_expired("hr", now - Duration::seconds(60), now).unwrap().is_empty(), "marked once");
    let failed = s.run(old).unwrap().unwrap();
    assert_eq!(failed.status, RunStatus::Failed);
    assert!(failed.error.unwrap().starts_with("interrupted"));
    assert!(!s.heartbeat(old, now).unwrap(), "a marked run learns it lost its lease");
    assert!(s.heartbeat(fresh, now).unwrap());
}

fn a_fire_time_is_claimed_once(s: &dyn StateStore) {
    assert_eq!(s.last_fire("hr").unwrap(), None);
    assert!(s.claim_fire("hr", "full", t0()).unwrap());
    assert!(!s.claim_fire("hr", "full", t0()).unwrap(), "the second claimant of a fire time loses");
    assert!(s.claim_fire("okta", "full", t0()).unwrap(), "claims are per connector");
    assert!(s.claim_fire("hr", "incremental", t0() + Duration::minutes(15)).unwrap());
    assert_eq!(s.last_fire("hr").unwrap(), Some(t0() + Duration::minutes(15)));
}

fn retention_keeps_held_runs_and_the_last_full_run(s: &dyn StateStore) {
    let finish = |mode: &str, status: RunStatus, day: i64| {
        let mut r = record("hr", mode, t0() + Duration::days(day));
        r.id = s.begin_run(&r).unwrap();
        r.status = status;
        r.ended_at = Some(r.started_at);
        s.finish_run(&r, &[result("x")], &StateChanges::default()).unwrap();
        r.id
    };
    let full = finish("full", RunStatus::Done, 0);
    let held = finish("full", RunStatus::Held, 1);
    let incrementals: Vec<i64> = (2..8).map(|d| finish("incremental", RunStatus::Done, d)).collect();
    // By count: the newest two stay, and so do a held run awaiting approval and the last full
    // run that finished (incremental cadence counts from it).
    let removed = s.prune(2, t0() - Duration::days(1)).unwrap();
    let kept: BTreeSet<i64> = s.runs(Some("hr"), 100).unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(kept, BTreeSet::from([full, held, incrementals[4], incrementals[5]]));
    assert_eq!(removed, 4);
    assert!(s.results(incrementals[0]).unwrap().is_empty(), "their results go with them");
    assert_eq!(s.results(incrementals[5]).unwrap().len(), 1);
    // By age: everything older goes, the protected runs still stay.
    s.prune(100, t0() + Duration::days(30)).unwrap();
    let kept: BTreeSet<i64> = s.runs(Some("hr"), 100).unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(kept, BTreeSet::from([full, held]));
}

fn the_configuration_round_trips(s: &dyn StateStore) {
    assert_eq!(s.config().unwrap(), None);
    s.put_config(r#"{"connectors": []}"#, "/etc/usersync").unwrap();
    s.put_config(r#"{"connectors": [1]}"#, "/srv").unwrap();
    assert_eq!(s.config().unwrap(), Some((r#"{"connectors": [1]}"#.to_string(), "/srv".to_string())));
}
