//! The command line as an administrator uses it: the quick start, simulation, held runs and
//! approval, history, configuration import/export and the mapping tester.

use std::path::Path;

use serde_json::Value;

use crate::support::{cli, quickstart_dir, Harness};

fn json_of(out: &str) -> Value {
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

/// A copy of the quick start the test may edit.
fn quickstart_copy(h: &Harness) -> (String, String) {
    for f in ["config.json", "people.csv"] {
        std::fs::copy(quickstart_dir().join(f), h.path(f)).unwrap();
    }
    (h.path("config.json").to_string_lossy().into_owned(), h.path("people.csv").to_string_lossy().into_owned())
}

fn sync_json(data: &Path, config: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["sync", "--config", config, "--json"];
    args.extend_from_slice(extra);
    let (code, out, err) = cli(data, &args);
    assert!(!out.is_empty(), "no output; stderr: {err}");
    (code, json_of(&out))
}

fn users_json(data: &Path) -> Value {
    let (code, out, _) = cli(data, &["users", "--json"]);
    assert_eq!(code, 0);
    json_of(&out)
}

#[test]
fn the_quick_start_syncs_and_a_second_run_writes_nothing() {
    let h = Harness::new();
    let config = quickstart_dir().join("config.json");
    let config = config.to_str().unwrap();
    let data = h.path("data");
    let (code, first) = sync_json(&data, config, &[]);
    assert_eq!(code, 0, "{first}");
    assert_eq!(first["status"], "DONE");
    assert_eq!(first["mode"], "full");
    let created = first["counts"]["created"].as_u64().unwrap();
    assert!(created >= 25, "{first}");
    assert!(first["writes"].as_u64().unwrap() > created);
    for key in [
        "created",
        "updated",
        "renamed",
        "disabled",
        "reactivated",
        "deleted",
        "anonymised",
        "unchanged",
        "filtered",
        "failed",
        "held",
    ] {
        assert!(first["counts"][key].is_u64(), "counts.{key} missing: {first}");
    }
    let (code, second) = sync_json(&data, config, &[]);
    assert_eq!(code, 0);
    assert_eq!(second["writes"], 0, "{second}");
    assert_eq!(second["counts"]["unchanged"].as_u64(), Some(created));

    // The guest UPN became a proper address; the malformed email was cleared, not synced.
    let users = users_json(&data);
    let by = |name: &str| users.as_array().unwrap().iter().find(|u| u["username"] == name).cloned().unwrap();
    assert_eq!(by("maria.garcia")["values"]["email"], "maria.garcia@partner.org");
    assert!(by("valentina.vega")["values"].get("email").is_none());
    assert_eq!(by("bruno.bianchi")["values"]["property:manager"], "alice.andersen");
}

#[test]
fn simulation_writes_nothing_and_predicts_the_real_counts() {
    let h = Harness::new();
    let (config, csv) = quickstart_copy(&h);
    let data = h.path("data");
    let (_, sim) = sync_json(&data, &config, &["--simulate"]);
    assert_eq!(users_json(&data), serde_json::json!([]), "simulation created nobody");
    assert_eq!(sim["writes"], 0);
    let (_, real) = sync_json(&data, &config, &[]);
    assert_eq!(sim["counts"], real["counts"]);

    // A change: one leaver, one renamed, one new department.
    let text = std::fs::read_to_string(&csv).unwrap();
    let text: String = text
        .lines()
        .filter(|l| !l.starts_with("1004,"))
        .map(|l| {
            l.replacen("emma.evans@example.com,Emma", "emma.evans-ng@example.com,Emma", 1).replacen(
                ",Finance,Analyst,",
                ",Treasury,Analyst,",
                1,
            ) + "\n"
        })
        .collect();
    std::fs::write(&csv, text).unwrap();
    let before = users_json(&data);
    let (_, sim) = sync_json(&data, &config, &["--simulate"]);
    assert_eq!(users_json(&data), before, "simulation changed the directory");
    let (_, real) = sync_json(&data, &config, &[]);
    assert_eq!(sim["counts"], real["counts"]);
    assert_eq!(
        (real["counts"]["disabled"].as_u64(), real["counts"]["renamed"].as_u64(), real["counts"]["updated"].as_u64()),
        (Some(1), Some(1), Some(1))
    );
}

#[test]
fn leaving_returning_and_a_mass_removal_through_the_cli() {
    let h = Harness::new();
    let (config, csv) = quickstart_copy(&h);
    let data = h.path("data");
    let original = std::fs::read_to_string(&csv).unwrap();
    sync_json(&data, &config, &[]);

    std::fs::write(&csv, original.lines().filter(|l| !l.starts_with("1003,")).collect::<Vec<_>>().join("\n")).unwrap();
    let (code, r) = sync_json(&data, &config, &[]);
    assert_eq!((code, r["counts"]["disabled"].as_u64(), r["writes"].as_u64()), (0, Some(1), Some(1)));
    let disabled: Vec<Value> = users_json(&data)
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["active"] == false)
        .map(|u| u["username"].clone())
        .collect();
    assert_eq!(disabled, vec![Value::from("chloe.chen")]);

    std::fs::write(&csv, &original).unwrap();
    let (code, r) = sync_json(&data, &config, &[]);
    assert_eq!((code, r["counts"]["reactivated"].as_u64()), (0, Some(1)));

    // Keep the header and the first 11 rows: 60% of the users are gone.
    std::fs::write(&csv, original.lines().take(12).collect::<Vec<_>>().join("\n")).unwrap();
    let (code, held) = sync_json(&data, &config, &[]);
    assert_eq!(code, 3, "{held}");
    assert_eq!(held["status"], "HELD");
    assert!(users_json(&data).as_array().unwrap().iter().all(|u| u["active"] == true), "nothing disabled while held");

    let run_id = held["run_id"].to_string();
    let (code, out, err) = cli(&data, &["approve", &run_id, "--json"]);
    assert_eq!(code, 0, "{out}{err}");
    let approved = json_of(&out);
    assert_eq!(approved["mode"], "approve");
    assert_eq!(approved["counts"]["disabled"], held["counts"]["held"]);
    let inactive = users_json(&data).as_array().unwrap().iter().filter(|u| u["active"] == false).count() as u64;
    assert_eq!(Some(inactive), held["counts"]["held"].as_u64());
}

