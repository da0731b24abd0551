//! Identity across connectors: one owner per directory user, priority, hand-over instead of
//! disable, and the migration from an old source to a new one (issue 15). The old source is an
//! Active Directory export as CSV; the new one Entra ID (the Graph emulator) with a higher
//! priority, linking by e-mail, then by employee id.

use serde_json::{json, Map, Value};
use usersync::config::Config;
use usersync::engine::{RunReport, RunRequest};
use usersync::reconcile::Op;

use crate::support::graph::{self, Graph};
use crate::support::Harness;

const HEADER: &str = "id,user,name,mail,status,groups,emp";

fn row(id: &str, user: &str, mail: &str, emp: &str) -> String {
    format!("{id},{user},{user} Person,{mail},active,Staff,{emp}")
}

fn write(h: &Harness, name: &str, rows: &[String]) {
    let mut text = String::from(HEADER);
    for r in rows {
        text.push('\n');
        text.push_str(r);
    }
    text.push('\n');
    h.write(name, text);
}

fn connector(id: &str, file: &str, priority: u32, link: Value) -> Value {
    json!({
        "id": id, "type": "csv", "priority": priority, "link_existing": link,
        "source": { "path": file, "id_column": "id", "active_column": "status", "groups_column": "groups" },
        "mapping": [
            { "target": "username", "source": "user" },
            { "target": "display_name", "source": "name" },
            { "target": "email", "source": "mail" },
            { "target": "property:employee_id", "source": "emp" }
        ],
        // The policy that made two connectors flip a user every run: now only the owner acts.
        "lifecycle": { "reactivate": "always" }
    })
}

fn config(h: &Harness, connectors: Vec<Value>) -> Config {
    let doc = json!({ "connectors": connectors });
    Config::from_json("test", &doc.to_string(), h.path("")).expect("valid test config")
}

fn run(h: &Harness, config: &Config, connector: &str, simulate: bool) -> RunReport {
    let mut request = RunRequest::full(Some(connector));
    request.simulate = simulate;
    h.engine.run(config, &request, &|_| {}).expect("the run starts")
}

/// The old source: 1,000 people u1..u1000, e-mail u<i>@corp.example, employee id E<i>.
fn old_source(h: &Harness) {
    let rows: Vec<String> = (1..=1000)
        .map(|i| row(&format!("ad-{i}"), &format!("u{i}"), &format!("u{i}@corp.example"), &format!("E{i}")))
        .collect();
    write(h, "ad.csv", &rows);
}

/// An Entra user as Graph returns it: `employeeId` is a property of the user resource.
fn entra_user(id: &str, user: &str, mail: &str, emp: &str) -> Map<String, Value> {
    let v = json!({
        "id": id, "userPrincipalName": format!("{user}@contoso.example"), "displayName": format!("{user} Person"),
        "mail": mail, "employeeId": emp, "accountEnabled": true
    });
    v.as_object().unwrap().clone()
}

/// The new source, an Entra tenant: u1..u700 with the same e-mail, u701..u900 with a new e-mail
/// but the same employee id, 50 new people, and two accounts whose e-mail belongs to people
/// already matched. Everyone is in the group Staff, as in the old source.
fn new_source() -> Graph {
    let g = Graph::start(0, 0);
    {
        let mut s = g.state.lock().unwrap();
        for i in 1..=900 {
            let mail = if i <= 700 { format!("u{i}@corp.example") } else { format!("u{i}@new.example") };
            s.users.push(entra_user(&format!("en-{i}"), &format!("u{i}"), &mail, &format!("E{i}")));
        }
        for i in 901..=950 {
            s.users.push(entra_user(
                &format!("en-new-{i}"),
                &format!("n{i}"),
                &format!("n{i}@new.example"),
                &format!("N{i}"),
            ));
        }
        s.users.push(entra_user("en-dup-1", "dup1", "u1@corp.example", "X1"));
        s.users.push(entra_user("en-dup-2", "dup2", "u2@corp.example", "X2"));
        let members = s.users.iter().map(|u| u["id"].as_str().unwrap().to_string()).collect();
        s.groups.push(graph::Group { id: "group-staff".into(), name: "Staff".into(), members, nested: vec![] });
        s.reindex();
    }
    g
}

