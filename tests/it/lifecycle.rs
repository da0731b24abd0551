//! Leavers and returners: disable, grace periods, delete after N days, anonymise, keep, strip
//! groups, protected groups and the reactivation policy.

use serde_json::json;
use usersync::store::RunStatus;

use crate::support::{connector, people, row, Harness};

fn without(rows: &[String], user: &str) -> Vec<String> {
    rows.iter().filter(|r| !r.contains(&format!(",{user},"))).cloned().collect()
}

#[test]
fn a_missing_user_is_disabled_and_reactivated_when_back() {
    let h = Harness::new();
    let all = people(12);
    h.write_users(&all);
    let config = h.config(connector(json!({})));
    assert_eq!(h.sync(&config).counts.created, 12);

    h.write_users(&without(&all, "user5"));
    let r = h.sync(&config);
    assert_eq!(r.status, RunStatus::Done);
    assert_eq!((r.counts.disabled, r.writes), (1, 1));
    let inactive: Vec<_> = h.users().into_iter().filter(|u| !u.active).map(|u| u.username).collect();
    assert_eq!(inactive, vec!["user5"]);

    h.write_users(&all);
    let r = h.sync(&config);
    assert_eq!((r.counts.reactivated, r.writes), (1, 1));
    assert!(h.user("user5").active);
}

#[test]
fn the_grace_period_delays_disabling_and_resets_on_return() {
    let h = Harness::new();
    let all = people(12);
    h.write_users(&all);
    let config = h.config(connector(json!({ "lifecycle": { "grace_days": 3 } })));
    h.sync(&config);

    h.write_users(&without(&all, "user2"));
    let r = h.sync(&config);
    assert_eq!(r.counts.disabled, 0);
    let (_, results) = h.engine.run_details(r.run_id).unwrap();
    let u2 = results.iter().find(|u| u.username == "user2").unwrap();
    assert!(u2.reason.as_deref().unwrap().contains("grace period ends 2026-01-08"), "{:?}", u2.reason);

    h.advance_days(2);
    assert_eq!(h.sync(&config).counts.disabled, 0);
    assert!(h.user("user2").active);

    h.advance_days(1);
    assert_eq!(h.sync(&config).counts.disabled, 1);
    assert!(!h.user("user2").active);

    // Back, then missing again: the clock starts over.
    h.write_users(&all);
    assert_eq!(h.sync(&config).counts.reactivated, 1);
    h.write_users(&without(&all, "user2"));
    h.advance_days(1);
    assert_eq!(h.sync(&config).counts.disabled, 0);
    assert!(h.user("user2").active);
}

#[test]
fn delete_comes_only_after_the_user_was_disabled_for_n_days() {
    let h = Harness::new();
    let all = people(12);
    h.write_users(&all);
    let config = h.config(connector(json!({ "lifecycle": { "missing": "delete", "delete_after_days": 2 } })));
    h.sync(&config);
    let old_key = h.user("user7").key;

    h.write_users(&without(&all, "user7"));
    let r = h.sync(&config);
    assert_eq!((r.counts.disabled, r.counts.deleted), (1, 0), "disable before delete");
    assert_eq!((h.sync(&config).counts.deleted, h.find("user7").is_some()), (0, true));
    h.advance_days(1);
    assert_eq!(h.sync(&config).counts.deleted, 0);
    h.advance_days(1);
    let r = h.sync(&config);
    assert_eq!(r.counts.deleted, 1);
    assert!(h.find("user7").is_none());

    // Coming back after deletion creates a new account: the old anchor is gone.
    h.write_users(&all);
    let r = h.sync(&config);
    assert_eq!(r.counts.created, 1);
    assert_ne!(h.user("user7").key, old_key);
}

#[test]
fn anonymise_is_reversible_because_the_anchor_stays() {
    let h = Harness::new();
    let all = people(12);
    h.write_users(&all);
    let config = h.config(connector(json!({ "lifecycle": { "missing": "anonymise" } })));
    h.sync(&config);
    let key = h.user("user3").key;

    h.write_users(&without(&all, "user3"));
    let r = h.sync(&config);
    assert_eq!((r.counts.disabled, r.counts.anonymised), (1, 1));
    let anon = h.users().into_iter().find(|u| u.key == key).unwrap();
    assert_eq!(anon.username, format!("anonymised-{key}"));
    assert!(!anon.active);
    assert_eq!(anon.value(&"email".parse().unwrap()), None);
    assert_eq!(h.sync(&config).writes, 0, "an anonymised user is left alone while absent");

    h.write_users(&all);
    let r = h.sync(&config);
    assert_eq!((r.counts.renamed, r.counts.reactivated), (1, 1));
    let back = h.user("user3");
    assert_eq!(back.key, key);
    assert!(back.active);
    assert_eq!(back.value(&"email".parse().unwrap()), Some("user3@example.com"));
}

#[test]
fn keep_leaves_leavers_alone() {
    let h = Harness::new();
    let all = people(12);
    h.write_users(&all);
    let config = h.config(connector(json!({ "lifecycle": { "missing": "keep" } })));
    h.sync(&config);
    h.write_users(&without(&all, "user1"));
    let r = h.sync(&config);
    assert_eq!((r.counts.disabled, r.writes), (0, 0));
    assert!(h.user("user1").active);
}

