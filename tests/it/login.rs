//! The login hook: reactivation from the source and just-in-time provisioning.

use serde_json::json;

use crate::support::{connector, people, Harness};

#[test]
fn an_active_user_is_allowed_without_a_lookup() {
    let h = Harness::new();
    h.write_users(&people(3));
    let config = h.config(connector(json!({})));
    h.sync(&config);
    let d = h.engine.on_login(&config, "hr", "USER1").unwrap();
    assert!(d.allow);
    assert_eq!((d.reason.as_str(), d.run_id), ("active", None));
}

#[test]
fn a_user_the_sync_disabled_is_reactivated_when_the_source_says_active() {
    let h = Harness::new();
    let all = people(12);
    h.write_users(&all);
    let config = h.config(connector(json!({})));
    h.sync(&config);
    h.write_users(&all[1..]);
    h.sync(&config);
    assert!(!h.user("user1").active);

    let d = h.engine.on_login(&config, "hr", "user1").unwrap();
    assert!(!d.allow, "still missing from the source");
    assert!(d.reason.contains("no source user"), "{}", d.reason);

    let mut back = all.clone();
    back[0] = back[0].replace("User1 Person", "User One");
    h.write_users(&back);
    let d = h.engine.on_login(&config, "hr", "user1").unwrap();
    assert!(d.allow, "{}", d.reason);
    assert_eq!(d.reason, "reactivated: active in the source");
    let u = h.user("user1");
    assert!(u.active);
    assert_eq!(u.value(&"display_name".parse().unwrap()), Some("User One"), "updated before the decision");
    let (run, _) = h.engine.run_details(d.run_id.unwrap()).unwrap();
    assert_eq!((run.trigger.as_str(), run.mode.as_str()), ("login", "single_user"));
}

#[test]
fn a_user_disabled_by_hand_stays_out() {
    let h = Harness::new();
    h.write_users(&people(3));
    let config = h.config(connector(json!({})));
    h.sync(&config);
    h.engine.directory().set_active(&h.user("user2").key, false).unwrap();
    let d = h.engine.on_login(&config, "hr", "user2").unwrap();
    assert!(!d.allow);
    assert_eq!(d.reason, "disabled in the directory, not by the sync");
    assert!(!h.user("user2").active);
}

#[test]
fn unknown_users_are_provisioned_just_in_time_only_when_allowed() {
    let h = Harness::new();
    h.write_users(&people(3));
    let off = h.config(connector(json!({})));
    let d = h.engine.on_login(&off, "hr", "user2").unwrap();
    assert!(!d.allow);
    assert!(d.reason.contains("just-in-time provisioning is off"), "{}", d.reason);
    assert!(h.users().is_empty());

    let on = h.config(connector(json!({ "provision_on_login": true })));
    let d = h.engine.on_login(&on, "hr", "user2").unwrap();
    assert!(d.allow, "{}", d.reason);
    assert_eq!(d.reason, "provisioned just in time from the source");
    assert_eq!(h.users().len(), 1, "only the user logging in");
    let d = h.engine.on_login(&on, "hr", "stranger").unwrap();
    assert!(!d.allow);
    assert!(h.find("stranger").is_none());
}
