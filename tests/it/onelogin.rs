//! The OneLogin connector against the API emulator on 127.0.0.1.

use std::time::Duration;

use serde_json::{json, Value};
use usersync::model::Target;
use usersync::store::RunStatus;

use crate::support::onelogin::OneLogin;
use crate::support::Harness;

fn connector(ol: &OneLogin, source: Value) -> Value {
    let mut src = ol.source();
    crate::support::merge(&mut src, source);
    json!({
        "id": "onelogin", "type": "onelogin", "preset": "onelogin", "source": src,
        "manager": { "target": "property:manager", "write": "username", "match": "id" },
        "groups": { "create_missing": true }
    })
}

#[test]
fn an_account_of_300_users_syncs_with_roles_and_the_group_and_a_second_run_writes_nothing() {
    let ol = OneLogin::start(300, 5000, Duration::from_secs(3600));
    let h = Harness::new();
    let config = h.config(connector(&ol, json!({ "groups_from": "both" })));
    assert!(h.engine.check(&config, "onelogin").unwrap().ok);
    let r = h.sync(&config);
    assert_eq!((r.status, r.counts.created, r.counts.failed), (RunStatus::Done, 288, 0), "{:?}", r.failures);
    assert_eq!(ol.count("GET /api/2/users"), 6 + 1, "6 pages of 50, and the check's");
    let u = h.user("user15");
    assert_eq!(u.values.get(&Target::Email), Some("user15@acme.example"));
    assert_eq!(u.values.get(&"property:employee_no".parse().unwrap()), Some("E15"));
    assert_eq!(u.values.get(&"property:manager".parse().unwrap()), Some("user0"));
    let groups: Vec<String> = u.groups.into_iter().collect();
    assert_eq!(groups, vec!["Engineering", "Finance"]);
    assert!(h.user("user3").groups.contains("Contractors"));
    assert!(h.find("user24").is_none(), "suspended in OneLogin");
    assert!(
        r.notes.iter().any(|n| n.starts_with("OneLogin API budget: ") && n.contains("of 5000 an hour")),
        "{:?}",
        r.notes
    );
    assert_eq!(h.sync(&config).writes, 0);

    // The users are handed over page by page, not once the listing is read to the end.
    let before = ol.count("GET /api/2/users");
    let (handed, pages) = h.read_source_probing(&config, || ol.count("GET /api/2/users") - before);
    assert_eq!((handed, pages), (300, Some(1)), "users handed over, and user pages read at the first");
}

#[test]
fn a_sync_never_takes_more_than_its_share_of_the_hourly_budget() {
    // An account budget of 12 calls per (shortened) hour, half of them for usersync: the
    // 600-user listing needs 12 pages, so the sync waits for the budget to renew.
    let ol = OneLogin::start(600, 12, Duration::from_secs(2));
    let h = Harness::new();
    let config = h.config(connector(&ol, json!({ "groups_from": "none", "api_budget_percent": 50 })));
    let r = h.sync(&config);
    assert_eq!((r.status, r.counts.created), (RunStatus::Done, 576), "{:?}", r.failures);
    let left = ol.state.lock().unwrap().min_remaining;
    assert!(left >= 6, "the sync left {left} of 12 calls; half must stay for others");
    let note = r.notes.iter().find(|n| n.starts_with("OneLogin API budget")).unwrap();
    assert!(note.contains("at most 50% used by usersync") && note.contains("waited"), "{note}");
}

#[test]
fn a_failed_second_page_never_disables_anyone_and_a_wrong_secret_is_never_shown() {
    let ol = OneLogin::start(120, 5000, Duration::from_secs(3600));
    let h = Harness::new();
    let config = h.config(connector(&ol, json!({ "groups_from": "none", "http": { "max_attempts": 2 } })));
    assert_eq!(h.sync(&config).counts.created, 116);
    ol.state.lock().unwrap().fail_page = Some(2);
    let r = h.sync(&config);
    assert_eq!(r.counts.disabled, 0, "{:?}", r.counts);
    assert!(format!("{:?}", r.failures).contains("stopped after 50 users"), "{:?}", r.failures);
    let wrong = h.config(connector(&ol, json!({ "client_secret": "not-the-secret", "http": { "max_attempts": 1 } })));
    let check = h.engine.check(&wrong, "onelogin").unwrap();
    let detail = &check.steps[0].detail;
    assert!(!check.ok && detail.contains("POST /auth/oauth2/v2/token: 401 Unauthorized"), "{detail}");
    assert!(!detail.contains("not-the-secret"));
}

#[test]
fn an_incremental_run_reads_only_users_updated_since_the_last_round() {
    let ol = OneLogin::start(200, 5000, Duration::from_secs(3600));
    let h = Harness::new();
    let config = h.config(connector(&ol, json!({ "groups_from": "roles" })));
    let incremental = || usersync::engine::RunRequest {
        mode: usersync::engine::Mode::Incremental,
        ..usersync::engine::RunRequest::full(Some("onelogin"))
    };
    let first = h.engine.run(&config, &incremental(), &|_| {}).unwrap();
    assert_eq!(first.counts.created, 192);
    {
        let mut s = ol.state.lock().unwrap();
        s.users[7]["title"] = json!("Architect");
        s.users[7]["updated_at"] = json!("2026-11-20T10:00:00.000Z");
    }
    let pages_before = ol.count("GET /api/2/users");
    let second = h.engine.run(&config, &incremental(), &|_| {}).unwrap();
    assert_eq!(
        (second.status, second.counts.updated, second.mode.as_str()),
        (RunStatus::Done, 1, "incremental"),
        "{:?}",
        second.counts
    );
    assert_eq!(
        ol.count("GET /api/2/users") - pages_before,
        1,
        "one page: the users updated since (and a minute before)"
    );
    assert_eq!(h.user("user7").values.get(&"property:title".parse().unwrap()), Some("Architect"));
}

#[test]
fn a_budget_another_integration_used_up_is_waited_out() {
    let ol = OneLogin::start(60, 100, Duration::from_secs(2));
    let h = Harness::new();
    let config = h.config(connector(&ol, json!({ "groups_from": "none" })));
    ol.state.lock().unwrap().exhaust();
    let r = h.sync(&config);
    assert_eq!((r.status, r.counts.created), (RunStatus::Done, 58), "{:?}", r.failures);
    assert!(ol.count("POST /auth/oauth2/v2/token") >= 2, "the first answer was 429 and was waited out");
}