#[test]
fn history_and_run_results_as_json() {
    let h = Harness::new();
    let (config, csv) = quickstart_copy(&h);
    let data = h.path("data");
    sync_json(&data, &config, &[]);
    let text = std::fs::read_to_string(&csv).unwrap().replacen("VP Engineering", "CTO", 1);
    std::fs::write(&csv, text).unwrap();
    let (_, r) = sync_json(&data, &config, &[]);

    let (code, out, _) = cli(&data, &["history", "--json"]);
    assert_eq!(code, 0);
    let runs = json_of(&out);
    assert_eq!(runs.as_array().unwrap().len(), 2);
    assert_eq!(runs[0]["id"], r["run_id"], "newest first");
    assert_eq!(runs[0]["status"], "DONE");
    assert_eq!(runs[0]["trigger"], "manual");

    let (code, out, _) = cli(&data, &["run", "show", &r["run_id"].to_string(), "--json"]);
    assert_eq!(code, 0);
    let doc = json_of(&out);
    let alice = doc["results"].as_array().unwrap().iter().find(|u| u["username"] == "alice.andersen").unwrap();
    assert_eq!(alice["outcomes"], serde_json::json!(["updated"]));
    assert_eq!(
        alice["ops"][0],
        serde_json::json!({ "op": "set", "target": "profile:position", "before": "VP Engineering", "after": "CTO" })
    );

    let (code, out, _) = cli(&data, &["run", "show", &r["run_id"].to_string()]);
    assert_eq!(code, 0);
    assert!(out.contains("alice.andersen [updated]"), "{out}");
    let (code, _, err) = cli(&data, &["run", "show", "999"]);
    assert_eq!(code, 1);
    assert!(err.contains("no run with id 999"), "{err}");
}

