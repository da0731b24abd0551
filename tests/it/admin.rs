//! The admin console's API through `usersync serve` (a real process on 127.0.0.1): access
//! token, CSRF and origin checks, connectors with write-only secrets and validation errors at
//! their JSON paths, runs with progress, history and paged results, downloads — and no answer of
//! the whole flow ever carries a configured secret.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::graph::Graph;

/// A running `usersync serve` and what it printed.
struct Console {
    child: Child,
    base: String,
    token: String,
    csrf: String,
    /// Every API answer body seen, to search for secrets.
    seen: std::cell::RefCell<Vec<String>>,
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Answer {
    status: u16,
    body: Value,
    disposition: Option<String>,
}

impl Console {
    fn start(data_dir: &std::path::Path) -> Console {
        let (child, first) = crate::support::spawn_serve(data_dir);
        let url = first.trim().rsplit(' ').next().unwrap().to_string();
        let (base, token) = url.split_once("/#token=").expect("the first start prints the link with its token");
        let mut c = Console {
            child,
            base: base.to_string(),
            token: token.to_string(),
            csrf: String::new(),
            seen: Default::default(),
        };
        let session = c.call("GET", "/session", None);
        c.csrf = session.body["csrf"].as_str().unwrap().to_string();
        c
    }

    fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&Value>) -> Answer {
        let agent = ureq::Agent::new_with_config(ureq::config::Config::builder().http_status_as_error(false).build());
        let url = format!("{}/api/1{path}", self.base);
        let mut req = ureq::http::Request::builder().method(method).uri(&url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let text = body.map(|b| b.to_string()).unwrap_or_default();
        let mut res = agent.run(req.body(text).unwrap()).unwrap();
        let status = res.status().as_u16();
        let disposition = res.headers().get("content-disposition").and_then(|v| v.to_str().ok()).map(str::to_string);
        let text = res.body_mut().read_to_string().unwrap();
        self.seen.borrow_mut().push(text.clone());
        Answer { status, body: serde_json::from_str(&text).unwrap_or(Value::Null), disposition }
    }

    /// A call as the page makes it: token, and for a change the CSRF token.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        let bearer = format!("Bearer {}", self.token);
        let mut headers = vec![("Authorization", bearer.as_str())];
        if method != "GET" {
            headers.push(("X-Usersync-Csrf", self.csrf.as_str()));
        }
        self.request(method, path, &headers, body.as_ref())
    }

    fn wait_finished(&self, run: i64) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let p = self.call("GET", &format!("/runs/{run}/progress"), None).body;
            if p["phase"] == "finished" || Instant::now() > deadline {
                return p;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn quickstart() -> Value {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/quickstart/config.json");
    let config: Value = serde_json::from_str(&std::fs::read_to_string(dir).unwrap()).unwrap();
    let mut c = config["connectors"][0].clone();
    c["source"]["path"] = json!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/quickstart/people.csv"));
    c
}

#[test]
fn the_api_needs_the_token_and_changes_need_the_csrf_token_and_our_origin() {
    let dir = tempfile::tempdir().unwrap();
    let c = Console::start(dir.path());
    assert_eq!(c.request("GET", "/connectors", &[], None).status, 401);
    assert_eq!(c.request("GET", "/connectors", &[("Authorization", "Bearer nope")], None).status, 401);
    let bearer = format!("Bearer {}", c.token);
    let auth = ("Authorization", bearer.as_str());
    assert_eq!(c.request("GET", "/connectors", &[auth], None).status, 200);
    let body = quickstart();
    assert_eq!(c.request("PUT", "/connectors/hr-csv", &[auth], Some(&body)).status, 403, "no CSRF token");
    let csrf = ("X-Usersync-Csrf", c.csrf.as_str());
    let foreign = ("Origin", "http://evil.example");
    assert_eq!(c.request("PUT", "/connectors/hr-csv", &[auth, csrf, foreign], Some(&body)).status, 403);
    let ok = c.request("PUT", "/connectors/hr-csv", &[auth, csrf], Some(&body));
    assert_eq!(ok.status, 201, "{}", ok.body);
    // The token file is owner-only and the token is printed only at the first start.
    let token_file = dir.path().join("admin-token");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&token_file).unwrap().permissions().mode() & 0o777, 0o600);
    drop(c);
    let (mut again, line) = crate::support::spawn_serve(dir.path());
    let _ = again.kill();
    let _ = again.wait();
    assert!(!line.contains("token="), "{line}");
    assert!(line.contains("admin-token"), "{line}");
}

