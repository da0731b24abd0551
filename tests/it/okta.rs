//! The Okta connector against the Okta emulator on 127.0.0.1.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use usersync::store::RunStatus;

use crate::support::okta::{self, Okta};
use crate::support::Harness;

const USERS: &str = "GET /api/v1/users";

pub(crate) fn connector(okta: &Okta, patch: Value) -> Value {
    let mut c = json!({
        "id": "okta",
        "type": "okta",
        "source": okta.source(),
        "mapping": [
            { "target": "username", "source": "profile.login", "transforms": ["strip_domain", "lowercase"] },
            { "target": "display_name", "source": { "template": "{profile.firstName} {profile.lastName}" } },
            { "target": "email", "source": "profile.email" },
            { "target": "profile:department", "source": "profile.department" },
            { "target": "property:okta_status", "source": "status" }
        ],
        "safety": { "max_destructive_percent": 20 }
    });
    crate::support::merge(&mut c, patch);
    c
}

#[test]
fn an_org_of_2000_users_syncs_with_statuses_groups_and_deprovisioned_users() {
    let o = Okta::start(2000, 50);
    let h = Harness::new();
    let config = h.config(connector(&o, json!({})));
    let r = h.sync(&config);
    // 80 deprovisioned and 53 (more) suspended users are inactive: known, not created.
    assert_eq!((r.status, r.counts.created, r.counts.filtered, r.counts.failed), (RunStatus::Done, 1867, 133, 0));
    let p3 = h.user("person3");
    assert_eq!(p3.value(&"property:okta_status".parse().unwrap()), Some("PASSWORD_EXPIRED"), "still active");
    assert_eq!(p3.value(&"display_name".parse().unwrap()), Some("Person No3"));
    assert_eq!(p3.groups.iter().collect::<Vec<_>>(), vec!["Okta Group 3"]);
    assert!(h.find("person24").is_none(), "DEPROVISIONED");
    // ⌈1920/200⌉ pages of the plain list and one of deprovisioned users.
    assert_eq!(o.count(USERS), 10 + 1);
    assert_eq!(o.count("GET /api/v1/groups/{id}/users"), 50);

    let again = h.sync(&config);
    assert_eq!((again.writes, again.counts.unchanged), (0, 1867));

    // A user suspended in Okta is disabled; deprovisioned later, they stay known, not missing.
    o.state.lock().unwrap().users[7]["status"] = json!("SUSPENDED");
    let r = h.sync(&config);
    assert_eq!(r.counts.disabled, 1);
    assert!(!h.user("person7").active);
    o.state.lock().unwrap().users[7]["status"] = json!("DEPROVISIONED");
    assert_eq!(h.sync(&config).writes, 1, "only the status property changes");

    // The users are handed over page by page, not once the listing is read to the end.
    let before = o.count(USERS);
    let (handed, pages) = h.read_source_probing(&config, || o.count(USERS) - before);
    assert_eq!((handed, pages), (2000, Some(1)), "users handed over, and user pages read at the first");
}

#[test]
fn rate_limits_are_waited_out() {
    let o = Okta::start(300, 2);
    {
        let mut s = o.state.lock().unwrap();
        s.throttle = 2;
        s.window = Some(3);
    }
    let h = Harness::new();
    let started = Instant::now();
    let r = h.sync(&h.config(connector(&o, json!({}))));
    assert_eq!((r.status, r.counts.failed), (RunStatus::Done, 0));
    assert!(r.counts.created > 250);
    // Two 429s with a reset about a second ahead, and a window that ran dry.
    assert!(started.elapsed() >= Duration::from_millis(1500), "{:?}", started.elapsed());
}

#[test]
fn a_listing_that_fails_part_way_disables_nobody() {
    let o = Okta::start(1000, 0);
    let h = Harness::new();
    let config = h.config(connector(&o, json!({ "source": { "groups": "none", "http": { "max_attempts": 2 } } })));
    let first = h.sync(&config);
    o.state.lock().unwrap().fail_page = Some(3);
    let r = h.sync(&config);
    assert_eq!((r.status, r.counts.disabled), (RunStatus::PartiallyFailed, 0));
    assert_eq!(h.active_usernames().len() as u64, first.counts.created);
    assert!(r.failures[0].error.contains("okta: GET /api/v1/users: 500 E0000009"), "{}", r.failures[0].error);
}

