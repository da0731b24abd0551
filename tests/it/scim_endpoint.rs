//! The SCIM endpoint IdPs push to (`scim-inbound`): scim2-tester's RFC compliance run against
//! `usersync serve`, an IdP's sequence of pushes ending in the directory with every step in the
//! history, a deactivation storm held by the guard, and bad requests answered with the right
//! SCIM error and no change.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use usersync::config::Config;
use usersync::scim::Request;
use usersync::store::RunStatus;

use crate::support::Harness;

const TOKEN: &str = "scim-push-token-0123456789abcdef";
const BASE: &str = "http://127.0.0.1/scim/v2";

fn inbound(window: u32, safety: Value) -> Value {
    json!({
        "id": "okta-push", "type": "scim-inbound", "preset": "scim",
        "source": { "bearer_token": TOKEN, "deactivation_window_seconds": window },
        "groups": { "create_missing": true },
        "safety": safety
    })
}

fn config(h: &Harness, window: u32, safety: Value) -> Config {
    let doc = json!({ "connectors": [inbound(window, safety)] });
    Config::from_json("test", &doc.to_string(), h.path("")).unwrap()
}

/// One request as an IdP sends it: (status, body).
fn call(h: &Harness, config: &Config, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let query = usersync::scim::query_pairs(query);
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let auth = format!("Bearer {TOKEN}");
    let req = Request { method, path, query: &query, body: &bytes };
    let answer = h.engine.scim(config, BASE, Some(&auth), &req).unwrap();
    (answer.response.status, answer.response.body.unwrap_or(Value::Null))
}

fn user(name: &str) -> Value {
    json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name,
        "name": { "givenName": "Person", "familyName": name }, "displayName": format!("Person {name}"),
        "emails": [{ "value": format!("{name}@corp.example"), "type": "work", "primary": true }], "active": true })
}

fn patch(ops: Value) -> Value {
    json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops })
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn an_idps_sequence_of_pushes_lands_in_the_directory_with_every_step_in_the_history() {
    let h = Harness::new();
    let config = config(&h, 1, json!({ "max_destructive_percent": 100 }));
    let mut ids = Vec::new();
    for i in 1..=100 {
        let (status, body) = call(&h, &config, "POST", "/Users", Some(user(&format!("u{i}"))));
        assert_eq!(status, 201, "{body}");
        ids.push(body["id"].as_str().unwrap().to_string());
    }
    assert_eq!(h.users().len(), 100, "each created user is in the directory at once");
    let members: Vec<Value> = ids[..30].iter().map(|id| json!({ "value": id })).collect();
    let (status, group) = call(
        &h,
        &config,
        "POST",
        "/Groups",
        Some(
            json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Engineering", "members": members }),
        ),
    );
    assert_eq!(status, 201, "{group}");
    let gid = group["id"].as_str().unwrap().to_string();
    // Okta adds members by PATCH.
    let (status, _) = call(
        &h,
        &config,
        "PATCH",
        &format!("/Groups/{gid}"),
        Some(patch(json!([{ "op": "add", "path": "members", "value": [{ "value": ids[30] }] }]))),
    );
    assert_eq!(status, 200);
    assert!(h.user("u31").groups.contains("Engineering") && h.user("u1").groups.contains("Engineering"));
    // A rename (Entra ID's capitalised op).
    let (status, _) = call(
        &h,
        &config,
        "PATCH",
        &format!("/Users/{}", ids[9]),
        Some(patch(json!([{ "op": "Replace", "path": "userName", "value": "u10-renamed" }]))),
    );
    assert_eq!(status, 200);
    assert!(h.find("u10").is_none() && h.find("u10-renamed").is_some(), "renamed in place");
    // Five deactivations (Okta: active at the root, one as text) and two deletions.
    for (n, id) in ids[40..45].iter().enumerate() {
        let value = if n == 0 { json!({ "active": "False" }) } else { json!({ "active": false }) };
        let (status, body) = call(
            &h,
            &config,
            "PATCH",
            &format!("/Users/{id}"),
            Some(patch(json!([{ "op": "replace", "value": value }]))),
        );
        assert_eq!((status, &body["active"]), (200, &json!(false)), "{body}");
    }
    for id in &ids[50..52] {
        assert_eq!(call(&h, &config, "DELETE", &format!("/Users/{id}"), None).0, 204);
    }
    assert_eq!(call(&h, &config, "GET", &format!("/Users/{}", ids[50]), None).0, 404);
    // They wait for the window, then land together.
    wait_for("the window's run", || h.users().iter().filter(|u| !u.active).count() == 7);
    // The users are written before the run's record is closed: wait for the record too.
    wait_for("the window's run to be recorded", || {
        h.engine
            .history(500)
            .unwrap()
            .iter()
            .any(|r| r.trigger == "scim: deactivations" && r.status != RunStatus::Running)
    });
    let inactive: Vec<String> = {
        let mut v: Vec<String> = h.users().into_iter().filter(|u| !u.active).map(|u| u.username.to_string()).collect();
        v.sort();
        v
    };
    assert_eq!(inactive, vec!["u41", "u42", "u43", "u44", "u45", "u51", "u52"]);
    assert_eq!(h.users().len(), 100);
    let history = h.engine.history(500).unwrap();
    let scim_runs = history.iter().filter(|r| r.trigger == "scim").count();
    assert_eq!(scim_runs, 100 + 30 + 1 + 1, "one run per created user, group member and rename");
    let window =
        history.iter().find(|r| r.trigger == "scim: deactivations").expect("the window's run is in the history");
    assert_eq!((window.status, window.counts.disabled), (RunStatus::Done, 7), "{:?}", window.counts);
    // The IdP reads back what it pushed.
    let (_, found) = call(&h, &config, "GET", "/Users?filter=userName%20eq%20%22U10-RENAMED%22", None);
    assert_eq!(found["totalResults"], json!(1));
}

