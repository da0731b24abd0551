//! Entra incremental rounds against the Graph emulator: what a round costs in requests when
//! groups change, users that fail, and throttled `$batch` sub-requests.

use serde_json::json;
use usersync::store::RunStatus;

use crate::entra::{connector, incremental};
use crate::support::graph::Graph;
use crate::support::Harness;

#[test]
fn a_user_that_keeps_failing_is_read_again_by_id_and_does_not_hold_the_token_back() {
    let g = Graph::start(60, 0);
    let h = Harness::new();
    let config = h.config(connector(&g, json!({ "source": { "groups": "none" } })));
    assert_eq!(h.engine.run(&config, &incremental(), &|_| {}).unwrap().counts.created, 60);

    // A newcomer whose username is one another user already has.
    g.add(900);
    g.change(60, "userPrincipalName", json!("user5@contoso.example"));
    let r = h.engine.run(&config, &incremental(), &|_| {}).unwrap();
    assert_eq!((r.status, r.mode.as_str(), r.counts.failed), (RunStatus::PartiallyFailed, "incremental", 1));
    assert!(r.failures[0].error.contains("username 'user5' already exists"), "{:?}", r.failures);

    // Nothing changed in the tenant: the round stays incremental (the token moved on) and the
    // failed user alone is read again, in one $batch beside the deltas' one.
    g.reset_counts();
    let r = h.engine.run(&config, &incremental(), &|_| {}).unwrap();
    assert_eq!((r.status, r.mode.as_str(), r.counts.failed), (RunStatus::PartiallyFailed, "incremental", 1));
    assert_eq!(g.total_requests(), 2, "{:?}", g.state.lock().unwrap().requests);
    assert!(r.notes.iter().any(|n| n.contains("read again 1 user(s) that failed in the last round")), "{:?}", r.notes);

    // The user holding the name is renamed at the source. The newcomer itself did not change,
    // so no delta reports it: it lands because it is read again by id.
    g.change(5, "userPrincipalName", json!("user5b@contoso.example"));
    let r = h.engine.run(&config, &incremental(), &|_| {}).unwrap();
    assert_eq!((r.mode.as_str(), r.counts.renamed), ("incremental", 1));
    // The name is free once that rename is in the directory, which is the next run's view.
    g.reset_counts();
    let r = h.engine.run(&config, &incremental(), &|_| {}).unwrap();
    assert_eq!((r.status, r.mode.as_str(), r.counts.created, r.counts.failed), (RunStatus::Done, "incremental", 1, 0));
    assert_eq!(g.total_requests(), 2, "the deltas, and the newcomer read by id");
    assert_eq!(h.user("user5").external_id.as_deref(), Some("00000000-0000-4000-8000-000000000900"));

    // Applied: nothing is read again after that.
    g.reset_counts();
    let r = h.engine.run(&config, &incremental(), &|_| {}).unwrap();
    assert_eq!((r.status, r.writes, g.total_requests()), (RunStatus::Done, 0, 1));
}

#[test]
fn two_hundred_changes_with_group_entries_that_repeat_their_name_stay_incremental() {
    let g = Graph::start(2000, 5);
    let h = Harness::new();
    let config = h.config(connector(&g, json!({})));
    assert_eq!(h.engine.run(&config, &incremental(), &|_| {}).unwrap().counts.created, 2000);

    // 150 users change an attribute; 50 others join or leave groups, as a dynamic group's rule
    // would move them. Every changed group entry repeats its unchanged displayName.
    for i in 0..150 {
        g.change(10 + i, "jobTitle", json!("Lead"));
    }
    for i in 0..50 {
        if i % 2 == 0 {
            g.join(1000 + i, (i + 1) % 5);
        } else {
            g.leave(1000 + i, (1000 + i) % 5);
        }
    }
    g.reset_counts();
    let r = h.engine.run(&config, &incremental(), &|_| {}).unwrap();
    assert_eq!((r.status, r.mode.as_str()), (RunStatus::Done, "incremental"), "{:?}", r.notes);
    assert_eq!((r.counts.updated, r.counts.created, r.counts.disabled), (200, 0, 0));
    // What the changes need: both deltas in one $batch, then each of the 200 touched users'
    // record and groups, two sub-requests each, 20 to a $batch.
    let need = 1 + (200 * 2usize).div_ceil(20);
    assert!(g.total_requests() * 10 <= need * 11, "{} requests for {need} needed", g.total_requests());
    assert_eq!(h.user("user1000").groups.len(), 2, "joined a second group");
    assert!(h.user("user1001").groups.is_empty(), "left its only group");

    // A rename of a group the rules read still needs every membership.
    g.rename_group(2, "Team Two");
    let r = h.engine.run(&config, &incremental(), &|_| {}).unwrap();
    assert_eq!(r.mode, "full");
    assert!(r.notes.iter().any(|n| n.contains("group 'Team 2' was renamed 'Team Two'")), "{:?}", r.notes);
}

#[test]
fn throttled_batch_subrequests_are_asked_again_and_never_dropped() {
    let g = Graph::start(400, 4);
    let h = Harness::new();
    let config = h.config(connector(&g, json!({ "photos": true })));
    {
        let mut s = g.state.lock().unwrap();
        s.throttle_every = 7;
        s.throttle_seconds = 0;
    }
    let r = h.sync(&config);
    assert_eq!((r.status, r.counts.created, r.photo_downloads), (RunStatus::Done, 400, 20), "{:?}", r.error);
    let s = g.state.lock().unwrap();
    assert!(s.inner_throttled > 20, "sub-requests were throttled: {}", s.inner_throttled);
    assert!(s.unanswered.is_empty(), "look-ups dropped: {:?}", s.unanswered);
    drop(s);
    let dir = usersync::directory::local::LocalDirectory::open(&h.path("directory.db")).unwrap();
    for i in (0..400).step_by(20) {
        assert!(dir.avatar(&h.user(&format!("user{i}")).key).unwrap().is_some(), "user{i} has a photo");
    }

    // Sub-requests that stay throttled fail the read, named, instead of passing for answers.
    g.fault("/v1.0/users/{id}/photo", None, usize::MAX, crate::support::graph::throttled(0));
    g.state.lock().unwrap().throttle_every = 0;
    let r = h.sync(&config);
    assert_eq!(r.status, RunStatus::Failed);
    let error = r.error.unwrap_or_default();
    assert!(error.contains("/photo: 429") && error.contains("still throttled after 6 attempts"), "{error}");
}
