//! The declarative `rest` connector, proven against two emulated IdPs through the example
//! configurations shipped in examples/rest/: the same directory and the same per-user results
//! as the native Okta and Keycloak connectors. Faults: a failed page, throttling, bad settings.

use serde_json::{json, Value};
use usersync::engine::RunReport;
use usersync::store::RunStatus;

use crate::support::keycloak::{self, Keycloak};
use crate::support::okta::{self, Okta};
use crate::support::Harness;

fn example(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/rest").join(format!("{name}.json"));
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["connectors"][0].clone()
}

/// What a run did, per user, in a form two connectors can be compared by: the username and the
/// operations, for every user with an operation.
fn outcome(h: &Harness, report: &RunReport) -> Vec<String> {
    let (_, results) = h.engine.run_details(report.run_id).unwrap();
    let mut out: Vec<String> = results
        .iter()
        .filter(|r| !r.ops.is_empty())
        .map(|r| format!("{} {:?}", r.username, r.ops.iter().map(|o| &o.op).collect::<Vec<_>>()))
        .collect();
    out.sort();
    out
}

fn directory(h: &Harness) -> Vec<String> {
    let mut users: Vec<String> =
        h.users().iter().map(|u| format!("{} {} {:?} {:?}", u.username, u.active, u.values, u.groups)).collect();
    users.sort();
    users
}

fn same_as_native(native: Value, rest: Value) {
    let manager = json!({ "target": "property:manager", "write": "username", "match": "id" });
    let (a, b) = (Harness::new(), Harness::new());
    let mut native = native;
    let mut rest = rest;
    native["manager"] = manager.clone();
    rest["manager"] = manager;
    let (ca, cb) = (a.config(native), b.config(rest));
    let (ra, rb) = (a.sync(&ca), b.sync(&cb));
    assert_eq!((ra.status, rb.status), (RunStatus::Done, RunStatus::Done), "{:?} {:?}", ra.failures, rb.failures);
    assert!(ra.counts.created > 100, "{:?}", ra.counts);
    assert_eq!(outcome(&a, &ra), outcome(&b, &rb), "the same per-user results");
    assert_eq!(directory(&a), directory(&b), "the same directory");
    assert_eq!(b.sync(&cb).writes, 0, "a second run writes nothing");
}

#[test]
fn the_okta_example_gives_the_native_connectors_results() {
    let o = Okta::start(450, 0);
    // Deprovisioned users: the native connector reads them as inactive, a plain list leaves them
    // out; neither creates them, so the results and the directory agree.
    let native = json!({ "id": "okta", "type": "okta", "preset": "okta",
        "source": { "org_url": o.url(), "api_token": okta::TOKEN, "groups": "none", "http": { "retry_base_ms": 10 } } });
    let mut rest = example("okta");
    rest["id"] = json!("okta");
    rest["source"]["base_url"] = json!(o.url());
    rest["source"]["auth"]["value"] = json!(okta::TOKEN);
    same_as_native(native, rest.clone());

    // The records are handed over page by page, not once the listing is read to the end.
    let h = Harness::new();
    let before = o.count("GET /api/v1/users");
    let (handed, pages) = h.read_source_probing(&h.config(rest), || o.count("GET /api/v1/users") - before);
    assert_eq!((handed, pages), (450 - 18, Some(1)), "records handed over, and pages read at the first");
}

#[test]
fn the_keycloak_example_gives_the_native_connectors_results() {
    let kc = Keycloak::start(260);
    let mut native = json!({ "id": "keycloak", "type": "keycloak", "preset": "keycloak", "source": kc.source() });
    native["source"]["manager_attribute"] = json!("manager");
    native["source"]["groups"] = json!("none");
    let mut rest = example("keycloak");
    rest["id"] = json!("keycloak");
    rest["source"]["base_url"] = json!(kc.url());
    rest["source"]["auth"]["token_url"] =
        json!(format!("{}/realms/{}/protocol/openid-connect/token", kc.url(), keycloak::REALM));
    rest["source"]["auth"]["client_secret"] = json!(keycloak::CLIENT_SECRET);
    same_as_native(native, rest);
}