#[test]
fn a_deactivation_storm_is_held_until_approved() {
    let h = Harness::new();
    let config = config(&h, 2, json!({ "max_destructive_count": 50, "max_destructive_percent": 100 }));
    let ids: Vec<String> = (1..=100)
        .map(|i| {
            call(&h, &config, "POST", "/Users", Some(user(&format!("s{i}")))).1["id"].as_str().unwrap().to_string()
        })
        .collect();
    for id in &ids[..60] {
        let (status, _) = call(
            &h,
            &config,
            "PATCH",
            &format!("/Users/{id}"),
            Some(patch(json!([{ "op": "replace", "path": "active", "value": false }]))),
        );
        assert_eq!(status, 200);
    }
    wait_for("the held run", || h.engine.history(10).unwrap().iter().any(|r| r.status == RunStatus::Held));
    let held = h.engine.history(10).unwrap().into_iter().find(|r| r.status == RunStatus::Held).unwrap();
    assert!(h.users().iter().all(|u| u.active), "nothing was applied");
    let approved = h.engine.approve(held.id, Some(&config), &|_| {}).unwrap();
    assert_eq!((approved.status, approved.counts.disabled), (RunStatus::Done, 60), "{:?}", approved.counts);
    assert_eq!(h.users().iter().filter(|u| !u.active).count(), 60);
}

