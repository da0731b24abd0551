//! Identity providers that throttle, fail, cut off, flood, forget or echo.

use std::time::Duration;

use serde_json::{json, Value};
use usersync::store::RunStatus;

use super::{lock_released, no_secret, settled, Scenario};
use crate::support::google::Google;
use crate::support::graph::{self, Graph, CLIENT_SECRET};
use crate::support::okta::{Okta, TOKEN as OKTA_TOKEN};
use crate::support::{cli, Harness};

pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario { name: "idp_429_storm", run: idp_429_storm },
        Scenario { name: "google_403_rate_limit_storm", run: google_403_rate_limit_storm },
        Scenario { name: "okta_429_with_rate_limit_reset", run: okta_429_with_rate_limit_reset },
        Scenario { name: "idp_5xx", run: idp_5xx },
        Scenario { name: "idp_timeouts", run: idp_timeouts },
        Scenario { name: "truncated_json_200", run: truncated_json_200 },
        Scenario { name: "huge_body", run: huge_body },
        Scenario { name: "failure_on_page_k", run: failure_on_page_k },
        Scenario { name: "empty_200_listing", run: empty_200_listing },
        Scenario { name: "expired_delta_token", run: expired_delta_token },
        Scenario { name: "expired_secret_401", run: expired_secret_401 },
        Scenario { name: "echoed_secrets_entra_cli", run: echoed_secrets_entra_cli },
        Scenario { name: "echoed_secrets_okta_and_google", run: echoed_secrets_okta_and_google },
    ]
}

const USERS: &str = "GET /v1.0/users";

/// A tenant synced once: the harness, the config and how many are active.
fn synced(users: usize, patch: Value) -> (Graph, Harness, usersync::config::Config, usize) {
    let g = Graph::start(users, 2);
    let h = Harness::new();
    let config = h.config(crate::entra::connector(&g, patch));
    let first = h.sync(&config);
    assert_eq!(first.status, RunStatus::Done, "{:?}", first.error);
    let active = h.active_usernames().len();
    (g, h, config, active)
}

fn idp_429_storm() {
    let (g, h, config, active) = synced(40, json!({}));
    g.remove(3);
    g.fault("/v1.0/users", None, 5, graph::throttled(0));
    let r = h.sync(&config);
    assert_eq!((r.status, r.counts.disabled), (RunStatus::Done, 1), "five 429s are waited out, then the run is whole");
    assert_eq!(g.count(USERS), 7, "two runs' pages plus five throttled answers");
    lock_released(&h, "entra");
    assert_eq!(h.active_usernames().len(), active - 1);
}

fn google_403_rate_limit_storm() {
    let g = Google::start(30, 2);
    let h = Harness::new();
    let config = h.config(crate::google::connector(&g, &h, json!({ "source": { "http": { "retry_base_ms": 5 } } })));
    assert_eq!(h.sync(&config).status, RunStatus::Done);
    let active = h.active_usernames().len();
    g.state.lock().unwrap().throttle = 4;
    let r = h.sync(&config);
    settled(&h, &r, RunStatus::Done, active);
    assert_eq!(g.state.lock().unwrap().throttle, 0, "four 403 userRateLimitExceeded answers were waited out");
}

fn okta_429_with_rate_limit_reset() {
    let o = Okta::start(250, 1);
    let h = Harness::new();
    let config = h.config(crate::okta::connector(&o, json!({})));
    assert_eq!(h.sync(&config).status, RunStatus::Done);
    let active = h.active_usernames().len();
    o.state.lock().unwrap().throttle = 3;
    let r = h.sync(&config);
    settled(&h, &r, RunStatus::Done, active);
    assert_eq!(r.writes, 0, "the second page was read too: nothing looked missing");
}

fn idp_5xx() {
    let (g, h, config, active) = synced(30, json!({}));
    g.fault("/v1.0/users", None, 3, graph::unavailable());
    g.fault("/v1.0/groups", None, 2, graph::unavailable());
    let r = h.sync(&config);
    settled(&h, &r, RunStatus::Done, active);
    // Past the retries, the run fails and nobody is taken for gone.
    g.fault("/v1.0/users", None, usize::MAX, graph::unavailable());
    let r = h.sync(&config);
    settled(&h, &r, RunStatus::Failed, active);
    assert!(r.error.as_deref().unwrap().contains("503"), "{:?}", r.error);
}

