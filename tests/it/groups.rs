//! Group rules: required, always-assigned, locally managed, name transforms, include patterns,
//! creation of missing groups and removal of memberships the source dropped.

use std::collections::BTreeSet;

use serde_json::json;

use crate::support::{connector, row, Harness};

fn groups(h: &Harness, user: &str) -> Vec<String> {
    h.user(user).groups.into_iter().collect()
}

#[test]
fn required_groups_decide_who_is_synced() {
    let h = Harness::new();
    h.write_users(&[row(1, "ann", "Engineering"), row(2, "bob", "Visitors"), row(3, "cy", "engineering;Other")]);
    let config = h.config(connector(json!({ "groups": { "required": ["Engineering"] } })));
    let r = h.sync(&config);
    assert_eq!((r.counts.created, r.counts.filtered), (2, 1));
    assert!(h.find("bob").is_none());
    let (_, results) = h.engine.run_details(r.run_id).unwrap();
    let bob = results.iter().find(|u| u.idp_id.as_deref() == Some("2")).unwrap();
    assert_eq!(bob.reason.as_deref(), Some("not a member of a required group (Engineering)"));
    // Without include patterns, the required groups are the ones assigned.
    assert_eq!(groups(&h, "cy"), vec!["Engineering"]);
}

#[test]
fn always_groups_transforms_and_include_patterns() {
    let h = Harness::new();
    h.write_users(&[row(1, "ann", " Dev Team ;VPN;Sales")]);
    let config = h.config(connector(json!({ "groups": {
        "transforms": ["trim", "lowercase", { "type": "replace", "search": " ", "with": "-" }],
        "include": ["^(dev-team|sales)$"],
        "always": ["jira-users"]
    }})));
    h.sync(&config);
    assert_eq!(groups(&h, "ann"), vec!["dev-team", "jira-users", "sales"]);
    let all: BTreeSet<String> = h.engine.directory().list_groups().unwrap();
    assert!(!all.contains("vpn"), "dropped groups are not created");
}

#[test]
fn memberships_the_source_drops_are_removed_but_local_and_foreign_groups_stay() {
    let h = Harness::new();
    h.write_users(&[row(1, "ann", "Dev;Ops;Helpdesk"), row(2, "bob", "Dev")]);
    let config = h.config(connector(json!({ "groups": { "local": ["helpdesk"] },
        "safety": { "max_destructive_percent": 50 } })));
    h.sync(&config);
    let dir = h.engine.directory();
    dir.create_group("jira-administrators").unwrap();
    dir.add_membership(&h.user("ann").key, "jira-administrators").unwrap();

    h.write_users(&[row(1, "ann", "Dev"), row(2, "bob", "Dev")]);
    let r = h.sync(&config);
    assert_eq!(r.counts.updated, 1);
    assert_eq!(
        groups(&h, "ann"),
        vec!["Dev", "Helpdesk", "jira-administrators"],
        "Ops removed; Helpdesk is local; jira-administrators was never managed by the sync"
    );

    // A group that disappears from the source entirely is still known as managed.
    h.write_users(&[row(1, "ann", ""), row(2, "bob", "Dev")]);
    h.sync(&config);
    assert_eq!(groups(&h, "ann"), vec!["Helpdesk", "jira-administrators"]);
}

#[test]
fn remove_unlisted_false_only_adds() {
    let h = Harness::new();
    h.write_users(&[row(1, "ann", "Dev;Ops")]);
    let config = h.config(connector(json!({ "groups": { "remove_unlisted": false } })));
    h.sync(&config);
    h.write_users(&[row(1, "ann", "Dev")]);
    assert_eq!(h.sync(&config).writes, 0);
    assert_eq!(groups(&h, "ann"), vec!["Dev", "Ops"]);
}

#[test]
fn missing_groups_are_created_only_when_allowed_and_names_match_case_insensitively() {
    let h = Harness::new();
    h.engine.directory().create_group("Engineering").unwrap();
    h.write_users(&[row(1, "ann", "engineering;Brand-New")]);
    let config = h.config(connector(json!({ "groups": { "create_missing": false } })));
    h.sync(&config);
    assert_eq!(groups(&h, "ann"), vec!["Engineering"]);
    assert_eq!(h.engine.directory().list_groups().unwrap().len(), 1);

    let create = h.config(connector(json!({})));
    let r = h.sync(&create);
    assert_eq!(r.writes, 2, "one group created, one membership added");
    assert_eq!(groups(&h, "ann"), vec!["Brand-New", "Engineering"]);
    assert_eq!(h.sync(&create).writes, 0);
}

/// A full run writes its users in batches while it still plans (engine/runner/applier.rs), each
/// batch with only the groups first needed since the one before: a group first needed late in
/// the listing is still created once, before its first member is written.
#[test]
fn groups_first_needed_late_in_a_full_run_are_created_once_before_their_members() {
    let h = Harness::new();
    // 700 users, a new group every 100: the early batches (256 plans) each bring new groups.
    let rows: Vec<String> = (0..700).map(|i| row(1000 + i, &format!("u{i}"), &format!("G{}", i / 100))).collect();
    h.write_users(&rows);
    let r = h.sync(&h.config(connector(json!({}))));
    assert_eq!((r.counts.created, r.counts.failed), (700, 0));
    assert_eq!(r.writes, 7 + 700 * 2, "7 groups created once; each user created and added to one group");
    let all: Vec<String> = h.engine.directory().list_groups().unwrap().into_iter().collect();
    assert_eq!(all, (0..7).map(|g| format!("G{g}")).collect::<Vec<_>>());
    for i in [0, 255, 256, 299, 300, 511, 512, 699] {
        assert_eq!(groups(&h, &format!("u{i}")), vec![format!("G{}", i / 100)], "user u{i}");
    }
}

#[test]
fn a_group_emptied_at_the_source_is_held_like_a_mass_disable() {
    let h = Harness::new();
    let rows: Vec<String> = (1..=20).map(|i| row(i, &format!("user{i}"), "Staff;Engineering")).collect();
    h.write_users(&rows);
    let config = h.config(connector(json!({})));
    h.sync(&config);
    // Engineering is renamed at the IdP: every member would lose it in one run.
    let rows: Vec<String> = (1..=20).map(|i| row(i, &format!("user{i}"), "Staff;Eng")).collect();
    h.write_users(&rows);
    let r = h.sync(&config);
    assert_eq!(r.status, usersync::store::RunStatus::Held, "{:?}", r.hold_reason);
    assert_eq!(r.counts.held, 20);
    assert!(r.hold_reason.as_deref().unwrap().contains("20 of 20"), "{:?}", r.hold_reason);
    assert_eq!(groups(&h, "user3"), vec!["Eng", "Engineering", "Staff"], "additions go on; removals wait");

    // A few members leaving a group stays under the limit and is applied at once.
    let mut rows: Vec<String> = (1..=20).map(|i| row(i, &format!("user{i}"), "Staff;Engineering;Eng")).collect();
    rows[0] = row(1, "user1", "Engineering;Eng");
    h.write_users(&rows);
    let r = h.sync(&config);
    assert_eq!(r.status, usersync::store::RunStatus::Done, "{:?}", r.hold_reason);
    assert_eq!(groups(&h, "user1"), vec!["Eng", "Engineering"]);
}