#[test]
fn a_failed_page_never_disables_anyone_and_throttling_is_waited_out() {
    let o = Okta::start(450, 0);
    let h = Harness::new();
    let mut rest = example("okta");
    rest["source"]["base_url"] = json!(o.url());
    rest["source"]["auth"]["value"] = json!(okta::TOKEN);
    rest["source"]["http"] = json!({ "retry_base_ms": 10, "max_attempts": 2 });
    let config = h.config(rest);
    let created = h.sync(&config).counts.created;
    assert!(created > 300);
    o.state.lock().unwrap().fail_page = Some(2);
    let r = h.sync(&config);
    assert_eq!(r.counts.disabled, 0, "{:?}", r.counts);
    assert!(format!("{:?}", r.failures).contains("the listing stopped after 200 records"), "{:?}", r.failures);
    o.state.lock().unwrap().fail_page = None;
    o.state.lock().unwrap().throttle = 1;
    let r = h.sync(&config);
    assert_eq!((r.status, r.writes), (RunStatus::Done, 0), "{:?}", r.failures);
}

#[test]
fn bad_settings_are_named_by_their_path() {
    let h = Harness::new();
    let doc = json!({ "connectors": [{ "id": "hr", "type": "rest", "mapping": [{ "target": "username", "source": "login" }],
        "source": { "base_url": "https://hr.example.com", "auth": { "type": "apikey" },
            "users": { "path": "people", "id": "id", "fields": { "login": "/login" } },
            "paging": { "style": "offset", "limit": 0 } } }] });
    let errors = usersync::config::Config::from_json("test", &doc.to_string(), h.path("")).unwrap_err().to_string();
    for expected in [
        "connectors[0].source.auth.type: unknown value 'apikey'",
        "connectors[0].source.users.path: starts with '/'",
        "connectors[0].source.users.id: 'id' is not a JSON Pointer",
        "connectors[0].source.paging.limit",
    ] {
        assert!(errors.contains(expected), "{expected}\nin: {errors}");
    }
}

#[test]
fn the_auth_secret_is_left_out_of_an_export_and_kept_on_import() {
    let h = Harness::new();
    let mut rest = example("okta");
    rest["source"]["auth"]["value"] = json!("ssws-secret-token-42");
    let config = h.config(rest);
    let exported = usersync::config::export_value(&config, false);
    assert!(!exported.to_string().contains("ssws-secret-token-42"), "{exported}");
    assert!(exported["connectors"][0]["source"]["auth"].get("value").is_none());
    let mut back = exported.clone();
    usersync::config::merge_secrets(&mut back, Some(&config));
    assert_eq!(back["connectors"][0]["source"]["auth"]["value"], json!("ssws-secret-token-42"));
}

/// The `rest` preset maps `users.fields` by the names it expects.
#[test]
fn the_rest_preset_maps_fields_named_as_it_expects() {
    let o = Okta::start(40, 0);
    let h = Harness::new();
    let config = h.config(json!({ "id": "hr", "type": "rest", "preset": "rest",
        "source": { "base_url": o.url(), "auth": { "type": "header", "name": "Authorization", "prefix": "SSWS ", "value": okta::TOKEN },
            "users": { "path": "/api/v1/users?limit=200", "id": "/id", "active": "/status", "inactive_values": ["SUSPENDED"],
                "fields": { "username": "/profile/login", "first_name": "/profile/firstName", "last_name": "/profile/lastName",
                    "email": "/profile/email", "department": "/profile/department" } },
            "paging": { "style": "link_header" } } }));
    let r = h.sync(&config);
    assert_eq!((r.status, r.counts.failed), (RunStatus::Done, 0), "{:?}", r.failures);
    assert!(r.counts.created > 30, "{:?}", r.counts);
    let u = h.users().into_iter().next().unwrap();
    assert!(u.username.contains('@'), "the login as username: {}", u.username);
    assert!(
        u.values.get(&usersync::model::Target::DisplayName).is_some_and(|d| d.starts_with("Person ")),
        "{:?}",
        u.values
    );
    assert!(u.values.contains_key(&"property:department".parse().unwrap()));
}
