//! Secrets never reach logs, errors, history or exports (DESIGN §6.7).

use serde_json::json;
use usersync::config::{export_value, Config};
use usersync::store::RunStatus;

use crate::support::{cli, connector, Harness};

const TOKEN: &str = "00aBcD-s3cr3t-T0KEN-zz";
const CLIENT_SECRET: &str = "entra~Sup3rS3cret.value";

fn doc() -> serde_json::Value {
    json!({ "connectors": [
        connector(json!({})),
        { "id": "okta", "type": "okta", "source": { "org_url": "http://127.0.0.1:9", "api_token": TOKEN, "http": { "max_attempts": 1 } },
          "mapping": [{ "target": "username", "source": "login" }] },
        // A closed loopback port: the run fails at the token request, and nothing leaves the machine.
        { "id": "entra", "type": "entra", "source": { "tenant_id": "t", "client_id": "c", "client_secret": CLIENT_SECRET,
            "authority_url": "http://127.0.0.1:9", "graph_url": "http://127.0.0.1:9", "http": { "max_attempts": 1 } },
          "mapping": [{ "target": "username", "source": "userPrincipalName" }] }
    ]})
}

fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(TOKEN) && !text.contains(CLIENT_SECRET), "a secret leaked into {what}: {text}");
}

#[test]
fn exports_leave_secrets_out_unless_asked() {
    let config = Config::from_json("c", &doc().to_string(), ".".into()).unwrap();
    assert_clean("an export", &export_value(&config, false).to_string());
    let with = export_value(&config, true).to_string();
    assert!(with.contains(TOKEN) && with.contains(CLIENT_SECRET));
    assert_clean("Debug output", &format!("{config:?}"));
}

