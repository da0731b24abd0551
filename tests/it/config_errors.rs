//! Invalid configurations: every error is reported, each with its JSON path and what was expected.

use serde_json::{json, Value};
use usersync::config::{Config, ConfigErrors};
use usersync::engine::{EngineError, RunRequest};

use crate::support::{cli, connector, Harness};

fn errors(doc: Value) -> Vec<String> {
    let e: ConfigErrors =
        Config::from_json("cfg.json", &doc.to_string(), ".".into()).expect_err("config must be rejected");
    e.errors.iter().map(|e| e.to_string()).collect()
}

fn one_connector_errors(patch: Value) -> Vec<String> {
    errors(json!({ "connectors": [connector(patch)] }))
}

#[test]
fn invalid_regex_names_the_transform_path() {
    let errs = one_connector_errors(json!({ "mapping": [
        { "target": "username", "source": "user" },
        { "target": "display_name", "source": "name" },
        { "target": "email", "source": "mail" },
        { "target": "property:team", "source": "team", "transforms": ["trim", { "type": "regex_replace", "pattern": "(abc", "replacement": "$1" }] }
    ]}));
    assert_eq!(errs, vec!["connectors[0].mapping[3].transforms[1].pattern: invalid regex: unclosed group"]);
}

#[test]
fn unknown_keys_are_errors_at_every_level() {
    let errs = errors(json!({
        "connector": [],
        "connectors": [connector(json!({ "colour": "blue", "source": { "delimeter": ";" }, "lifecycle": { "grace": 3 } }))]
    }));
    assert!(
        errs.iter().any(|e| e.starts_with("connector: unknown key (expected one of: connectors, operations, login)")),
        "{errs:?}"
    );
    assert!(errs.iter().any(|e| e.starts_with("connectors[0].colour: unknown key")), "{errs:?}");
    assert!(
        errs.iter().any(|e| e.starts_with("connectors[0].source.delimeter: unknown key") && e.contains("delimiter")),
        "{errs:?}"
    );
    assert!(
        errs.iter().any(|e| e.starts_with("connectors[0].lifecycle.grace: unknown key") && e.contains("grace_days")),
        "{errs:?}"
    );
}

#[test]
fn every_error_is_reported_not_just_the_first() {
    let errs = one_connector_errors(json!({
        "type": "ldif",
        "mapping": [
            { "target": "username", "source": "user", "no_match": "sometimes" },
            { "target": "profile:shoe_size", "source": "x" },
            { "target": "display_name", "source": { "template": "{givenName" } },
            { "target": "email", "source": "mail", "transforms": ["reverse"] }
        ],
        "lifecycle": { "missing": "vaporise", "grace_days": -1 },
        "safety": { "max_destructive_percent": 150 },
        "schedule": "every day at noon"
    }));
    let expect = [
        "connectors[0].type: unknown value 'ldif' (expected one of: csv, xlsx, entra, okta, google, scim, scim-inbound, keycloak, onelogin, rest, ldap)",
        "connectors[0].mapping[0].no_match: unknown value 'sometimes' (expected one of: keep, ignore, clear, filter)",
        "connectors[0].mapping[1].target: unknown profile field 'shoe_size'",
        "connectors[0].mapping[2].source.template: unclosed '{' at character 1",
        "connectors[0].mapping[3].transforms[0]: unknown transform 'reverse'",
        "connectors[0].lifecycle.missing: unknown value 'vaporise'",
        "connectors[0].lifecycle.grace_days: expected a whole number from 0 to 36500, found -1",
        "connectors[0].safety.max_destructive_percent: expected a number from 0 to 100, found 150",
        "connectors[0].schedule: invalid cron expression",
    ];
    for e in expect {
        assert!(errs.iter().any(|got| got.starts_with(e)), "missing error starting with {e:?} in {errs:#?}");
    }
}

#[test]
fn types_and_required_keys_are_checked() {
    let errs = errors(json!({ "connectors": [
        { "id": "a", "type": "csv", "source": { "path": 7 }, "mapping": {} },
        { "id": "a", "type": "csv", "source": { "path": "x.csv", "id_column": "id" }, "mapping": [
            { "target": "email", "source": "mail" }
        ]}
    ]}));
    assert!(errs.contains(&"connectors[0].source.path: expected a string, found a number".to_string()), "{errs:?}");
    assert!(
        errs.contains(
            &"connectors[0].source.id_column: missing; expected the column holding the immutable user id".to_string()
        ),
        "{errs:?}"
    );
    assert!(errs.contains(&"connectors[0].mapping: expected a list, found an object".to_string()), "{errs:?}");
    assert!(errs.contains(&"connectors[1].id: duplicate connector id 'a'".to_string()), "{errs:?}");
    assert!(errs.contains(&"connectors[1].mapping: needs a rule for 'username'".to_string()), "{errs:?}");
}