#[test]
fn bad_requests_get_the_right_scim_error_and_change_nothing() {
    let h = Harness::new();
    let config = config(&h, 1, json!({ "max_destructive_percent": 100 }));
    let (_, ann) = call(&h, &config, "POST", "/Users", Some(user("ann")));
    let id = ann["id"].as_str().unwrap().to_string();
    let runs = h.engine.history(100).unwrap().len();
    let raw = |method: &str, path: &str, body: &[u8], auth: Option<&str>| {
        let req = Request { method, path, query: &[], body };
        let a = h.engine.scim(&config, BASE, auth, &req).unwrap();
        (a.response.status, a.response.body.unwrap_or(Value::Null), a.www_authenticate)
    };
    let bearer = format!("Bearer {TOKEN}");
    let auth = Some(bearer.as_str());
    // What was sent, the answer (status, body, WWW-Authenticate), the status and scimType due.
    type Case<'a> = (&'a str, (u16, Value, bool), u16, Option<&'a str>);
    let cases: Vec<Case> = vec![
        ("malformed JSON", raw("POST", "/Users", b"{\"userName\": ", auth), 400, Some("invalidSyntax")),
        (
            "unknown attribute",
            raw(
                "POST",
                "/Users",
                json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "bob", "shoeSize": 44 })
                    .to_string()
                    .as_bytes(),
                auth,
            ),
            400,
            Some("invalidSyntax"),
        ),
        (
            "wrong schema",
            raw(
                "POST",
                "/Users",
                json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "userName": "bob" })
                    .to_string()
                    .as_bytes(),
                auth,
            ),
            400,
            Some("invalidSyntax"),
        ),
        (
            "a duplicate userName",
            raw("POST", "/Users", user("ANN").to_string().as_bytes(), auth),
            409,
            Some("uniqueness"),
        ),
        (
            "a wrong type",
            raw(
                "PUT",
                &format!("/Users/{id}"),
                json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ann", "active": 7 })
                    .to_string()
                    .as_bytes(),
                auth,
            ),
            400,
            Some("invalidValue"),
        ),
        (
            "a bad PATCH path",
            raw(
                "PATCH",
                &format!("/Users/{id}"),
                patch(json!([{ "op": "replace", "path": "emails[type zz \"w\"]", "value": "x" }]))
                    .to_string()
                    .as_bytes(),
                auth,
            ),
            400,
            Some("invalidPath"),
        ),
        ("oversized body", raw("POST", "/Users", &vec![b' '; usersync::scim::MAX_BODY + 1], auth), 413, None),
        ("no token", raw("POST", "/Users", user("bob").to_string().as_bytes(), None), 401, None),
        (
            "wrong token",
            raw("DELETE", &format!("/Users/{id}"), b"", Some("Bearer scim-push-token-0123456789abcdeX")),
            401,
            None,
        ),
        ("unknown resource", raw("GET", "/Users/nobody", b"", auth), 404, None),
    ];
    for (what, (status, body, challenge), want, scim_type) in cases {
        assert_eq!(status, want, "{what}: {body}");
        assert_eq!(body["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:Error"]), "{what}");
        assert_eq!(body["status"], json!(want.to_string()), "{what}");
        assert_eq!(body["scimType"].as_str(), scim_type, "{what}: {body}");
        assert_eq!(challenge, want == 401, "{what}: WWW-Authenticate");
    }
    let query = usersync::scim::query_pairs("filter=userName%20eq");
    let req = Request { method: "GET", path: "/Users", query: &query, body: b"" };
    let a = h.engine.scim(&config, BASE, auth, &req).unwrap().response;
    assert_eq!((a.status, a.body.unwrap()["scimType"].as_str()), (400, Some("invalidFilter")));
    // Nothing changed: one user stored and in the directory, as pushed, and no run was made.
    let (_, all) = call(&h, &config, "GET", "/Users", None);
    assert_eq!(all["totalResults"], json!(1));
    assert_eq!(h.users().len(), 1);
    assert!(h.user("ann").active);
    assert_eq!(h.engine.history(100).unwrap().len(), runs);
}

