//! Identity: users are anchored on the source's immutable id; renames, links, duplicates and
//! collisions.

use serde_json::json;
use usersync::directory::NewUser;
use usersync::store::RunStatus;

use crate::support::{connector, people, row, Harness};

#[test]
fn a_changed_username_is_a_rename_not_a_new_user() {
    let h = Harness::new();
    let mut all = people(5);
    h.write_users(&all);
    let config = h.config(connector(json!({})));
    h.sync(&config);
    let key = h.user("user2").key;

    all[1] = all[1].replace(",user2,", ",user2-married,");
    h.write_users(&all);
    let r = h.sync(&config);
    assert_eq!((r.counts.renamed, r.counts.created, r.counts.disabled), (1, 0, 0));
    let u = h.user("user2-married");
    assert_eq!(u.key, key, "same directory user");
    assert!(h.find("user2").is_none());
    let (_, results) = h.engine.run_details(r.run_id).unwrap();
    let ops = serde_json::to_value(&results.iter().find(|u| u.username == "user2-married").unwrap().ops).unwrap();
    assert_eq!(ops[0]["op"], "rename");
    assert_eq!((ops[0]["from"].as_str(), ops[0]["to"].as_str()), (Some("user2"), Some("user2-married")));
}

#[test]
fn a_rename_onto_a_taken_username_fails_for_that_user_only() {
    let h = Harness::new();
    let mut all = people(5);
    h.write_users(&all);
    let config = h.config(connector(json!({})));
    h.sync(&config);
    all[0] = all[0].replace(",user1,", ",user2,").replace("user1@", "first@");
    all[2] = all[2].replace("User3 Person", "Third Person");
    h.write_users(&all);
    let r = h.sync(&config);
    assert_eq!(r.status, RunStatus::PartiallyFailed);
    assert_eq!(r.exit_code(), 4);
    // user2 already holds the name and keeps it; the newcomer fails; others go on.
    assert_eq!((r.counts.failed, r.counts.updated), (1, 1));
    assert_eq!(r.failures[0].user, "user2");
    assert_eq!(r.failures[0].error, "duplicate username 'user2': also produced by source id(s) 102");
    assert_eq!(h.user("user1").value(&"email".parse().unwrap()), Some("user1@example.com"), "nothing overwritten");
}

#[test]
fn rename_collision_with_an_unmanaged_user_is_reported() {
    let h = Harness::new();
    let mut all = people(3);
    h.write_users(&all);
    let config = h.config(connector(json!({})));
    h.sync(&config);
    h.engine
        .directory()
        .create_user(&NewUser {
            username: "boss".into(),
            display_name: "Boss".into(),
            email: None,
            active: true,
            external_id: String::new(),
        })
        .unwrap();
    all[0] = all[0].replace(",user1,", ",boss,");
    h.write_users(&all);
    let r = h.sync(&config);
    assert_eq!(r.counts.failed, 1);
    assert!(r.failures[0].error.contains("cannot rename 'user1' to 'boss'"), "{}", r.failures[0].error);
    assert_eq!(h.user("boss").value(&"display_name".parse().unwrap()), Some("Boss"));
}

#[test]
fn existing_users_are_linked_only_when_allowed() {
    let h = Harness::new();
    h.write_users(&people(3));
    let dir = h.engine.directory();
    for (name, email) in [("user1", "old1@example.com"), ("legacy2", "user2@example.com")] {
        dir.create_user(&NewUser {
            username: name.into(),
            display_name: name.into(),
            email: Some(email.into()),
            active: true,
            external_id: String::new(),
        })
        .unwrap();
    }
    let plain = h.config(connector(json!({})));
    let r = h.sync(&plain);
    assert_eq!((r.counts.created, r.counts.failed), (2, 1));
    assert!(
        r.failures[0].error.contains("already exists in the directory and is not linked"),
        "{}",
        r.failures[0].error
    );

    let h = Harness::new();
    h.write_users(&people(3));
    let dir = h.engine.directory();
    dir.create_user(&NewUser {
        username: "user1".into(),
        display_name: "Old".into(),
        email: None,
        active: true,
        external_id: String::new(),
    })
    .unwrap();
    let by_name = h.config(connector(json!({ "link_existing": "username" })));
    let r = h.sync(&by_name);
    assert_eq!((r.counts.created, r.counts.updated, r.counts.failed), (2, 1, 0));
    assert_eq!(h.user("user1").value(&"display_name".parse().unwrap()), Some("User1 Person"));
    assert_eq!(h.users().len(), 3);

    let h = Harness::new();
    h.write_users(&people(3));
    h.engine
        .directory()
        .create_user(&NewUser {
            username: "legacy2".into(),
            display_name: "L".into(),
            email: Some("USER2@example.com".into()),
            active: true,
            external_id: String::new(),
        })
        .unwrap();
    let by_email = h.config(connector(json!({ "link_existing": "email" })));
    let r = h.sync(&by_email);
    assert_eq!((r.counts.created, r.counts.renamed), (2, 1));
    assert!(h.find("legacy2").is_none());
    assert_eq!(h.users().len(), 3);
}

#[test]
fn an_anchor_lost_in_a_crash_is_recovered_from_the_external_id() {
    let h = Harness::new();
    h.write_users(&people(3));
    // A user created by an earlier run whose anchor was never committed.
    h.engine
        .directory()
        .create_user(&NewUser {
            username: "user1".into(),
            display_name: "User1 Person".into(),
            email: Some("user1@example.com".into()),
            active: true,
            external_id: "101".into(),
        })
        .unwrap();
    let r = h.sync(&h.config(connector(json!({}))));
    assert_eq!((r.counts.created, r.counts.failed), (2, 0));
    assert_eq!(h.users().len(), 3);
}

#[test]
fn single_user_sync_touches_one_user_and_never_cleans_up() {
    let h = Harness::new();
    let mut all = people(6);
    h.write_users(&all);
    let config = h.config(connector(json!({})));
    h.sync(&config);
    all[2] = row(103, "user3", "Staff;Extra");
    all[3] = all[3].replace("User4 Person", "Changed");
    all.remove(5);
    h.write_users(&all);

    let r = h.sync_user(&config, "user3");
    assert_eq!(r.mode, "single_user");
    assert_eq!((r.counts.updated, r.counts.disabled, r.writes), (1, 0, 2), "create group + add membership");
    assert!(h.user("user3").groups.contains("Extra"));
    assert_eq!(h.user("user4").value(&"display_name".parse().unwrap()), Some("User4 Person"));
    assert!(h.user("user6").active);
    // By source id too.
    assert_eq!(h.sync_user(&config, "104").counts.updated, 1);
    assert_eq!(h.user("user4").value(&"display_name".parse().unwrap()), Some("Changed"));
    let r = h.sync_user(&config, "nobody");
    assert_eq!(r.status, RunStatus::Failed);
    assert!(r.error.unwrap().contains("no source user with id or username 'nobody'"));
}