#[test]
fn a_whole_flow_never_returns_a_secret_and_validation_errors_name_their_paths() {
    let g = Graph::start(40, 2);
    let dir = tempfile::tempdir().unwrap();
    let c = Console::start(dir.path());
    let mut entra = crate::entra::connector(&g, json!({}));
    let secret = entra["source"]["client_secret"].as_str().unwrap().to_string();

    // A mistake is answered with its JSON path, and nothing is stored.
    let mut broken = entra.clone();
    broken["mapping"][0]["transforms"] = json!(["no_such_transform"]);
    let refused = c.call("PUT", "/connectors/entra", Some(broken));
    assert_eq!(refused.status, 422, "{}", refused.body);
    let paths: Vec<&str> =
        refused.body["errors"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert!(paths.iter().any(|p| p.starts_with("connectors[0].mapping[0].transforms")), "{paths:?}");
    assert_eq!(c.call("GET", "/connectors", None).body["connectors"], json!([]));

    // Created; the secret is shown as set, never as itself.
    let created = c.call("PUT", "/connectors/entra", Some(entra.clone()));
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["secrets"], json!([{ "name": "client_secret", "state": "set" }]));
    assert!(created.body["source"].get("client_secret").is_none());
    // An update that leaves the secret out keeps it: the connection still works.
    entra["source"].as_object_mut().unwrap().remove("client_secret");
    entra["mapping"][1] = json!({ "target": "display_name", "source": "givenName" });
    assert_eq!(c.call("PUT", "/connectors/entra", Some(entra)).status, 200);
    assert_eq!(c.call("GET", "/connectors/entra", None).body["secrets"][0]["state"], "set");
    let check = c.call("POST", "/connectors/entra/check", None);
    assert_eq!(check.body["ok"], true, "{}", check.body);
    let validated = c.call("POST", "/validate", Some(json!({ "connectors": [] })));
    assert_eq!(validated.body["valid"], false);

    // Simulate, then run; progress reaches the end; history and results page.
    let sim = c.call("POST", "/runs", Some(json!({ "connector": "entra", "simulate": true })));
    assert_eq!(sim.status, 202, "{}", sim.body);
    c.wait_finished(sim.body["run_id"].as_i64().unwrap());
    let run = c.call("POST", "/runs", Some(json!({ "connector": "entra" }))).body["run_id"].as_i64().unwrap();
    let done = c.wait_finished(run);
    assert_eq!(done["phase"], "finished", "{done}");
    let details = c.call("GET", &format!("/runs/{run}"), None).body;
    assert_eq!(details["run"]["status"], "DONE", "{details}");
    assert_eq!(details["run"]["counts"]["created"], 40);
    let page = c.call("GET", &format!("/runs/{run}/results?offset=10&limit=5&outcome=created"), None).body;
    assert_eq!((page["total"].as_u64(), page["results"].as_array().unwrap().len()), (Some(40), 5), "{page}");
    let found = c.call("GET", &format!("/runs/{run}/results?q=USER7"), None).body;
    assert!(found["total"].as_u64().unwrap() >= 1, "{found}");
    let history = c.call("GET", "/runs?limit=1", None).body;
    assert_eq!(history["runs"].as_array().unwrap().len(), 1);
    assert_eq!(history["runs"][0]["id"], run);
    let older = c.call("GET", &format!("/runs?limit=5&before={}", history["next_before"]), None).body;
    assert_eq!(older["runs"][0]["simulate"], true, "{older}");
    let download = c.call("GET", &format!("/runs/{run}/download"), None);
    assert_eq!(download.disposition.as_deref(), Some(&*format!("attachment; filename=\"usersync-run-{run}.json\"")));
    assert_eq!(download.body["results"].as_array().unwrap().len(), 40);
    let export = c.call("GET", "/config", None);
    assert!(export.body["connectors"][0]["source"].get("client_secret").is_none());
    assert_eq!(c.call("GET", "/schedules", None).status, 200);
    assert_eq!(c.call("GET", "/nothing", None).status, 404);
    assert_eq!(c.call("DELETE", "/runs", None).status, 405);

    for body in c.seen.borrow().iter() {
        assert!(!body.contains(&secret), "an answer carried the secret: {body}");
        assert!(!body.contains(&c.token), "an answer carried the access token");
    }
}

#[test]
fn the_page_is_served_with_a_strict_content_security_policy() {
    let dir = tempfile::tempdir().unwrap();
    let c = Console::start(dir.path());
    for path in ["/", "/app.js", "/app.css"] {
        let mut res = ureq::get(&format!("{}{path}", c.base)).call().unwrap();
        let csp = res.headers().get("content-security-policy").unwrap().to_str().unwrap().to_string();
        assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"), "{csp}");
        assert!(!res.body_mut().read_to_string().unwrap().is_empty());
    }
    // The script renders what the API sends as text only.
    let js = ureq::get(&format!("{}/app.js", c.base)).call().unwrap().body_mut().read_to_string().unwrap();
    assert!(!js.contains("innerHTML") && !js.contains("insertAdjacentHTML") && !js.contains("document.write"));
}

