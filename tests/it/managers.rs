//! Managers resolved to the manager's user and written as username, display name or e-mail:
//! from a CSV column here (by source id or by e-mail), including managers created in the same
//! run, a reference outside the sync and a loop of managers (issue 15).

use serde_json::json;
use usersync::model::Target;
use usersync::store::RunStatus;

use crate::support::{connector, Harness};

const PEOPLE: &str = "id,user,name,mail,status,groups,boss
1,ceo,Cleo Chief,ceo@example.com,active,Staff,
2,vp,Val Vice,vp@example.com,active,Staff,1
3,dev,Dee Dev,dev@example.com,active,Staff,2
4,ops,Otto Ops,ops@example.com,active,Staff,999
5,loop-a,Lou A,a@example.com,active,Staff,6
6,loop-b,Lou B,b@example.com,active,Staff,5
";

fn manager_of(h: &Harness, username: &str) -> Option<String> {
    h.user(username).values.get(&Target::Property("manager".into())).map(str::to_string)
}

#[test]
fn managers_land_as_usernames_even_when_created_in_the_same_run_and_a_loop_is_reported() {
    let h = Harness::new();
    h.write("users.csv", PEOPLE);
    let config = h.config(connector(json!({
        "source": { "manager_column": "boss" },
        "manager": { "target": "property:manager", "write": "username", "match": "id" }
    })));
    let first = h.sync(&config);
    assert_eq!((first.status, first.counts.created), (RunStatus::Done, 6), "{:?}", first.counts);
    assert_eq!(manager_of(&h, "vp").as_deref(), Some("ceo"), "created in this run, and resolved");
    assert_eq!(manager_of(&h, "dev").as_deref(), Some("vp"));
    assert_eq!(manager_of(&h, "ceo"), None, "no manager in the source");
    assert_eq!(manager_of(&h, "ops"), None, "a manager outside the sync is not invented");
    assert_eq!(manager_of(&h, "loop-a").as_deref(), Some("loop-b"));
    let (_, results) = h.engine.run_details(first.run_id).unwrap();
    let reason = |u: &str| results.iter().find(|r| r.username == u).and_then(|r| r.reason.clone()).unwrap_or_default();
    assert!(reason("ops").contains("manager '999' is not among the synced users"), "{}", reason("ops"));
    assert!(reason("loop-a").contains("the chain of managers loops: loop-a → loop-b → loop-a"), "{}", reason("loop-a"));
    assert!(reason("loop-b").contains("loops"), "{}", reason("loop-b"));

    assert_eq!(h.sync(&config).writes, 0, "resolved managers are in step");
    // The manager renamed at the source: the reports follow.
    h.write("users.csv", PEOPLE.replace("1,ceo,Cleo Chief", "1,chief,Cleo Chief"));
    let renamed = h.sync(&config);
    assert_eq!(renamed.counts.renamed, 1);
    assert_eq!(manager_of(&h, "vp").as_deref(), Some("chief"));
}

#[test]
fn a_manager_named_by_e_mail_lands_as_display_name_and_the_rule_replaces_the_raw_mapping() {
    let h = Harness::new();
    h.write("users.csv", PEOPLE.replace(",1\n", ",CEO@example.com\n").replace(",2\n", ",vp@example.com\n"));
    let config = h.config(connector(json!({
        "source": { "manager_column": "boss" },
        "mapping": [
            { "target": "username", "source": "user" },
            { "target": "display_name", "source": "name" },
            { "target": "email", "source": "mail" },
            { "target": "property:boss", "source": "boss" }
        ],
        "manager": { "target": "property:boss", "write": "display_name", "match": "email" }
    })));
    h.sync(&config);
    let boss = |u: &str| h.user(u).values.get(&Target::Property("boss".into())).map(str::to_string);
    assert_eq!(boss("vp").as_deref(), Some("Cleo Chief"));
    assert_eq!(boss("dev").as_deref(), Some("Val Vice"));
    // A manager rule writes other users' mapped values: nobody's rules are skipped, and the
    // next run writes nothing.
    let again = h.sync(&config);
    assert_eq!((again.writes, again.timings.rules_skipped), (0, 0));
    assert_eq!(boss("vp").as_deref(), Some("Cleo Chief"));
}

#[test]
fn a_manager_rule_is_checked_when_the_configuration_is_read() {
    let h = Harness::new();
    let doc = json!({ "connectors": [connector(json!({ "manager": { "target": "email", "write": "phone", "match": "phone" } }))] });
    let errors = usersync::config::Config::from_json("test", &doc.to_string(), h.path("")).unwrap_err().to_string();
    for path in ["connectors[0].manager.target", "connectors[0].manager.write", "connectors[0].manager.match"] {
        assert!(errors.contains(path), "{path}: {errors}");
    }
}

/// The manager rule over each identity provider's emulator: Entra's `manager` (by id, as an
/// e-mail), Okta's `managerId` (by id, as a username), Google's `relations` (by e-mail, as a
/// display name).
#[test]
fn managers_land_from_entra_okta_and_google() {
    let rule =
        |write: &str, by: &str| json!({ "manager": { "target": "property:manager", "write": write, "match": by } });

    let g = crate::support::graph::Graph::start(30, 2);
    let h = Harness::new();
    let config = h.config(crate::entra::connector(&g, rule("email", "id")));
    h.sync(&config);
    assert_eq!(manager_of(&h, "user15").as_deref(), Some("user5@contoso.example"), "Entra");
    assert_eq!(manager_of(&h, "user5"), None);

    let o = crate::support::okta::Okta::start(30, 2);
    let h = Harness::new();
    let config = h.config(crate::okta::connector(&o, rule("username", "id")));
    h.sync(&config);
    assert_eq!(manager_of(&h, "person7").as_deref(), Some("person2"), "Okta");

    let gw = crate::support::google::Google::start(30, 2);
    let h = Harness::new();
    let config = h.config(crate::google::connector(&gw, &h, rule("display_name", "email")));
    h.sync(&config);
    assert_eq!(manager_of(&h, "g12").as_deref(), Some("G User2"), "Google");
}

#[test]
fn a_manager_lands_as_the_directory_key_even_when_created_in_the_same_run() {
    let h = Harness::new();
    h.write("users.csv", PEOPLE);
    let config = h.config(connector(json!({
        "source": { "manager_column": "boss" },
        "manager": { "target": "property:manager", "write": "key", "match": "id" }
    })));
    let sim = h.simulate(&config);
    assert!(sim.notes.iter().any(|n| n.contains("get the key of a manager this run creates")), "{:?}", sim.notes);
    let first = h.sync(&config);
    assert_eq!(first.status, RunStatus::Done);
    assert_eq!(manager_of(&h, "vp"), Some(h.user("ceo").key.to_string()), "the key of a manager created in this run");
    assert_eq!(manager_of(&h, "dev"), Some(h.user("vp").key.to_string()));
    assert!(
        first.notes.iter().any(|n| n.contains("wrote the key of a manager created in this run")),
        "{:?}",
        first.notes
    );
    // Known from now on: the next run finds everyone in step.
    assert_eq!(h.sync(&config).writes, 0);
}