fn idp_timeouts() {
    let (g, h, _, active) = synced(20, json!({}));
    let config = h.config(crate::entra::connector(
        &g,
        json!({ "source": { "http": { "timeout_seconds": 1, "max_attempts": 3 } } }),
    ));
    g.fault("/v1.0/users", None, 1, graph::slow(Duration::from_millis(2500)));
    let r = h.sync(&config);
    settled(&h, &r, RunStatus::Done, active);
    assert_eq!(g.count(USERS), 3, "the first run's page, the one that timed out, its retry");
}

fn truncated_json_200() {
    let (g, h, config, active) = synced(25, json!({}));
    g.fault("/v1.0/users", None, 2, graph::cut_off());
    let r = h.sync(&config);
    settled(&h, &r, RunStatus::Done, active);
    assert_eq!(g.count(USERS), 4, "two cut-off pages were retried, not taken as data or as a failure");
}

fn huge_body() {
    let (g, h, _, active) = synced(20, json!({}));
    let config = h.config(crate::entra::connector(&g, json!({ "source": { "http": { "max_body_mb": 1 } } })));
    g.fault("/v1.0/users", None, usize::MAX, graph::huge(3 << 20));
    let r = h.sync(&config);
    settled(&h, &r, RunStatus::Failed, active);
    let error = r.error.unwrap();
    assert!(error.contains("larger than 1 MiB") && error.contains("source.http.max_body_mb"), "{error}");
    assert!(error.len() < 1000, "the body is not quoted: {} bytes", error.len());
    g.state.lock().unwrap().faults.clear();
    assert_eq!(h.sync(&config).status, RunStatus::Done, "converges once the IdP behaves");
}

fn failure_on_page_k() {
    let (g, h, _, active) = synced(1100, json!({ "source": { "groups": "none" } }));
    let config = h.config(crate::entra::connector(
        &g,
        json!({ "source": { "groups": "none", "http": { "max_attempts": 2, "retry_base_ms": 5 } } }),
    ));
    g.fault("/v1.0/users", Some(2), usize::MAX, graph::unavailable());
    let r = h.sync(&config);
    assert_ne!(r.status, RunStatus::Done);
    settled(&h, &r, r.status, active);
    assert!(r.notes.iter().any(|n| n.contains("cleanup")) || r.error.is_some(), "{:?}", r.notes);
    g.state.lock().unwrap().faults.clear();
    let again = h.sync(&config);
    settled(&h, &again, RunStatus::Done, active);
}

fn empty_200_listing() {
    let (g, h, config, active) = synced(30, json!({}));
    g.fault(
        "/v1.0/users",
        None,
        usize::MAX,
        crate::support::http_server::HttpResponse::json(200, &json!({ "value": [] })),
    );
    let r = h.sync(&config);
    settled(&h, &r, RunStatus::Held, active);
    assert!(r.hold_reason.as_deref().unwrap().contains("no users"), "{:?}", r.hold_reason);
    g.state.lock().unwrap().faults.clear();
    settled(&h, &h.sync(&config), RunStatus::Done, active);
}

fn expired_delta_token() {
    let (g, h, config, _) = synced(30, json!({}));
    let incremental = crate::entra::incremental();
    assert_eq!(h.engine.run(&config, &incremental, &|_| {}).unwrap().status, RunStatus::Done);
    g.state.lock().unwrap().min_delta = 1_000;
    g.change(4, "department", json!("Moved"));
    let r = h.engine.run(&config, &incremental, &|_| {}).unwrap();
    assert_eq!((r.status, r.mode.as_str(), r.counts.updated, r.counts.disabled), (RunStatus::Done, "full", 1, 0));
    assert!(r.notes.iter().any(|n| n.contains("410")), "{:?}", r.notes);
    lock_released(&h, "entra");
}

fn expired_secret_401() {
    let (g, h, _, active) = synced(15, json!({}));
    let mut source = g.source();
    source["client_secret"] = json!("an-expired-secret-value");
    let config = h.config(crate::entra::connector(&g, json!({ "source": source })));
    let r = h.sync(&config);
    settled(&h, &r, RunStatus::Failed, active);
    let error = r.error.clone().unwrap();
    assert!(error.contains("401") && error.contains("/oauth2/v2.0/token"), "{error}");
    no_secret(&h, &["an-expired-secret-value", CLIENT_SECRET], &[&error, &format!("{r:?}")]);
}