#[test]
fn missing_rights_and_bad_tokens_are_explained_without_the_token() {
    let o = Okta::start(3, 1);
    o.state.lock().unwrap().deny = true;
    let h = Harness::new();
    let config = h.config(connector(&o, json!({})));
    let check = h.engine.check(&config, "okta").unwrap();
    assert!(!check.ok);
    assert_eq!(
        check.steps[0].detail,
        "okta: GET /api/v1/users: 403 E0000006 (the API token's administrator needs at least the Read-Only Administrator role)"
    );
    let bad = h.config(connector(&o, json!({ "source": { "api_token": "not-the-token" } })));
    let r = h.sync(&bad);
    assert_eq!(r.status, RunStatus::Failed);
    let e = r.error.unwrap();
    // Groups are read first (each user then goes on with its groups as its page is read).
    assert!(e.contains("okta: GET /api/v1/groups: 401 E0000011 (check the credentials"), "{e}");
    assert!(!e.contains("not-the-token") && !e.contains(okta::TOKEN), "{e}");
}

#[test]
fn unknown_statuses_in_the_configuration_are_errors() {
    let o = Okta::start(1, 0);
    let doc =
        json!({ "connectors": [connector(&o, json!({ "source": { "inactive_statuses": ["SUSPENDED", "GONE"] } }))] });
    let e = usersync::config::Config::from_json("c", &doc.to_string(), ".".into()).unwrap_err();
    assert!(
        e.errors[0].to_string().starts_with("connectors[0].source.inactive_statuses: unknown Okta status GONE"),
        "{e}"
    );
}

#[test]
fn the_okta_preset_maps_an_org_without_rules() {
    let o = Okta::start(12, 1);
    let h = Harness::new();
    let config = h.config(json!({ "id": "okta", "type": "okta", "source": o.source(), "preset": "okta" }));
    let r = h.sync(&config);
    assert_eq!((r.status, r.counts.failed), (RunStatus::Done, 0));
    let u = h.user("person7");
    assert_eq!(u.value(&"display_name".parse().unwrap()), Some("Person No7"));
    assert_eq!(u.value(&"property:title".parse().unwrap()), Some("Analyst"));
}

#[test]
fn incremental_runs_follow_last_updated_with_overlap() {
    let o = Okta::start(450, 2);
    let h = Harness::new();
    let config = h.config(connector(&o, json!({})));
    let incremental = usersync::engine::RunRequest {
        mode: usersync::engine::Mode::Incremental,
        ..usersync::engine::RunRequest::full(None)
    };
    let first = h.engine.run(&config, &incremental, &|_| {}).unwrap();
    assert_eq!((first.status, first.mode.as_str()), (RunStatus::Done, "full"));
    assert!(first.counts.created > 400);

    o.state.lock().unwrap().requests.clear();
    let none = h.engine.run(&config, &incremental, &|_| {}).unwrap();
    assert_eq!((none.writes, o.count(USERS)), (0, 1), "one filtered request, nothing written");

    o.touch(8, "department", json!("Finance"));
    let r = h.engine.run(&config, &incremental, &|_| {}).unwrap();
    assert_eq!((r.counts.updated, r.writes), (1, 1));
    assert_eq!(h.user("person8").value(&"profile:department".parse().unwrap()), Some("Finance"));
    assert_eq!(h.user("person8").groups.len(), 1, "memberships are left alone when not read");
}