#[test]
fn configuration_round_trips_through_import_and_export() {
    let h = Harness::new();
    let (config, _) = quickstart_copy(&h);
    let data = h.path("data");
    let (code, _, err) = cli(&data, &["sync"]);
    assert_eq!(code, 2, "no configuration yet");
    assert!(err.contains("usersync config import"), "{err}");

    let (code, out, err) = cli(&data, &["config", "import", &config]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("imported 1 connector(s)"));
    let (_, exported, _) = cli(&data, &["config", "export"]);
    let exported_path = h.write("exported.json", &exported);
    let (code, _, err) = cli(&data, &["config", "import", exported_path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let (_, again, _) = cli(&data, &["config", "export"]);
    assert_eq!(json_of(&exported), json_of(&again));
    let original: Value = serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    assert_eq!(
        json_of(&exported)["connectors"][0]["mapping"][1]["source"],
        serde_json::json!({ "template": "{givenName} {surname}" })
    );
    assert_eq!(json_of(&exported)["connectors"][0]["id"], original["connectors"][0]["id"]);

    // The imported configuration drives a sync without --config.
    let (code, out, _) = cli(&data, &["sync", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(json_of(&out)["status"], "DONE");
    let (code, _, _) = cli(&data, &["config", "export", "--output", h.path("out.json").to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(json_of(&std::fs::read_to_string(h.path("out.json")).unwrap()), json_of(&exported));
}

#[test]
fn mapping_test_explains_one_user() {
    let h = Harness::new();
    let config = quickstart_dir().join("config.json");
    let data = h.path("data");
    let (code, out, err) = cli(
        &data,
        &["mapping", "test", "--config", config.to_str().unwrap(), "--connector", "hr-csv", "--user", "1025"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("source user 1025 (people.csv line 26)"), "{out}");
    assert!(out.contains("entra_guest_upn → 'maria.garcia@partner.org'"), "{out}");
    assert!(out.contains("result: synced as 'maria.garcia'"), "{out}");
    assert!(out.contains("dropped staff-vpn") || out.contains("kept: staff-engineering, staff-contractors"), "{out}");
    let (code, _, err) = cli(
        &data,
        &["mapping", "test", "--config", config.to_str().unwrap(), "--connector", "hr-csv", "--user", "nobody"],
    );
    assert_eq!(code, 1);
    assert!(err.contains("no source user with id 'nobody'"), "{err}");
    assert_eq!(users_json(&data), serde_json::json!([]), "the mapping test writes nothing");
}

#[test]
fn every_command_has_help() {
    let h = Harness::new();
    for args in [
        vec!["--help"],
        vec!["sync", "--help"],
        vec!["check", "--help"],
        vec!["approve", "--help"],
        vec!["config", "--help"],
        vec!["config", "validate", "--help"],
        vec!["config", "import", "--help"],
        vec!["config", "export", "--help"],
        vec!["mapping", "test", "--help"],
        vec!["users", "--help"],
        vec!["history", "--help"],
        vec!["run", "show", "--help"],
    ] {
        let (code, out, _) = cli(&h.path("data"), &args);
        assert_eq!(code, 0, "{args:?}");
        assert!(out.contains("Usage:"), "{args:?}: {out}");
    }
}

#[test]
fn a_state_file_of_another_schema_version_is_refused_clearly() {
    let h = Harness::new();
    let data = h.path("data");
    let (code, _, _) = cli(&data, &["history"]);
    assert_eq!(code, 0);
    let conn = rusqlite::Connection::open(data.join("state.db")).unwrap();
    conn.execute_batch("PRAGMA user_version = 99").unwrap();
    drop(conn);
    let (code, _, err) = cli(&data, &["history"]);
    assert_eq!(code, 1);
    assert!(err.contains("has schema version 99, this build reads up to version 4"), "{err}");
}

#[test]
fn a_broken_state_file_is_named_in_the_error() {
    let h = Harness::new();
    let data = h.path("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(
        data.join("state.db"),
        b"this is not a database, it is a file of text that is long enough".repeat(100),
    )
    .unwrap();
    let (code, _, err) = cli(&data, &["history"]);
    assert_eq!(code, 1);
    assert!(err.contains(&data.join("state.db").display().to_string()), "{err}");
}
