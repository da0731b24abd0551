//! The Keycloak connector against the Admin REST API emulator on 127.0.0.1.

use serde_json::{json, Value};
use usersync::model::Target;
use usersync::store::RunStatus;

use crate::support::keycloak::{uid, Keycloak};
use crate::support::Harness;

fn connector(kc: &Keycloak, source: Value, patch: Value) -> Value {
    let mut src = kc.source();
    crate::support::merge(&mut src, source);
    let mut c = json!({
        "id": "keycloak", "type": "keycloak", "preset": "keycloak", "source": src,
        "manager": { "target": "property:manager", "write": "username", "match": "id" },
        "groups": { "create_missing": true }
    });
    crate::support::merge(&mut c, patch);
    c
}

fn value(h: &Harness, user: &str, target: &str) -> Option<String> {
    h.user(user).values.get(&target.parse::<Target>().unwrap()).map(str::to_string)
}

#[test]
fn a_realm_of_250_users_syncs_in_pages_with_sub_groups_and_managers_and_a_second_run_writes_nothing() {
    let kc = Keycloak::start(250);
    let h = Harness::new();
    let config = h.config(connector(&kc, json!({ "groups": "transitive", "manager_attribute": "manager" }), json!({})));
    let check = h.engine.check(&config, "keycloak").unwrap();
    assert!(check.ok, "{check:?}");
    let r = h.sync(&config);
    // Every 20th user is disabled in Keycloak: not created.
    assert_eq!((r.status, r.counts.created, r.counts.failed), (RunStatus::Done, 238, 0), "{:?}", r.failures);
    assert_eq!(kc.count("GET /users"), 3, "250 users in pages of 100");
    assert_eq!(kc.count("GET /groups/{id}/children"), 1, "only engineering has sub-groups");
    assert_eq!(value(&h, "user0012", "email").as_deref(), Some("user12@staff.example"));
    assert_eq!(value(&h, "user0012", "display_name").as_deref(), Some("User Number12"));
    assert_eq!(value(&h, "user0012", "property:department").as_deref(), Some("Dept 0"));
    assert_eq!(value(&h, "user0012", "property:manager").as_deref(), Some("user0001"));
    assert_eq!(value(&h, "user0005", "property:manager").as_deref(), Some("user0000"));
    // A member of the sub-group platform is in engineering too (transitive).
    let groups: Vec<String> = h.user("user0012").groups.into_iter().collect();
    assert_eq!(groups, vec!["engineering", "platform"]);
    assert!(h.find("user0019").is_none(), "disabled in Keycloak");
    assert_eq!(h.sync(&config).writes, 0, "a second run writes nothing");

    // The users are handed over page by page, not once the listing is read to the end.
    let before = kc.count("GET /users");
    let (handed, pages) = h.read_source_probing(&config, || kc.count("GET /users") - before);
    assert_eq!((handed, pages), (250, Some(1)), "users handed over, and user pages read at the first");
}

#[test]
fn group_paths_and_realm_roles_can_name_groups() {
    let kc = Keycloak::start(30);
    let h = Harness::new();
    let config = h.config(connector(&kc, json!({ "group_names": "path", "roles": true }), json!({})));
    assert_eq!(h.sync(&config).status, RunStatus::Done);
    let groups: Vec<String> = h.user("user0012").groups.into_iter().collect();
    assert_eq!(groups, vec!["/engineering/platform"], "direct membership, by path");
    let groups: Vec<String> = h.user("user0001").groups.into_iter().collect();
    assert_eq!(groups, vec!["/engineering", "auditor"]);
}

#[test]
fn a_failed_second_page_or_throttling_never_disables_anyone() {
    let kc = Keycloak::start(250);
    let h = Harness::new();
    let config = h.config(connector(&kc, json!({ "groups": "none", "http": { "max_attempts": 2 } }), json!({})));
    assert_eq!(h.sync(&config).counts.created, 238);
    kc.state.lock().unwrap().fail_page = Some(2);
    let r = h.sync(&config);
    assert_eq!((r.counts.disabled, r.counts.created), (0, 0), "{:?}", r.counts);
    assert!(format!("{:?}", r.failures).contains("stopped after 100 users"), "{:?}", r.failures);
    assert_eq!(h.active_usernames().len(), 238);
    // A user removed between the count and the pages: they disagree, nobody is taken for gone.
    {
        let mut s = kc.state.lock().unwrap();
        s.fail_page = None;
        s.users.retain(|u| u["id"] != uid(3));
        s.phantom = 1;
    }
    let r = h.sync(&config);
    assert_eq!(r.counts.disabled, 0, "{:?} {:?} {:?}", r.counts, r.failures, r.notes);
    assert!(format!("{:?}", r.failures).contains("changed while paging"), "{:?}", r.failures);
    kc.state.lock().unwrap().phantom = 0;
    assert_eq!(h.sync(&config).counts.disabled, 1, "the removal, seen on a whole listing, is processed");
    // Throttled answers are waited out (Retry-After), and the run completes.
    kc.state.lock().unwrap().throttle = 2;
    let patient = h.config(connector(&kc, json!({ "groups": "none" }), json!({})));
    let r = h.sync(&patient);
    assert_eq!((r.status, r.writes), (RunStatus::Done, 0), "{:?}", r.failures);
}

#[test]
fn a_wrong_secret_is_named_and_never_shown() {
    let kc = Keycloak::start(5);
    let h = Harness::new();
    let config = h.config(connector(
        &kc,
        json!({ "client_secret": "wrong-secret-123", "http": { "max_attempts": 1 } }),
        json!({}),
    ));
    let check = h.engine.check(&config, "keycloak").unwrap();
    assert!(!check.ok);
    let detail = &check.steps[0].detail;
    assert!(
        detail.contains("401 unauthorized_client") && detail.contains("/protocol/openid-connect/token"),
        "{detail}"
    );
    assert!(!detail.contains("wrong-secret-123"), "{detail}");
    let r = h.sync(&config);
    assert_eq!(r.status, RunStatus::Failed);
    assert!(h.users().is_empty());
}
