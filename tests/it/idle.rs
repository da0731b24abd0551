//! `lifecycle.idle`: users who no longer log in are disabled to free licence seats, through the
//! usual simulate, guard, hold and approve path; administrators and exempt users never are, and a
//! login brings a user back (issue 15).

use serde_json::json;
use usersync::store::RunStatus;

use crate::support::{connector, row, Harness};

#[test]
fn idle_users_are_held_then_disabled_never_an_administrator_and_a_login_brings_one_back() {
    let h = Harness::new();
    // user1 administers the application; user2 is exempt by name.
    let mut rows = vec![row(101, "user1", "Staff;jira-administrators")];
    rows.extend((2..=20).map(|i| row(100 + i, &format!("user{i}"), "Staff")));
    h.write_users(&rows);
    let config = h.config(connector(json!({
        "lifecycle": { "idle": { "days": 90, "never_logged_in_days": 30, "exempt_users": ["USER2"] } }
    })));
    assert_eq!(h.sync(&config).counts.created, 20);
    // user7..user12 last logged in 100 days before the check, user3..user6 20 days before; the
    // rest never did (the directory created them some 70 days before the check).
    h.advance_days(300);
    for i in 7..=12 {
        assert!(h.engine.on_login(&config, "hr", &format!("user{i}")).unwrap().allow);
    }
    h.advance_days(80);
    for i in 3..=6 {
        assert!(h.engine.on_login(&config, "hr", &format!("user{i}")).unwrap().allow);
    }
    h.advance_days(20);

    let stale: Vec<String> = (7..=20).map(|i| format!("user{i}")).collect();
    let touched = |run_id: i64| -> Vec<String> {
        let (_, results) = h.engine.run_details(run_id).unwrap();
        let mut names: Vec<String> = results
            .into_iter()
            .filter(|r| {
                r.ops.iter().any(|o| matches!(o.op, usersync::reconcile::Op::Disable { .. })) || !r.held.is_empty()
            })
            .map(|r| r.username)
            .collect();
        names.sort_by_key(|n| n.trim_start_matches("user").parse::<u32>().unwrap_or(0));
        names
    };
    let sim = h.simulate(&config);
    assert_eq!(touched(sim.run_id), stale, "exactly the idle users, never user1 or user2");
    assert!(h.users().iter().all(|u| u.active), "a simulation writes nothing");

    // 14 of 20 is over the guard's threshold: the run holds, and approving applies it.
    let held = h.sync(&config);
    assert_eq!(held.status, RunStatus::Held, "{:?}", held.counts);
    assert_eq!(touched(held.run_id), stale);
    assert!(h.users().iter().all(|u| u.active));
    let approved = h.engine.approve(held.run_id, Some(&config), &|_| {}).unwrap();
    assert_eq!(approved.counts.disabled, 14, "{:?}", approved.counts);
    assert!(h.user("user1").active && h.user("user2").active && h.user("user3").active);
    let reasons: Vec<String> = h
        .engine
        .run_details(approved.run_id)
        .unwrap()
        .1
        .into_iter()
        .flat_map(|r| r.ops)
        .filter_map(|o| match o.op {
            usersync::reconcile::Op::Disable { reason } => Some(reason),
            _ => None,
        })
        .collect();
    assert!(reasons.iter().any(|r| r.starts_with("no login for over 90 days")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.starts_with("never logged in since created on")), "{reasons:?}");

    // They stay disabled, run after run, until they log in.
    assert_eq!(h.sync(&config).writes, 0);
    let back = h.engine.on_login(&config, "hr", "user7").unwrap();
    assert!(back.allow, "{}", back.reason);
    assert!(h.user("user7").active);
    let next = h.sync(&config);
    assert_eq!((next.writes, next.counts.disabled, next.counts.reactivated), (0, 0, 0), "{:?}", next.counts);
}

#[test]
fn the_idle_policy_is_checked_when_the_configuration_is_read() {
    let h = Harness::new();
    let doc = json!({ "connectors": [connector(json!({ "lifecycle": { "idle": { "days": 0, "exempt_groups": "admins" } } }))] });
    let errors = usersync::config::Config::from_json("test", &doc.to_string(), h.path("")).unwrap_err().to_string();
    assert!(errors.contains("connectors[0].lifecycle.idle.days"), "{errors}");
    assert!(errors.contains("connectors[0].lifecycle.idle.exempt_groups"), "{errors}");
}
