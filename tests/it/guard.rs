//! The guard: mass changes are held until approved, and approval re-checks against the source.

use serde_json::json;
use usersync::engine::EngineError;
use usersync::store::RunStatus;

use crate::support::{connector, people, Harness};

#[test]
fn removing_most_users_is_held_and_nothing_is_disabled_until_approved() {
    let h = Harness::new();
    let all = people(20);
    h.write_users(&all);
    let config = h.config(connector(json!({})));
    h.sync(&config);

    h.write_users(&all[..8]);
    let r = h.sync(&config);
    assert_eq!(r.status, RunStatus::Held);
    assert_eq!(r.exit_code(), 3);
    assert_eq!((r.counts.held, r.counts.disabled, r.writes), (12, 0, 0));
    assert!(r.hold_reason.as_deref().unwrap().contains("12 of 20 managed users"), "{:?}", r.hold_reason);
    assert_eq!(r.held.len(), 12);
    assert_eq!(h.active_usernames().len(), 20, "nothing disabled while held");
    // Running again does not sneak the operations through.
    assert_eq!(h.sync(&config).status, RunStatus::Held);
    assert_eq!(h.active_usernames().len(), 20);

    let approved = h.engine.approve(r.run_id, None, &|_| {}).unwrap();
    assert_eq!(approved.status, RunStatus::Done);
    assert_eq!(approved.mode, "approve");
    assert_eq!(approved.counts.disabled, 12);
    assert_eq!(h.active_usernames().len(), 8);
    let (held_run, _) = h.engine.run_details(r.run_id).unwrap();
    assert_eq!(held_run.approved_by, Some(approved.run_id));
    match h.engine.approve(r.run_id, None, &|_| {}) {
        Err(EngineError::Invalid(m)) => assert!(m.contains("already approved"), "{m}"),
        other => panic!("approving twice must fail, got {other:?}"),
    }
}

/// A full run writes what the guard never holds while it is still planning (several chunks of
/// it here); a held run still creates, updates and adds to groups, and holds only the rest.
#[test]
fn a_held_run_still_writes_its_creations_and_updates_and_only_those() {
    let h = Harness::new();
    let all = people(600);
    h.write_users(&all);
    let config = h.config(connector(json!({})));
    assert_eq!(h.sync(&config).counts.created, 600);

    let mut next: Vec<String> = all[..100].to_vec();
    next[0] = next[0].replace("User1 Person", "First Person");
    next.extend((601..=1200).map(|i| crate::support::row(100 + i, &format!("user{i}"), "Staff;Newcomers")));
    h.write_users(&next);
    let r = h.sync(&config);
    assert_eq!(r.status, RunStatus::Held);
    assert_eq!(
        (r.counts.created, r.counts.updated, r.counts.held, r.counts.disabled, r.counts.unchanged),
        (600, 1, 500, 0, 99)
    );
    assert_eq!(h.active_usernames().len(), 1200, "the 500 leavers are held, the 600 newcomers are in");
    assert!(h.user("user1200").groups.contains("Newcomers"), "the group was created before its members were added");
    assert_eq!(h.user("user1").value(&"display_name".parse().unwrap()), Some("First Person"));
    assert_eq!(h.engine.approve(r.run_id, None, &|_| {}).unwrap().counts.disabled, 500);
    assert_eq!(h.active_usernames().len(), 700);
}

#[test]
fn approval_rechecks_users_who_came_back() {
    let h = Harness::new();
    let all = people(20);
    h.write_users(&all);
    let config = h.config(connector(json!({})));
    h.sync(&config);
    h.write_users(&all[..8]);
    let held = h.sync(&config);
    assert_eq!(held.status, RunStatus::Held);

    // Most come back before the administrator approves; only two are still gone.
    h.write_users(&all[..18]);
    let r = h.engine.approve(held.run_id, Some(&config), &|_| {}).unwrap();
    assert_eq!(r.counts.disabled, 2);
    assert_eq!(h.active_usernames().len(), 18);
}