#[test]
fn strip_groups_removes_all_but_local_groups() {
    let h = Harness::new();
    let mut all = people(12);
    all[0] = row(101, "user1", "Staff;Admins");
    h.write_users(&all);
    let config = h.config(connector(json!({
        "lifecycle": { "strip_groups": true },
        "groups": { "local": ["helpdesk"] }
    })));
    h.sync(&config);
    let dir = h.engine.directory();
    dir.create_group("helpdesk").unwrap();
    dir.add_membership(&h.user("user1").key, "helpdesk").unwrap();

    h.write_users(&without(&all, "user1"));
    let r = h.sync(&config);
    assert_eq!(r.counts.disabled, 1);
    let u = h.user("user1");
    assert!(!u.active);
    assert_eq!(u.groups.into_iter().collect::<Vec<_>>(), vec!["helpdesk"]);
}

#[test]
fn protected_groups_are_never_disabled_or_deleted() {
    let h = Harness::new();
    let all = people(12);
    h.write_users(&all);
    let config = h.config(connector(json!({ "lifecycle": { "missing": "delete", "delete_after_days": 0, "protected_groups": ["jira-administrators"] } })));
    h.sync(&config);
    let dir = h.engine.directory();
    dir.create_group("jira-administrators").unwrap();
    dir.add_membership(&h.user("user4").key, "jira-administrators").unwrap();

    h.write_users(&without(&all, "user4"));
    let r = h.sync(&config);
    assert_eq!((r.counts.disabled, r.counts.deleted), (0, 0));
    h.advance_days(5);
    h.sync(&config);
    assert!(h.user("user4").active);
    let (_, results) = h.engine.run_details(r.run_id).unwrap();
    let reason = results.iter().find(|u| u.username == "user4").unwrap().reason.clone().unwrap();
    assert!(reason.contains("protected as a member of 'jira-administrators'"), "{reason}");
}

#[test]
fn only_users_the_sync_disabled_are_reactivated_by_default() {
    let h = Harness::new();
    h.write_users(&people(12));
    let config = h.config(connector(json!({})));
    h.sync(&config);
    // An administrator disables user6 by hand; the source still says active.
    h.engine.directory().set_active(&h.user("user6").key, false).unwrap();
    let r = h.sync(&config);
    assert_eq!((r.counts.reactivated, r.writes), (0, 0));
    assert!(!h.user("user6").active);
    let (_, results) = h.engine.run_details(r.run_id).unwrap();
    let reason = results.iter().find(|u| u.username == "user6").unwrap().reason.clone().unwrap();
    assert!(reason.contains("not disabled by the sync"), "{reason}");

    let never = h.config(connector(json!({ "lifecycle": { "reactivate": "never" } })));
    assert_eq!(h.sync(&never).counts.reactivated, 0);
    let always = h.config(connector(json!({ "lifecycle": { "reactivate": "always" } })));
    assert_eq!(h.sync(&always).counts.reactivated, 1);
    assert!(h.user("user6").active);
}

#[test]
fn inactive_in_the_source_is_disabled_and_never_created() {
    let h = Harness::new();
    let mut all = people(12);
    all.push("199,ghost,Ghost Person,ghost@example.com,disabled,Staff".into());
    h.write_users(&all);
    let config = h.config(connector(json!({})));
    let r = h.sync(&config);
    assert_eq!((r.counts.created, r.counts.filtered), (12, 1));
    assert!(h.find("ghost").is_none());

    all[8] = all[8].replace(",active,", ",inactive,");
    h.write_users(&all);
    let r = h.sync(&config);
    assert_eq!(r.counts.disabled, 1);
    assert!(!h.user("user9").active);

    let keep = h.config(connector(json!({ "lifecycle": { "inactive": "keep" } })));
    all[9] = all[9].replace(",active,", ",inactive,");
    h.write_users(&all);
    assert_eq!(h.sync(&keep).counts.disabled, 0);
    assert!(h.user("user10").active);
}

#[test]
fn a_user_filtered_out_is_handled_by_the_filtered_action() {
    let h = Harness::new();
    let mut all = people(12);
    h.write_users(&all);
    let config = h.config(connector(json!({ "groups": { "required": ["staff"] } })));
    assert_eq!(h.sync(&config).counts.created, 12);
    all[0] = row(101, "user1", "Visitors");
    h.write_users(&all);
    let r = h.sync(&config);
    assert_eq!((r.counts.disabled, r.counts.filtered), (1, 1));
    assert!(!h.user("user1").active);

    let keep = h.config(connector(json!({ "groups": { "required": ["staff"] }, "lifecycle": { "filtered": "keep" } })));
    all[1] = row(102, "user2", "Visitors");
    h.write_users(&all);
    assert_eq!(h.sync(&keep).counts.disabled, 0);
    assert!(h.user("user2").active);
}

#[test]
fn a_simulation_predicts_every_lifecycle_action_and_writes_nothing() {
    let h = Harness::new();
    let mut all = people(30);
    h.write_users(&all);
    let config = h.config(connector(json!({
        "lifecycle": { "missing": "delete", "delete_after_days": 1, "inactive": "anonymise", "strip_groups": true },
        "safety": { "max_destructive_percent": 50 }
    })));
    let sim = h.simulate(&config);
    assert!(h.users().is_empty());
    assert_eq!(sim.counts, h.sync(&config).counts);

    all[0] = all[0].replace(",active,", ",inactive,");
    all[1] = all[1].replace(",user2,", ",user2b,");
    all[2] = all[2].replace("Staff", "Staff;New");
    all.remove(3);
    h.write_users(&all);
    for _ in 0..2 {
        let before = h.users();
        let sim = h.simulate(&config);
        assert_eq!(h.users(), before, "simulation changed the directory");
        assert_eq!(sim.writes, 0);
        let real = h.sync(&config);
        assert_eq!(sim.counts, real.counts);
        h.advance_days(1);
    }
    let last = h.engine.history(1).unwrap().remove(0);
    assert_eq!(last.counts.deleted, 1, "the second round deleted the leaver");
}
