//! Runs that touch a few users read only those users from the directory (engine/snapshot.rs):
//! a login, a single-user sync and an incremental round cost a handful of directory calls
//! however many users the directory holds (100,000 here, as in a large Data Center); only a
//! full run lists it.

use std::collections::BTreeMap;

use serde_json::json;
use usersync::engine::{Mode, RunRequest};
use usersync::store::RunStatus;

use crate::faults::directory::{faulty_engine, Faults};
use crate::support::graph::Graph;
use crate::support::{connector, people, row, Harness};

fn reads(faults: &Faults) -> BTreeMap<&'static str, usize> {
    std::mem::take(&mut *faults.reads.lock().unwrap())
}

#[test]
fn logins_and_single_user_runs_read_only_the_users_they_touch() {
    const N: u32 = 2000;
    let h = Harness::new();
    let mut all = people(N);
    h.write_users(&all);
    let (engine, faults) = faulty_engine(&h, Faults::default());
    let config = h.config(connector(json!({ "provision_on_login": true })));
    let r = engine.run(&config, &RunRequest::full(None), &|_| {}).unwrap();
    assert_eq!(r.counts.created, N as u64);
    assert_eq!(reads(&faults).get("list_users"), Some(&1), "a full run lists the directory once");

    // A known user changes and syncs alone: one look-up by key.
    all[41] = row(142, "user42", "Staff;Sales");
    h.write_users(&all);
    let one = RunRequest { mode: Mode::SingleUser("user42".into()), ..RunRequest::full(None) };
    let r = engine.run(&config, &one, &|_| {}).unwrap();
    assert_eq!((r.status, r.counts.updated), (RunStatus::Done, 1));
    assert_eq!(reads(&faults), BTreeMap::from([("users_by_keys", 1)]));

    // A renamed user: its key, and whoever holds the new name.
    all[9] = row(110, "user10b", "Staff");
    h.write_users(&all);
    let r = engine
        .run(&config, &RunRequest { mode: Mode::SingleUser("110".into()), ..RunRequest::full(None) }, &|_| {})
        .unwrap();
    assert_eq!((r.status, r.counts.renamed), (RunStatus::Done, 1));
    assert_eq!(reads(&faults), BTreeMap::from([("find_user", 1), ("users_by_keys", 1)]));

    // A login of someone new provisions them just in time: the name and the external id.
    all.push(row(9999, "newcomer", "Staff"));
    h.write_users(&all);
    let decision = engine.on_login(&config, "hr", "newcomer").unwrap();
    assert!(decision.allow, "{}", decision.reason);
    let seen = reads(&faults);
    assert_eq!(seen.get("list_users"), None, "{seen:?}");
    assert!(seen.values().sum::<usize>() <= 4, "a handful of calls: {seen:?}");
}

#[test]
fn with_100k_users_a_login_and_an_incremental_round_touching_ten_read_a_handful() {
    let g = Graph::start(100_000, 4);
    let h = Harness::new();
    let (engine, faults) = faulty_engine(&h, Faults::default());
    let config = h.config(crate::entra::connector(&g, json!({})));
    let first = engine.run(&config, &crate::entra::incremental(), &|_| {}).unwrap();
    assert_eq!(first.counts.created, 100_000);
    reads(&faults);
    for i in 0..10 {
        g.change(100 + i * 7, "department", json!(format!("Moved {i}")));
    }
    let r = engine.run(&config, &crate::entra::incremental(), &|_| {}).unwrap();
    assert_eq!((r.status, r.mode.as_str(), r.counts.updated), (RunStatus::Done, "incremental", 10));
    assert_eq!(reads(&faults), BTreeMap::from([("users_by_keys", 1)]), "one look-up for the ten, no listing");

    // A login of one of the 100,000: one look-up by name.
    let d = engine.on_login(&config, "entra", "user7").unwrap();
    assert!(d.allow, "{}", d.reason);
    assert_eq!(reads(&faults), BTreeMap::from([("find_user", 1)]));
}