#[test]
fn an_approval_does_not_cover_new_destructive_operations() {
    let h = Harness::new();
    let all = people(20);
    h.write_users(&all);
    let config = h.config(connector(json!({})));
    h.sync(&config);
    h.write_users(&all[..15]);
    let held = h.sync(&config);
    assert_eq!(held.counts.held, 5);
    // Now everyone but two has left: the held set grew, so the approval is refused whole —
    // not even the five approved go, since approving five must never let eighteen through.
    h.write_users(&all[..2]);
    let r = h.engine.approve(held.run_id, Some(&config), &|_| {}).unwrap();
    assert_eq!(r.status, RunStatus::Held);
    assert_eq!((r.counts.disabled, r.counts.held), (0, 18));
    assert!(r.hold_reason.as_deref().unwrap().contains("beyond the 5 approved"), "{:?}", r.hold_reason);
    assert_eq!(h.active_usernames().len(), 20);
}

#[test]
fn approving_is_refused_when_the_source_has_become_empty() {
    let h = Harness::new();
    let all = people(20);
    h.write_users(&all);
    let config = h.config(connector(json!({})));
    h.sync(&config);
    h.write_users(&all[..8]);
    let held = h.sync(&config);
    assert_eq!(held.counts.held, 12);
    // The source breaks and lists nobody: the twelve approved must not go, nor anyone else.
    h.write_users(&[]);
    let r = h.engine.approve(held.run_id, Some(&config), &|_| {}).unwrap();
    assert_eq!(r.status, RunStatus::Held);
    assert_eq!(r.counts.disabled, 0);
    assert!(r.hold_reason.as_deref().unwrap().contains("no users"), "{:?}", r.hold_reason);
    assert_eq!(h.active_usernames().len(), 20);
}

#[test]
fn a_second_safety_key_cannot_switch_the_guard_off() {
    let h = Harness::new();
    let doc = r#"{"connectors": [{"id": "hr", "type": "csv", "safety": {"max_destructive_percent": 10},
            "source": {"path": "users.csv", "id_column": "id"},
            "mapping": [{"target": "username", "source": "user"}],
            "safety": {"max_destructive_percent": 100, "max_destructive_count": 100000}}]}"#;
    let e = usersync::config::Config::from_json("test.json", doc, h.dir.path().to_path_buf()).unwrap_err();
    let text = e.to_string();
    assert!(text.contains("connectors[0].safety: the key 'safety' is given twice"), "{text}");
    assert!(text.contains("line 4"), "{text}");
}

#[test]
fn an_empty_source_is_always_held() {
    let h = Harness::new();
    h.write_users(&people(2));
    let config =
        h.config(connector(json!({ "safety": { "max_destructive_percent": 100, "max_destructive_count": 1000 } })));
    h.sync(&config);
    h.write_users(&[]);
    let r = h.sync(&config);
    assert_eq!(r.status, RunStatus::Held);
    assert!(r.hold_reason.unwrap().contains("no users"));
    assert_eq!(h.active_usernames().len(), 2);
}

#[test]
fn the_count_limit_applies_when_lower_than_the_percentage() {
    let h = Harness::new();
    let all = people(40);
    h.write_users(&all);
    let config =
        h.config(connector(json!({ "safety": { "max_destructive_percent": 50, "max_destructive_count": 3 } })));
    h.sync(&config);
    h.write_users(&all[..36]);
    let r = h.sync(&config);
    assert_eq!(r.status, RunStatus::Held, "4 > 3 even though 4 is only 10%");
    h.write_users(&all[..37]);
    let r = h.sync(&config);
    assert_eq!((r.status, r.counts.disabled), (RunStatus::Done, 3));
}

#[test]
fn only_a_held_run_can_be_approved() {
    let h = Harness::new();
    h.write_users(&people(3));
    let config = h.config(connector(json!({})));
    let r = h.sync(&config);
    match h.engine.approve(r.run_id, None, &|_| {}) {
        Err(EngineError::Invalid(m)) => assert!(m.contains("not a held run"), "{m}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(
        matches!(h.engine.approve(999, None, &|_| {}), Err(EngineError::Invalid(m)) if m.contains("no run with id 999"))
    );
}