fn entra(g: &Graph) -> Value {
    json!({
        "id": "entra", "type": "entra", "priority": 10, "link_existing": ["email", "property:employee_id"],
        "source": g.source(),
        "mapping": [
            { "target": "username", "source": "userPrincipalName", "transforms": ["strip_domain", "lowercase"] },
            { "target": "display_name", "source": "displayName" },
            { "target": "email", "source": "mail" },
            { "target": "property:employee_id", "source": "employeeId" }
        ],
        "lifecycle": { "reactivate": "always" }
    })
}

/// Both connectors, the old one owning first and the new one (priority 10) linked and owning.
fn both(h: &Harness, g: &Graph) -> Config {
    config(h, vec![connector("ad", "ad.csv", 0, json!("none")), entra(g)])
}

/// The migration done: the old connector ran, then the new one took over.
fn migrated() -> (Harness, Graph, Config) {
    let h = Harness::new();
    old_source(&h);
    let g = new_source();
    let both = both(&h, &g);
    run(&h, &both, "ad", false);
    run(&h, &both, "entra", false);
    (h, g, both)
}

fn handovers(h: &Harness, run_id: i64) -> Vec<(String, String)> {
    let (_, results) = h.engine.run_details(run_id).unwrap();
    results
        .iter()
        .flat_map(|r| r.ops.iter())
        .filter_map(|o| match &o.op {
            Op::Handover { from, to } => Some((from.clone(), to.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_migration_hands_users_over_without_disabling_or_duplicating_them_and_then_writes_nothing() {
    let h = Harness::new();
    old_source(&h);
    let g = new_source();
    let old_only = config(&h, vec![connector("ad", "ad.csv", 0, json!("none"))]);
    let first = run(&h, &old_only, "ad", false);
    assert_eq!(first.counts.created, 1000);
    let both = both(&h, &g);

    // The simulation says who is handed over, who is new and who would be duplicated.
    let sim = run(&h, &both, "entra", true);
    assert_eq!(
        (sim.counts.handed_over, sim.counts.created, sim.counts.failed, sim.counts.disabled),
        (900, 50, 2, 0),
        "{:?}",
        sim.counts
    );
    let duplicates: Vec<&str> = sim.failures.iter().map(|f| f.error.as_str()).collect();
    assert!(duplicates.iter().all(|e| e.contains("it would be a duplicate")), "{duplicates:?}");
    assert_eq!(h.users().len(), 1000, "a simulation writes nothing");

    let real = run(&h, &both, "entra", false);
    assert_eq!((real.counts.handed_over, real.counts.created, real.counts.failed), (900, 50, 2), "{:?}", real.counts);
    assert_eq!((real.counts.disabled, real.counts.renamed, real.counts.deleted), (0, 0, 0));
    assert_eq!(real.counts.updated, 200, "the new e-mail of u701..u900, written by their new owner");
    let users = h.users();
    assert_eq!(users.len(), 1050, "no duplicate was made");
    assert!(users.iter().all(|u| u.active), "nobody was disabled");
    let moved = handovers(&h, real.run_id);
    assert_eq!(moved.len(), 900);
    assert!(moved.iter().all(|(from, to)| from == "ad" && to == "entra"), "every hand-over has its from and to");

    // Both connectors on, alternating: nobody flips, nothing is written.
    for i in 0..20 {
        let who = if i % 2 == 0 { "ad" } else { "entra" };
        let r = run(&h, &both, who, false);
        assert_eq!(r.writes, 0, "run {i} of {who}: {:?}", r.counts);
        assert_eq!((r.counts.disabled, r.counts.reactivated, r.counts.handed_over), (0, 0, 0), "{who}");
    }
}

#[test]
fn the_old_source_emptied_touches_nobody_the_new_connector_owns_and_switching_it_off_keeps_its_users() {
    let (h, g, both) = migrated();
    write(&h, "ad.csv", &[]);
    let emptied = run(&h, &both, "ad", false);
    let (_, results) = h.engine.run_details(emptied.run_id).unwrap();
    // Only the 100 people the old source alone had (u901..u1000) can be its to retire.
    for r in &results {
        let n: u32 = r.username.trim_start_matches('u').parse().unwrap_or(0);
        let writes_or_holds = r.ops.iter().any(|o| o.op.writes()) || !r.held.is_empty();
        assert!(!writes_or_holds || n > 900, "{} was touched by the old connector: {r:?}", r.username);
    }
    let entra_owned: Vec<_> = h
        .users()
        .into_iter()
        .filter(|u| {
            u.username.starts_with('n') || u.username.trim_start_matches('u').parse::<u32>().is_ok_and(|n| n <= 900)
        })
        .collect();
    assert_eq!(entra_owned.len(), 950);
    assert!(entra_owned.iter().all(|u| u.active));
    assert_eq!(run(&h, &both, "entra", false).writes, 0, "the new owner has nothing to redo");

    // The old connector switched off: the new one leaves the people it never had alone.
    let new_only = config(&h, vec![entra(&g)]);
    let after = run(&h, &new_only, "entra", false);
    assert_eq!((after.writes, after.counts.disabled), (0, 0));
    assert_eq!(h.users().iter().filter(|u| u.active).count(), 1050 - emptied.counts.disabled as usize);
}

#[test]
fn when_the_owner_loses_a_user_another_connector_has_ownership_passes_down_without_a_disable() {
    let (h, g, both) = migrated();
    // The tenant deletes u800 (e-mail u800@new.example there; u800@corp.example in the old one).
    let at = g.state.lock().unwrap().position("en-800").unwrap();
    g.remove(at);
    g.state.lock().unwrap().groups[0].members.retain(|m| m != "en-800");
    let lost = run(&h, &both, "entra", false);
    assert_eq!((lost.counts.disabled, lost.counts.handed_over), (0, 1), "{:?}", lost.counts);
    assert_eq!(handovers(&h, lost.run_id), vec![("entra".to_string(), "ad".to_string())]);
    assert!(h.user("u800").active);
    // The old connector owns u800 again and writes its own values.
    let back = run(&h, &both, "ad", false);
    assert_eq!((back.counts.updated, back.counts.disabled), (1, 0), "{:?}", back.counts);
    assert_eq!(h.user("u800").values.get(&usersync::model::Target::Email), Some("u800@corp.example"));
    // And when the new source has the user again, it takes them back.
    {
        let mut s = g.state.lock().unwrap();
        s.users.push(entra_user("en-800", "u800", "u800@new.example", "E800"));
        s.groups[0].members.push("en-800".into());
        s.reindex();
    }
    let again = run(&h, &both, "entra", false);
    assert_eq!((again.counts.handed_over, again.counts.updated, again.counts.created), (1, 1, 0), "{:?}", again.counts);
    assert_eq!(handovers(&h, again.run_id), vec![("ad".to_string(), "entra".to_string())]);
    for who in ["ad", "entra", "ad"] {
        assert_eq!(run(&h, &both, who, false).writes, 0, "{who}");
    }
}

#[test]
fn two_sources_with_the_same_ids_never_take_each_others_users() {
    let h = Harness::new();
    write(&h, "a.csv", &[row("1", "anna", "anna@a.example", "A1"), row("2", "bert", "bert@a.example", "A2")]);
    write(&h, "b.csv", &[row("1", "carl", "carl@b.example", "B1"), row("2", "dina", "dina@b.example", "B2")]);
    let two = config(&h, vec![connector("a", "a.csv", 0, json!("none")), connector("b", "b.csv", 0, json!("none"))]);
    run(&h, &two, "a", false);
    // Source b's ids are source a's ids as text: its users are new people, not a's to rename.
    let b = run(&h, &two, "b", false);
    assert_eq!((b.counts.created, b.counts.renamed, b.counts.updated), (2, 0, 0), "{:?}", b.counts);
    let mut names: Vec<String> = h.users().into_iter().map(|u| u.username.to_string()).collect();
    names.sort();
    assert_eq!(names, vec!["anna", "bert", "carl", "dina"]);
}