#[test]
fn incremental_runs_follow_group_membership_changes_from_the_system_log() {
    let o = Okta::start(60, 3);
    let h = Harness::new();
    let config = h.config(connector(&o, json!({})));
    let incremental = usersync::engine::RunRequest {
        mode: usersync::engine::Mode::Incremental,
        ..usersync::engine::RunRequest::full(None)
    };
    h.engine.run(&config, &incremental, &|_| {}).unwrap();
    let groups = |u: &str| h.user(u).groups.into_iter().collect::<Vec<_>>();
    assert_eq!(groups("person7"), vec!["Okta Group 1"]);

    // person7 moves from group 1 to group 2; the profile (and `lastUpdated`) stays as it was.
    o.move_member(7, 1, 2, "2026-11-20T10:00:00.000Z");
    o.state.lock().unwrap().requests.clear();
    let r = h.engine.run(&config, &incremental, &|_| {}).unwrap();
    assert_eq!((r.status, r.counts.updated, r.counts.created), (RunStatus::Done, 1, 0), "{:?}", r.counts);
    assert_eq!(groups("person7"), vec!["Okta Group 2"], "the membership removed and the new one added");
    assert_eq!(o.count("GET /api/v1/logs"), 1);
    assert_eq!(o.count("GET /api/v1/users/{id}"), 1, "the moved user is read");
    // Groups are read whole for each user of the round: the moved one, and the newest user the
    // minute of overlap reads again.
    assert_eq!(o.count("GET /api/v1/users/{id}/groups"), 2);
    assert_eq!(o.count("GET /api/v1/groups/{id}/users"), 0, "no group is read whole");

    // The watermark moved past the events: the next round finds nothing.
    let none = h.engine.run(&config, &incremental, &|_| {}).unwrap();
    assert_eq!((none.writes, none.counts.updated), (0, 0));

    // Without the right to read the System Log, a round still succeeds; the move waits for the
    // next full run.
    o.state.lock().unwrap().deny_logs = true;
    o.move_member(8, 2, 0, "2026-11-21T10:00:00.000Z");
    let blind = h.engine.run(&config, &incremental, &|_| {}).unwrap();
    assert_eq!((blind.status, blind.writes), (RunStatus::Done, 0));
    assert_eq!(groups("person8"), vec!["Okta Group 2"]);
    h.sync(&config);
    assert_eq!(groups("person8"), vec!["Okta Group 0"]);
}

#[test]
fn an_oauth_service_app_authenticates_with_private_key_jwt() {
    let o = Okta::start(30, 1);
    let h = Harness::new();
    h.write("okta-app.pem", crate::support::google::KEY_PEM);
    let source = json!({ "org_url": o.url(), "client_id": okta::SERVICE_APP, "private_key_file": "okta-app.pem",
        "http": { "retry_base_ms": 10 } });
    let mut c = connector(&o, json!({}));
    c["source"] = source;
    let r = h.sync(&h.config(c.clone()));
    assert_eq!((r.status, r.counts.failed), (RunStatus::Done, 0));
    assert_eq!(o.count("POST /oauth2/v1/token"), 1, "one token for the run");

    c["source"]["client_id"] = json!("0oa-someone-else");
    let r = h.sync(&h.config(c));
    let e = r.error.unwrap();
    assert!(e.contains("okta: POST /oauth2/v1/token: 401 invalid_client (grant the service app the scopes"), "{e}");
    assert!(!e.contains("PRIVATE KEY"), "{e}");
}

#[test]
fn a_login_reads_only_that_okta_user() {
    let o = Okta::start(600, 3);
    let h = Harness::new();
    let config = h.config(connector(&o, json!({})));
    h.sync(&config);
    o.state.lock().unwrap().users[8]["status"] = json!("SUSPENDED");
    assert_eq!(h.sync(&config).counts.disabled, 1);
    o.state.lock().unwrap().users[8]["status"] = json!("ACTIVE");
    o.state.lock().unwrap().requests.clear();
    let d = h.engine.on_login(&config, "okta", "person8").unwrap();
    assert!(d.allow, "{}", d.reason);
    assert_eq!(o.count(USERS), 0, "no org listing for one login");
    assert_eq!((o.count("GET /api/v1/users/{id}"), o.count("GET /api/v1/users/{id}/groups")), (1, 1));
    assert_eq!(h.user("person8").groups.iter().collect::<Vec<_>>(), vec!["Okta Group 2"]);
}