#[test]
fn importing_a_secretless_export_keeps_the_stored_secrets() {
    let h = Harness::new();
    let data = h.path("data");
    let path = h.write("full.json", doc().to_string());
    let (code, _, err) = cli(&data, &["config", "import", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let (_, exported, _) = cli(&data, &["config", "export"]);
    assert_clean("config export", &exported);
    let shared = h.write("shared.json", &exported);
    let (code, _, err) = cli(&data, &["config", "import", shared.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let (_, with, _) = cli(&data, &["config", "export", "--include-secrets"]);
    assert!(with.contains(TOKEN) && with.contains(CLIENT_SECRET), "secrets were lost on re-import: {with}");

    // Without a stored configuration, a missing secret is an error that names the path.
    let (code, _, err) = cli(&h.path("fresh"), &["config", "import", shared.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("connectors[1].source.api_token: missing; expected an Okta API token"), "{err}");
}

#[test]
fn runs_errors_and_history_carry_no_secrets() {
    let h = Harness::new();
    let data = h.path("data");
    let path = h.write("full.json", doc().to_string());
    for id in ["okta", "entra"] {
        let (code, out, err) =
            cli(&data, &["-vv", "sync", "--config", path.to_str().unwrap(), "--connector", id, "--json"]);
        assert_eq!(code, 1, "{out}{err}");
        assert_clean("sync output", &out);
        assert_clean("sync logs", &err);
        let expected = if id == "okta" {
            // Groups are read first, so that each user goes on with its groups.
            "okta: GET /api/v1/groups: no response"
        } else {
            "entra: POST /t/oauth2/v2.0/token: no response"
        };
        assert!(out.contains(expected), "{out}");
    }
    let (_, history, _) = cli(&data, &["history", "--json"]);
    assert_clean("history", &history);
    assert!(!history.contains("\"config\""), "the history is a summary; each run's configuration is in run show");
    for run in ["1", "2"] {
        let (_, shown, _) = cli(&data, &["run", "show", run, "--json"]);
        assert!(
            shown.contains("\"org_url\"") || shown.contains("\"tenant_id\""),
            "the run records its configuration: {shown}"
        );
        assert_clean("run details", &shown);
    }
    let config = Config::from_json("c", &doc().to_string(), ".".into()).unwrap();
    let report = h.engine.run(&config, &usersync::engine::RunRequest::full(Some("okta")), &|_| {}).unwrap();
    assert_eq!(report.status, RunStatus::Failed);
    assert_clean("the run report", &format!("{report:?}"));
}

#[test]
fn a_malformed_secret_is_reported_without_its_value() {
    let mut d = doc();
    d["connectors"][1]["source"]["api_token"] = json!(["not", TOKEN]);
    let e = Config::from_json("c", &d.to_string(), ".".into()).unwrap_err();
    assert_eq!(
        e.errors[0].to_string(),
        r#"connectors[1].source.api_token: expected the secret as a string, or a reference: {"env": "NAME"} or {"file": "PATH"}"#
    );
    assert_clean("a configuration error", &e.to_string());
}

#[test]
fn secrets_by_reference_authenticate_and_export_as_references() {
    use crate::support::graph::{Graph, CLIENT_SECRET as GRAPH_SECRET};
    let g = Graph::start(5, 0);
    let h = Harness::new();
    h.write("graph-secret.txt", format!("{GRAPH_SECRET}\n"));
    let by_file = crate::entra::connector(&g, json!({ "source": { "client_secret": { "file": "graph-secret.txt" } } }));
    let config = h.config(by_file.clone());
    let r = h.sync(&config);
    assert_eq!((r.status, r.counts.created), (RunStatus::Done, 5), "{:?}", r.error);
    let exported = export_value(&config, false).to_string();
    assert!(exported.contains(r#""client_secret":{"file":"graph-secret.txt"}"#), "{exported}");
    assert!(!exported.contains(GRAPH_SECRET));
    assert!(!export_value(&config, true).to_string().contains(GRAPH_SECRET), "a reference is exported as one");

    // From the environment, through the real CLI.
    let by_env =
        crate::entra::connector(&g, json!({ "source": { "client_secret": { "env": "USERSYNC_TEST_GRAPH_SECRET" } } }));
    let path = h.write("env.json", json!({ "connectors": [by_env] }).to_string());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_usersync"))
        .args(["--data-dir", h.path("data").to_str().unwrap(), "sync", "--config", path.to_str().unwrap()])
        .env("USERSYNC_TEST_GRAPH_SECRET", GRAPH_SECRET)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let (_, history, _) = cli(&h.path("data"), &["run", "show", "1", "--json"]);
    assert!(history.contains("USERSYNC_TEST_GRAPH_SECRET") && !history.contains(GRAPH_SECRET), "{history}");
}

#[test]
fn a_reference_that_cannot_be_resolved_says_why_without_content() {
    let h = Harness::new();
    h.write("shadow", "root:$6$Zx9q8w7e$Q1w2e3r4t5y6u7i8o9p0:19700:0:99999:7:::\n".repeat(4000));
    std::fs::write(h.path("binary"), [0xff, 0xfe, 0x00, 0x41]).unwrap();
    for (reference, expected) in [
        (
            json!({ "env": "USERSYNC_TEST_SURELY_UNSET_VARIABLE" }),
            "client_secret.env: the environment variable USERSYNC_TEST_SURELY_UNSET_VARIABLE is not set",
        ),
        (json!({ "file": "missing.txt" }), "client_secret.file: cannot read"),
        (json!({ "file": "shadow" }), "is not a secret file (a regular file of at most 65536 bytes)"),
        (json!({ "file": "binary" }), "is not UTF-8 text"),
        (json!({ "vault": "x" }), "client_secret: expected the secret as a string, or a reference"),
    ] {
        let doc = json!({ "connectors": [{ "id": "entra", "type": "entra", "source": {
            "tenant_id": "t", "client_id": "c", "client_secret": reference } ,
            "mapping": [{ "target": "username", "source": "userPrincipalName" }] }] });
        let e = Config::from_json("c.json", &doc.to_string(), h.dir.path().to_path_buf()).unwrap_err().to_string();
        assert!(e.contains(expected), "expected '{expected}' in: {e}");
        assert!(!e.contains("$6$") && !e.contains("root:"), "a file's content is never quoted: {e}");
    }
}

#[test]
fn an_export_to_a_file_is_owner_only_and_says_when_it_holds_secrets() {
    use std::os::unix::fs::PermissionsExt;
    let h = Harness::new();
    let data = h.path("data");
    let path = h.write("full.json", doc().to_string());
    assert_eq!(cli(&data, &["config", "import", path.to_str().unwrap()]).0, 0);
    let out = h.path("export.json");
    let (code, _, err) = cli(&data, &["config", "export", "--include-secrets", "--output", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("contains the configuration's secrets"), "{err}");
    assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o600);
    let (_, _, err) = cli(&data, &["config", "export"]);
    assert!(!err.contains("secrets"), "{err}");
}