#[test]
fn source_settings_belong_to_their_type() {
    let errs = one_connector_errors(json!({ "source": { "sheet": "Users", "delimiter": ";;" } }));
    assert!(errs.contains(&"connectors[0].source.sheet: only XLSX sources have a sheet".to_string()), "{errs:?}");
    assert!(
        errs.iter().any(|e| e.starts_with("connectors[0].source.delimiter: expected a single ASCII character")),
        "{errs:?}"
    );
}

#[test]
fn invalid_json_names_line_and_column() {
    let e = Config::from_json("cfg.json", "{\n  \"connectors\": [,]\n}", ".".into()).unwrap_err();
    assert!(e.to_string().contains("not valid JSON at line 2, column"), "{e}");
}

#[test]
fn a_target_the_directory_lacks_is_a_configuration_error_before_any_write() {
    let h = Harness::new();
    h.write_users(&crate::support::people(3));
    let config = h.config(connector(json!({ "mapping": [
        { "target": "username", "source": "user" },
        { "target": "communardo:team", "source": "name" }
    ]})));
    let err = h.engine.run(&config, &RunRequest::full(None), &|_| {}).expect_err("must refuse");
    match err {
        EngineError::Config(c) => assert_eq!(
            c.errors[0].to_string(),
            "connectors[0].mapping[1].target: 'communardo:team' is not available in this directory"
        ),
        other => panic!("expected a configuration error, got {other}"),
    }
    assert!(h.users().is_empty(), "nothing may be written");
    assert!(h.engine.history(10).unwrap().is_empty(), "no run is recorded for a configuration error");
}

#[test]
fn cli_validate_prints_every_error_and_exits_2() {
    let h = Harness::new();
    let doc = json!({ "connectors": [connector(json!({ "lifecycle": { "missing": "explode" }, "extra": 1 }))] });
    let path = h.write("bad.json", doc.to_string());
    let (code, out, err) = cli(&h.path("data"), &["config", "validate", path.to_str().unwrap()]);
    assert_eq!(code, 2, "stdout: {out}\nstderr: {err}");
    assert!(err.contains("2 configuration error(s)"), "{err}");
    assert!(err.contains("connectors[0].lifecycle.missing: unknown value 'explode'"), "{err}");
    assert!(err.contains("connectors[0].extra: unknown key"), "{err}");

    let good = h.write("good.json", json!({ "connectors": [connector(json!({}))] }).to_string());
    let (code, out, _) = cli(&h.path("data"), &["config", "validate", good.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(out.contains("valid (1 connector(s): hr)"), "{out}");
}

#[test]
fn presets_are_named_and_a_mapping_or_preset_is_required() {
    let errs = one_connector_errors(json!({ "preset": "novell" }));
    assert!(
        errs[0].starts_with(
            "connectors[0].preset: unknown value 'novell' (expected one of: entra, okta, google, scim, keycloak, onelogin, ldap, active_directory, rest)"
        ),
        "{errs:?}"
    );
    let mut c = connector(json!({}));
    c.as_object_mut().unwrap().remove("mapping");
    let errs = errors(json!({ "connectors": [c] }));
    assert_eq!(errs, vec!["connectors[0].mapping: missing; expected a list of mapping rules (or a preset)"]);
}

#[test]
fn an_oversized_configuration_is_refused_before_it_is_parsed() {
    // A valid document of 2 MiB: a mapping literal nobody needs.
    let big = "x".repeat(2 << 20);
    let doc = serde_json::json!({ "connectors": [crate::support::connector(serde_json::json!({
        "mapping": [{ "target": "username", "source": "user" }, { "target": "property:x", "source": { "literal": big } }]
    }))] });
    let e = usersync::config::Config::from_json("big.json", &doc.to_string(), ".".into()).unwrap_err();
    let text = e.to_string();
    assert!(text.contains("more than the limit of 1048576") && text.contains("USERSYNC_MAX_CONFIG_BYTES"), "{text}");
}

#[test]
fn a_closed_stderr_is_no_crash() {
    use std::process::{Command, Stdio};
    let h = crate::support::Harness::new();
    let bad = h.write("bad.json", "{");
    let mut child = Command::new(env!("CARGO_BIN_EXE_usersync"))
        .args(["--data-dir", h.path("data").to_str().unwrap(), "sync", "--config", bad.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reading end goes away before the process writes its error: writes fail with EPIPE.
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(2), "a configuration error, not a panic (101)");
}