/// Every credential the IdP is sent comes back in its error; none may reach any output.
fn echoed_secrets_entra_cli() {
    let g = Graph::start(10, 1);
    let h = Harness::new();
    let data = h.path("data");
    let doc =
        json!({ "connectors": [crate::entra::connector(&g, json!({ "source": { "http": { "max_attempts": 1 } } }))] });
    let config = h.write("entra.json", doc.to_string());
    let config = config.to_str().unwrap();
    let (code, _, err) = cli(&data, &["sync", "--config", config]);
    assert_eq!(code, 0, "{err}");
    let mut outputs = Vec::new();
    // First the token endpoint echoes the client secret, then the users endpoint the bearer token.
    for prefix in ["/contoso-tenant/oauth2", "/v1.0/users"] {
        g.state.lock().unwrap().echo = Some(prefix.into());
        let (code, out, err) = cli(&data, &["-vv", "sync", "--config", config, "--json"]);
        assert_eq!(code, 1, "{out}{err}");
        assert!(out.contains("400"), "the error still says what happened: {out}");
        outputs.extend([out, err]);
    }
    g.state.lock().unwrap().echo = None;
    for args in [&["history", "--json"][..], &["run", "show", "2", "--json"], &["run", "show", "3", "--json"]] {
        let (code, out, err) = cli(&data, args);
        assert_eq!(code, 0, "{err}");
        outputs.extend([out, err]);
    }
    // An export (from a store that imported the configuration: that store holds the secret by
    // the administrator's choice, so it lives apart from the one checked below).
    let imported = h.path("imported");
    let (code, _, err) = cli(&imported, &["config", "import", config]);
    assert_eq!(code, 0, "{err}");
    let (_, export, err) = cli(&imported, &["config", "export"]);
    outputs.extend([export, err]);
    let texts: Vec<&str> = outputs.iter().map(String::as_str).collect();
    // Bearer tokens the emulator issues are "token-N".
    let tokens: Vec<String> =
        (1..=g.state.lock().unwrap().tokens_issued).map(|n| format!("Bearer token-{n}")).collect();
    let mut secrets: Vec<&str> = tokens.iter().map(String::as_str).collect();
    secrets.push(CLIENT_SECRET);
    assert!(texts.iter().any(|t| t.contains("[REDACTED]")), "the echo was there, redacted");
    // Every output, and every byte of the synced data directory's files (state store, its WAL,
    // the directory).
    for s in &secrets {
        for t in &texts {
            assert!(!t.contains(s), "a secret leaked: {t}");
        }
    }
    for entry in std::fs::read_dir(&data).unwrap().flatten() {
        let bytes = std::fs::read(entry.path()).unwrap();
        for s in &secrets {
            assert!(!bytes.windows(s.len()).any(|w| w == s.as_bytes()), "a secret is in {}", entry.path().display());
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in ["state.db", "directory.db"] {
            let mode = std::fs::metadata(data.join(f)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{f} is readable by others");
        }
    }
}

fn echoed_secrets_okta_and_google() {
    let o = Okta::start(5, 0);
    o.state.lock().unwrap().echo = true;
    let h = Harness::new();
    let r = h.sync(&h.config(crate::okta::connector(&o, json!({ "source": { "http": { "max_attempts": 1 } } }))));
    assert_eq!(r.status, RunStatus::Failed);
    let okta_error = r.error.clone().unwrap();
    assert!(okta_error.contains("SSWS [REDACTED]"), "{okta_error}");

    let g = Google::start(5, 0);
    g.state.lock().unwrap().echo_token = true;
    let r2 =
        h.sync(&h.config(crate::google::connector(&g, &h, json!({ "source": { "http": { "max_attempts": 1 } } }))));
    assert_eq!(r2.status, RunStatus::Failed);
    let google_error = r2.error.clone().unwrap();
    assert!(google_error.contains("assertion=[REDACTED]"), "{google_error}");
    let history = serde_json::to_string(&h.engine.history(10).unwrap()).unwrap();
    let private_key_line = crate::support::google::KEY_PEM.lines().nth(1).unwrap();
    // A signed assertion starts "eyJ"; none may survive anywhere.
    for text in [&okta_error, &google_error, &history] {
        assert!(!text.contains("eyJ"), "a JWT leaked: {text}");
    }
    no_secret(&h, &[OKTA_TOKEN, private_key_line], &[&okta_error, &google_error, &history]);
    lock_released(&h, "okta");
    lock_released(&h, "google");
}