/// `usersync serve` over a data directory holding the inbound connector; killed on drop.
struct Served {
    child: std::process::Child,
    data: std::path::PathBuf,
    base: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(h: &Harness) -> Served {
    let data = h.path("serve");
    std::fs::create_dir_all(&data).unwrap();
    let file = h.write(
        "inbound.json",
        json!({ "connectors": [inbound(1, json!({ "max_destructive_percent": 100 }))] }).to_string(),
    );
    let bin = env!("CARGO_BIN_EXE_usersync");
    let imported = Command::new(bin)
        .args(["--data-dir", data.to_str().unwrap(), "config", "import", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
    let (child, first) = crate::support::spawn_serve(&data);
    let origin = first
        .split("http://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .expect("the link names the address")
        .to_string();
    Served { child, data, base: format!("http://{origin}/scim/v2") }
}

fn python(script: &str, args: &[&str]) -> String {
    let venv = crate::support::scim2::venv();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scim").join(script);
    let run = Command::new(venv.join("bin/python")).arg(script).args(args).output().unwrap();
    let printed = String::from_utf8_lossy(&run.stdout).to_string();
    assert!(run.status.success(), "{printed}{}", String::from_utf8_lossy(&run.stderr));
    printed
}

/// scim2-tester (PyPI), the SCIM RFC compliance checker, against `usersync serve`: every check
/// passes. Its summary is kept in target/scim2-tester.txt (the test command prints it).
#[test]
fn scim2_tester_passes_every_check_against_usersync_serve() {
    let h = Harness::new();
    let served = serve(&h);
    let out = h.path("tester.json");
    let printed = python("check_endpoint.py", &[&served.base, TOKEN, out.to_str().unwrap()]);
    let summary = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/scim2-tester.txt");
    let _ = std::fs::write(summary, &printed);
    let results: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let failed: Vec<&Value> = results
        .iter()
        .filter(|r| !matches!(r["status"].as_str(), Some("SUCCESS" | "COMPLIANT" | "ACCEPTABLE" | "SKIPPED")))
        .collect();
    assert!(results.len() > 100, "scim2-tester ran {} checks:\n{printed}", results.len());
    assert!(failed.is_empty(), "checks not passed: {failed:#?}");
}

/// scim2-client (PyPI) drives the endpoint as an IdP: create, patch, deactivate, delete — users
/// and a group — and the directory says so after each step.
#[test]
fn scim2_client_creates_patches_deactivates_and_deletes_and_the_directory_follows() {
    let h = Harness::new();
    let served = serve(&h);
    let state = h.path("client-state.json");
    let users = || -> Vec<Value> {
        let bin = env!("CARGO_BIN_EXE_usersync");
        let out =
            Command::new(bin).args(["--data-dir", served.data.to_str().unwrap(), "users", "--json"]).output().unwrap();
        serde_json::from_slice(&out.stdout).unwrap_or_default()
    };
    let find = |name: &str| users().into_iter().find(|u| u["username"] == name);
    let in_group = |u: &Value| u["groups"].as_array().is_some_and(|g| g.iter().any(|x| x == "scim-team"));
    let step = |name: &str| python("client_steps.py", &[&served.base, TOKEN, name, state.to_str().unwrap()]);

    step("create");
    let carol = find("carol").expect("carol created");
    assert!(carol["active"] == true && in_group(&carol), "{carol}");
    assert!(find("dave").is_some_and(|d| !in_group(&d)));
    step("patch");
    assert_eq!(find("carol").unwrap()["values"]["display_name"], json!("Carol Changed"));
    assert!(in_group(&find("dave").unwrap()), "dave joined by PATCH");
    step("deactivate");
    wait_for("carol's deactivation", || find("carol").is_some_and(|c| c["active"] == false));
    step("delete");
    wait_for("dave's deletion", || find("dave").is_some_and(|d| d["active"] == false));
    assert!(!in_group(&find("dave").unwrap()), "the deleted group left dave first");
}

#[test]
fn inbound_tokens_are_long_and_each_connector_has_its_own() {
    let h = Harness::new();
    let mut second = inbound(1, json!({}));
    second["id"] = json!("entra-push");
    let mut short = inbound(1, json!({}));
    short["id"] = json!("short");
    short["source"]["bearer_token"] = json!("abc");
    let doc = json!({ "connectors": [inbound(1, json!({})), second, short] });
    let errors = Config::from_json("test", &doc.to_string(), h.path("")).unwrap_err().to_string();
    assert!(errors.contains("connectors[1].source.bearer_token: the same token as connectors[0]"), "{errors}");
    assert!(errors.contains("connectors[2].source.bearer_token: too short"), "{errors}");
    assert!(!errors.contains(TOKEN), "the token is never quoted: {errors}");
}