#[test]
fn a_held_run_is_discarded_without_applying_it_and_is_then_closed() {
    let dir = tempfile::tempdir().unwrap();
    let c = Console::start(&dir.path().join("data"));
    let csv = dir.path().join("people.csv");
    let rows = |n: usize| {
        let lines: Vec<String> = (1..=n).map(|i| format!("{i},p{i},p{i}@example.com")).collect();
        format!("id,user,mail\n{}\n", lines.join("\n"))
    };
    std::fs::write(&csv, rows(10)).unwrap();
    let connector = json!({ "type": "csv", "source": { "path": csv, "id_column": "id" },
        "mapping": [{ "target": "username", "source": "user" }, { "target": "email", "source": "mail" }] });
    assert_eq!(c.call("PUT", "/connectors/people", Some(connector)).status, 201);
    let run = |c: &Console| {
        let id = c.call("POST", "/runs", Some(json!({ "connector": "people" }))).body["run_id"].as_i64().unwrap();
        c.wait_finished(id);
        id
    };
    run(&c);
    std::fs::write(&csv, rows(2)).unwrap();
    let held = run(&c);
    let read = |id: i64| c.call("GET", &format!("/runs/{id}"), None).body["run"].clone();
    assert_eq!(read(held)["status"], "HELD");

    let discarded = c.call("POST", &format!("/runs/{held}/discard"), None);
    assert_eq!(discarded.status, 200, "{}", discarded.body);
    let by = discarded.body["run_id"].as_i64().unwrap();
    assert_eq!(read(held)["approved_by"], json!(by), "the held run names the run that closed it");
    let record = read(by);
    assert_eq!((record["mode"].as_str(), record["status"].as_str()), (Some("discard"), Some("DONE")));
    assert_eq!(record["approves"], json!(held));
    assert_eq!(record["counts"]["disabled"], json!(0), "nothing was applied");
    // Closed: it can be neither approved nor discarded again, and says by which run.
    for action in ["approve", "discard"] {
        let again = c.call("POST", &format!("/runs/{held}/{action}"), None);
        assert_eq!(again.status, 404, "{action}: {}", again.body);
        let said = again.body["error"].as_str().unwrap();
        assert!(said.contains(&format!("already discarded by run {by}")), "{said}");
    }
    let not_held = c.call("POST", &format!("/runs/{by}/discard"), None);
    assert!(not_held.body["error"].as_str().unwrap().contains("not a held run"), "{}", not_held.body);
}

#[test]
fn the_admin_password_opens_a_session_instead_of_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let set = |input: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_usersync"))
            .args(["--data-dir", data.to_str().unwrap(), "serve", "--set-password"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let short = set("short\n");
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 12 characters"));
    assert!(set("correct horse battery staple\n").status.success());
    let stored = std::fs::read_to_string(data.join("admin-password")).unwrap();
    assert!(!stored.contains("correct horse") && stored.starts_with("pbkdf2-sha256$"), "only a hash is kept");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(data.join("admin-password")).unwrap().permissions().mode() & 0o777, 0o600);

    let c = Console::start(&data);
    let login = |password: &str| c.request("POST", "/login", &[], Some(&json!({ "password": password })));
    let wrong = login("correct horse battery");
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.get("token").is_none());
    let foreign = c.request(
        "POST",
        "/login",
        &[("Origin", "http://evil.example")],
        Some(&json!({ "password": "correct horse battery staple" })),
    );
    assert_eq!(foreign.status, 403, "a login from another origin");
    let right = login("correct horse battery staple");
    assert_eq!(right.status, 200);
    let session = right.body["token"].as_str().unwrap().to_string();
    assert_ne!(session, c.token);
    let bearer = format!("Bearer {session}");
    assert_eq!(c.request("GET", "/connectors", &[("Authorization", bearer.as_str())], None).status, 200);
    let csrf = c.request("GET", "/session", &[("Authorization", bearer.as_str())], None).body["csrf"].clone();
    let change = c.request(
        "PUT",
        "/connectors/hr-csv",
        &[("Authorization", bearer.as_str()), ("X-Usersync-Csrf", csrf.as_str().unwrap())],
        Some(&quickstart()),
    );
    assert_eq!(change.status, 201, "{}", change.body);
    let without = c.request("PUT", "/connectors/hr-csv", &[("Authorization", bearer.as_str())], Some(&quickstart()));
    assert_eq!(without.status, 403, "a session's change needs the CSRF token too");
    assert!(c.seen.borrow().iter().all(|body| !body.contains("correct horse")));
}
