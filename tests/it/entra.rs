//! The Entra ID connector against the Graph emulator on 127.0.0.1.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use usersync::store::RunStatus;

use crate::support::graph::{self, Graph};
use crate::support::Harness;

const TOKEN: &str = "POST /contoso-tenant/oauth2/v2.0/token";
const USERS: &str = "GET /v1.0/users";

pub(crate) fn connector(graph: &Graph, patch: Value) -> Value {
    let mut c = json!({
        "id": "entra",
        "type": "entra",
        "source": graph.source(),
        "mapping": [
            { "target": "username", "source": "userPrincipalName", "transforms": ["strip_domain", "lowercase"] },
            { "target": "display_name", "source": "displayName" },
            { "target": "email", "source": "mail" },
            { "target": "profile:department", "source": "department" },
            { "target": "profile:position", "source": "jobTitle" },
            { "target": "property:manager", "source": "manager.userPrincipalName",
              "transforms": ["strip_domain", "lowercase"], "no_match": "clear" }
        ]
    });
    crate::support::merge(&mut c, patch);
    c
}

#[test]
fn a_tenant_of_2000_users_and_50_groups_syncs_and_a_second_run_writes_nothing() {
    let g = Graph::start(2000, 50);
    let h = Harness::new();
    let config = h.config(connector(&g, json!({ "photos": true })));
    let r = h.sync(&config);
    assert_eq!((r.status, r.counts.created, r.counts.failed), (RunStatus::Done, 2000, 0), "{:?}", r.failures.first());
    assert_eq!(r.photo_downloads, 100, "one user in twenty has a photo");
    let u15 = h.user("user15");
    assert_eq!(u15.value(&"property:manager".parse().unwrap()), Some("user5"));
    assert_eq!(u15.value(&"profile:position".parse().unwrap()), Some("Engineer"));
    assert_eq!(u15.groups.iter().collect::<Vec<_>>(), vec!["Team 15"]);
    assert_eq!(h.user("user5").value(&"property:manager".parse().unwrap()), None);

    // The request floor: ⌈2000/100⌉ user pages (the mapping reads the manager, and Graph serves
    // `$expand` 100 users a page), one groups-delta page with every membership, one token,
    // ⌈2000/20⌉ photo-metadata batches and the 100 photos.
    assert_eq!(g.count(USERS), 20);
    assert_eq!(g.count("GET /v1.0/groups/delta"), 1);
    assert_eq!(g.count("GET /v1.0/groups/{id}/members"), 0, "no request per group");
    assert_eq!(g.count(TOKEN), 1, "one token for the whole run");
    assert_eq!(g.count("POST /v1.0/$batch"), 100);
    assert_eq!(g.total_requests(), 222, "no per-user request but the photos themselves");
    // Connections are kept between requests, as Graph keeps them (HTTP/1.1): against a provider
    // each new one is a TCP and a TLS handshake. At most one each for the page reader, the four
    // workers of `http.concurrency` and a token request (ureq's default pool of 3 a host made 12).
    let connections = g.server.connections();
    assert!(connections <= 6, "{connections} connections for 222 requests");
    let select = g.state.lock().unwrap().last_user_select.clone().unwrap();
    assert_eq!(select, "accountEnabled,department,displayName,id,jobTitle,mail,userPrincipalName");

    g.reset_counts();
    let again = h.sync(&config);
    assert_eq!((again.writes, again.counts.unchanged, again.photo_downloads), (0, 2000, 0));
    assert_eq!(g.count(USERS), 20);
    assert_eq!(g.count("GET /v1.0/users/{id}/photo/$value"), 0);
}

#[test]
fn disabled_accounts_are_disabled_and_nested_groups_flatten_when_transitive() {
    let g = Graph::start(40, 4);
    {
        let mut s = g.state.lock().unwrap();
        s.users[7].insert("accountEnabled".into(), json!(false));
        s.groups[1].nested = vec!["group-0002".into()];
    }
    g.state.lock().unwrap().groups[3].nested = vec!["group-0003".into()];
    let h = Harness::new();
    let direct = h.config(connector(&g, json!({})));
    let r = h.sync(&direct);
    assert_eq!((r.counts.created, r.counts.filtered), (39, 1), "an inactive account is not created");
    assert_eq!(h.user("user2").groups.iter().collect::<Vec<_>>(), vec!["Team 2"]);

    let transitive = h.config(connector(&g, json!({ "source": { "groups": "transitive" } })));
    h.sync(&transitive);
    assert_eq!(h.user("user2").groups.iter().collect::<Vec<_>>(), vec!["Team 1", "Team 2"]);
    assert_eq!(h.user("user1").groups.iter().collect::<Vec<_>>(), vec!["Team 1"]);
    assert_eq!(h.user("user3").groups.iter().collect::<Vec<_>>(), vec!["Team 3"], "a group in itself");
    // Nesting is flattened from one groups-delta round, not read group by group.
    assert_eq!(g.count("GET /v1.0/groups/{id}/transitiveMembers"), 0);
    assert_eq!(g.count("GET /v1.0/groups/delta"), 2, "one per run");

    // Required groups alone: only their members are read, transitively, group by group.
    // (Most users leave the other groups: a mass removal the guard is told to allow here.)
    let required = h.config(connector(
        &g,
        json!({ "source": { "groups": "transitive" }, "groups": { "required": ["Team 1"] },
                "safety": { "max_destructive_percent": 100, "max_destructive_count": 1000 } }),
    ));
    h.sync(&required);
    assert_eq!(g.count("GET /v1.0/groups/{id}/transitiveMembers"), 1);
    assert_eq!(h.user("user2").groups.iter().collect::<Vec<_>>(), vec!["Team 1"]);
}

#[test]
fn throttling_and_server_errors_are_waited_out_as_the_server_asks() {
    let g = Graph::start(120, 3);
    g.fault("/v1.0/users", None, 2, graph::throttled(1));
    g.fault("/v1.0/groups", None, 2, graph::unavailable());
    g.fault("/v1.0/groups/delta", None, 1, graph::truncated());
    let h = Harness::new();
    let started = Instant::now();
    let r = h.sync(&h.config(connector(&g, json!({}))));
    assert_eq!((r.status, r.counts.created, r.counts.failed), (RunStatus::Done, 120, 0));
    assert!(started.elapsed() >= Duration::from_secs(2), "Retry-After: 1 was asked twice");
    assert_eq!(g.count(USERS), 4, "two throttled answers, then the two pages of 100 and 20 users");
}

#[test]
fn a_request_that_times_out_is_retried() {
    let g = Graph::start(30, 0);
    g.fault("/v1.0/users", None, 1, graph::slow(Duration::from_secs(3)));
    let h = Harness::new();
    let config = h.config(connector(&g, json!({ "source": { "groups": "none", "http": { "timeout_seconds": 1 } } })));
    let r = h.sync(&config);
    assert_eq!((r.status, r.counts.created), (RunStatus::Done, 30));
    assert_eq!(g.count(USERS), 2);
}

#[test]
fn a_listing_that_fails_on_page_3_of_5_disables_nobody() {
    // The mapping reads the manager: `$expand=manager` pages hold 100 users.
    let g = Graph::start(500, 0);
    let h = Harness::new();
    let config = h.config(connector(&g, json!({ "source": { "groups": "none", "http": { "max_attempts": 2 } } })));
    assert_eq!(h.sync(&config).counts.created, 500);
    g.fault("/v1.0/users", Some(3), usize::MAX, graph::unavailable());
    let r = h.sync(&config);
    assert_eq!(r.status, RunStatus::PartiallyFailed);
    assert_eq!(r.counts.disabled, 0);
    assert_eq!(h.active_usernames().len(), 500);
    let failure = &r.failures[0];
    assert!(failure.error.contains("the user listing stopped after 200 users"), "{}", failure.error);
    assert!(failure.error.contains("entra: GET /v1.0/users: 503 ServiceUnavailable"), "{}", failure.error);
    assert!(r.notes.iter().any(|n| n.contains("incomplete")), "{:?}", r.notes);
}

#[test]
fn a_missing_permission_is_explained() {
    let g = Graph::start(5, 1);
    g.state.lock().unwrap().deny_users = true;
    let h = Harness::new();
    let r = h.sync(&h.config(connector(&g, json!({}))));
    assert_eq!(r.status, RunStatus::Failed);
    assert_eq!(
        r.error.as_deref(),
        Some("source: entra: GET /v1.0/users: 403 Authorization_RequestDenied (grant the application permission User.Read.All, with admin consent)")
    );
    assert!(h.users().is_empty());
}

#[test]
fn a_wrong_secret_fails_without_showing_it() {
    let g = Graph::start(5, 1);
    let h = Harness::new();
    let config = h.config(connector(&g, json!({ "source": { "client_secret": "wrong-s3cret-value" } })));
    let r = h.sync(&config);
    assert_eq!(r.status, RunStatus::Failed);
    let e = r.error.unwrap();
    assert!(e.contains("POST /contoso-tenant/oauth2/v2.0/token: 401"), "{e}");
    assert!(e.contains("check tenant_id, client_id and client_secret"), "{e}");
    assert!(!e.contains("wrong-s3cret-value") && !e.contains(graph::CLIENT_SECRET), "{e}");
}

#[test]
fn plain_http_is_refused_outside_loopback() {
    let g = Graph::start(1, 0);
    let h = Harness::new();
    let doc =
        json!({ "connectors": [connector(&g, json!({ "source": { "graph_url": "http://graph.microsoft.com" } }))] });
    let e = usersync::config::Config::from_json("c", &doc.to_string(), h.dir.path().into()).unwrap_err();
    assert_eq!(
        e.errors[0].to_string(),
        "connectors[0].source.graph_url: 'http://graph.microsoft.com': plain http is accepted only for loopback addresses; use https"
    );
}

#[test]
fn check_explains_what_is_missing() {
    let g = Graph::start(5, 2);
    let h = Harness::new();
    let config = h.config(connector(&g, json!({})));
    let ok = h.engine.check(&config, "entra").unwrap();
    assert!(ok.ok, "{ok:?}");
    assert_eq!(
        ok.steps.iter().map(|s| s.step.as_str()).collect::<Vec<_>>(),
        vec!["get a token", "read users", "read groups"]
    );

    g.state.lock().unwrap().deny_users = true;
    let denied = h.engine.check(&config, "entra").unwrap();
    assert!(!denied.ok);
    assert_eq!(denied.steps[1].detail, "entra: GET /v1.0/users: 403 Authorization_RequestDenied (grant the application permission User.Read.All, with admin consent)");
    assert!(h.users().is_empty(), "a check writes nothing");

    // Through the CLI, with a wrong secret: the token step fails and says what to check.
    let doc = json!({ "connectors": [connector(&g, json!({ "source": { "client_secret": "nope" } }))] });
    let path = h.write("entra.json", doc.to_string());
    let (code, out, _) = crate::support::cli(&h.path("data"), &["check", "--config", path.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL get a token: entra: POST /contoso-tenant/oauth2/v2.0/token: 401"), "{out}");
    assert!(out.contains("check tenant_id, client_id and client_secret"), "{out}");
    assert!(out.contains("connector 'entra': not ready"), "{out}");
}

#[test]
fn the_entra_preset_maps_a_tenant_without_rules() {
    let g = Graph::start(20, 2);
    let h = Harness::new();
    let c = json!({
        "id": "entra", "type": "entra", "source": g.source(), "preset": "entra",
        "mapping": [{ "target": "property:title", "source": "jobTitle", "transforms": ["uppercase"] }]
    });
    let config = h.config(c);
    let r = h.sync(&config);
    assert_eq!((r.status, r.counts.created), (RunStatus::Done, 20));
    let u = h.user("user12");
    assert_eq!(u.value(&"email".parse().unwrap()), Some("user12@contoso.example"));
    assert_eq!(u.value(&"property:manager".parse().unwrap()), Some("user2"));
    assert_eq!(u.value(&"property:title".parse().unwrap()), Some("ENGINEER"), "an own rule replaces the preset's");
    assert_eq!(u.value(&"property:department".parse().unwrap()), Some("Dept 5"));
    let select = g.state.lock().unwrap().last_user_select.clone().unwrap();
    assert!(select.contains("mobilePhone") && select.contains("businessPhones"), "{select}");
}

pub(crate) fn incremental() -> usersync::engine::RunRequest {
    usersync::engine::RunRequest {
        mode: usersync::engine::Mode::Incremental,
        ..usersync::engine::RunRequest::full(None)
    }
}

#[test]
fn incremental_runs_read_only_what_changed() {
    let g = Graph::start(250, 3);
    let h = Harness::new();
    let config = h.config(connector(&g, json!({})));
    let first = h.engine.run(&config, &incremental(), &|_| {}).unwrap();
    assert_eq!(
        (first.status, first.mode.as_str(), first.counts.created),
        (RunStatus::Done, "full", 250),
        "a first round reads everything"
    );
    assert_eq!(h.user("user4").groups.len(), 1, "the first round reads memberships too");

    // Nothing changed: exactly one request (both delta links in one $batch), no token request,
    // no write.
    g.reset_counts();
    let none = h.engine.run(&config, &incremental(), &|_| {}).unwrap();
    assert_eq!((none.writes, g.total_requests()), (0, 1), "{:?}", g.state.lock().unwrap().requests);
    assert_eq!(none.status, RunStatus::Done);
    assert!(none.notes.iter().any(|n| n.contains("nothing changed")), "reconcile was skipped: {:?}", none.notes);

    g.change(5, "department", json!("Research"));
    g.remove(7);
    g.add(900);
    g.reset_counts();
    let r = h.engine.run(&config, &incremental(), &|_| {}).unwrap();
    assert_eq!((r.counts.updated, r.counts.disabled, r.counts.created, r.counts.unchanged), (1, 1, 1, 0));
    assert_eq!(g.total_requests(), 2, "the deltas in one batch, the changed users' groups in another");
    assert_eq!(h.user("user5").value(&"profile:department".parse().unwrap()), Some("Research"));
    assert!(!h.user("user7").active, "a reported removal is processed like any change");
    assert!(h.find("user900").is_some());
    assert_eq!(h.user("user5").groups.iter().collect::<Vec<_>>(), vec!["Team 2"], "groups kept");

    // Only memberships changed: those users are completed (record and groups) and updated.
    g.join(4, 0);
    g.leave(6, 0);
    g.reset_counts();
    let r = h.engine.run(&config, &incremental(), &|_| {}).unwrap();
    assert_eq!((r.status, r.counts.updated, r.writes), (RunStatus::Done, 2, 2), "{:?}", r.failures);
    assert_eq!(g.total_requests(), 2);
    assert_eq!(h.user("user4").groups.iter().collect::<Vec<_>>(), vec!["Team 0", "Team 1"]);
    assert!(h.user("user6").groups.is_empty());

    // A renamed group needs every membership: the round becomes a full one. A third of the
    // users lose the old group at once, so the guard holds those removals until approved.
    g.rename_group(1, "Team One");
    let r = h.engine.run(&config, &incremental(), &|_| {}).unwrap();
    assert_eq!(r.mode, "full");
    assert!(
        r.notes.iter().any(|n| n.contains("group 'Team 1' was renamed 'Team One', which needs every membership")),
        "{:?}",
        r.notes
    );
    assert_eq!(r.status, RunStatus::Held);
    assert!(r.hold_reason.as_deref().unwrap().contains("lose group memberships"), "{:?}", r.hold_reason);
    assert_eq!(h.user("user4").groups.iter().collect::<Vec<_>>(), vec!["Team 0", "Team 1", "Team One"]);
    let approved = h.engine.approve(r.run_id, Some(&config), &|_| {}).unwrap();
    assert_eq!(approved.status, RunStatus::Done);
    assert_eq!(h.user("user4").groups.iter().collect::<Vec<_>>(), vec!["Team 0", "Team One"]);
}

#[test]
fn incremental_rounds_keep_managers_though_delta_does_not_expand_them() {
    let g = Graph::start(30, 0);
    let h = Harness::new();
    let config = h.config(connector(&g, json!({ "source": { "groups": "none" } })));
    h.sync(&config);
    let manager = "property:manager".parse().unwrap();
    assert_eq!(h.user("user15").value(&manager), Some("user5"));
    // The first delta round takes the users' delta link as it stands, then lists users with
    // their managers expanded, as a full run does: delta would name managers by id only.
    g.reset_counts();
    let first = h.engine.run(&config, &incremental(), &|_| {}).unwrap();
    assert_eq!((first.mode.as_str(), first.writes), ("full", 0), "it agrees with the full listing");
    assert_eq!(h.user("user15").value(&manager), Some("user5"));
    let order = g.state.lock().unwrap().first_requests.clone();
    let at = |prefix: &str| order.iter().position(|r| r.starts_with(prefix));
    let latest = at("GET /v1.0/users/delta?").expect("the users' delta link was asked for");
    assert!(order[latest].contains("$deltatoken=latest"), "{order:?}");
    assert!(latest < at("GET /v1.0/users?").expect("a listing"), "the link is taken before the listing: {order:?}");
    assert_eq!(g.count("GET /v1.0/users/delta"), 1, "no delta chain is read");

    g.change(15, "jobTitle", json!("Lead"));
    let r = h.engine.run(&config, &incremental(), &|_| {}).unwrap();
    assert_eq!((r.counts.updated, r.writes), (1, 1), "only the title changed");
    assert_eq!(h.user("user15").value(&manager), Some("user5"));
}

#[test]
fn a_change_made_while_the_first_round_lists_arrives_in_the_next_round() {
    let g = Graph::start(30, 0);
    let h = Harness::new();
    let config = h.config(connector(&g, json!({ "source": { "groups": "none" } })));
    // User 3 is on the first page, which is answered before the change is made.
    g.state.lock().unwrap().change_after_first_page = Some((3, "jobTitle".into(), json!("Changed Meanwhile")));
    let first = h.engine.run(&config, &incremental(), &|_| {}).unwrap();
    assert_eq!((first.status, first.counts.created), (RunStatus::Done, 30));
    let title = "profile:position".parse().unwrap();
    assert_eq!(h.user("user3").value(&title), Some("Manager"), "the listing saw the title before the change");
    g.reset_counts();
    let next = h.engine.run(&config, &incremental(), &|_| {}).unwrap();
    assert_eq!((next.mode.as_str(), next.counts.updated), ("incremental", 1), "{:?}", next.notes);
    assert_eq!(h.user("user3").value(&title), Some("Changed Meanwhile"));
}

#[test]
fn a_delta_token_moves_on_only_after_a_clean_apply_and_an_expired_one_falls_back() {
    let g = Graph::start(60, 0);
    let h = Harness::new();
    let config = h.config(connector(&g, json!({ "source": { "groups": "none" } })));
    h.engine.run(&config, &incremental(), &|_| {}).unwrap();

    g.change(9, "mail", json!("broken@"));
    g.change(10, "jobTitle", json!("Lead"));
    let r = h.engine.run(&config, &incremental(), &|_| {}).unwrap();
    assert_eq!((r.status, r.counts.updated, r.counts.failed), (RunStatus::PartiallyFailed, 1, 1));
    g.change(9, "mail", json!("user9@fixed.example"));
    let r = h.engine.run(&config, &incremental(), &|_| {}).unwrap();
    assert_eq!(r.status, RunStatus::Done);
    assert_eq!(r.counts.updated, 1, "user9's change arrives; user10's was applied already and is unchanged");
    assert_eq!(h.user("user9").value(&"email".parse().unwrap()), Some("user9@fixed.example"));

    // The service forgot the sync state: a full round instead, with a note.
    g.state.lock().unwrap().min_delta = 1_000;
    g.remove(3);
    let r = h.engine.run(&config, &incremental(), &|_| {}).unwrap();
    assert_eq!((r.status, r.counts.disabled), (RunStatus::Done, 1));
    assert!(
        r.notes.iter().any(|n| n.contains("the stored delta token expired") && n.contains("410 SyncStateNotFound")),
        "{:?}",
        r.notes
    );
}

#[test]
fn incremental_on_a_file_source_runs_a_full_sync() {
    let h = Harness::new();
    h.write_users(&crate::support::people(4));
    let config = h.config(crate::support::connector(json!({})));
    let r = h.engine.run(&config, &incremental(), &|_| {}).unwrap();
    assert_eq!((r.status, r.counts.created), (RunStatus::Done, 4));
    assert!(r.notes.iter().any(|n| n.contains("reads only full listings")), "{:?}", r.notes);
}

#[test]
fn photos_come_in_batches_and_are_downloaded_only_when_their_etag_changed() {
    let g = Graph::start(400, 0);
    let h = Harness::new();
    let config = h.config(connector(&g, json!({ "photos": true, "source": { "groups": "none" } })));
    let first = h.sync(&config);
    assert_eq!((first.status, first.counts.created, first.photo_downloads), (RunStatus::Done, 400, 20));
    assert_eq!(g.count("POST /v1.0/$batch"), 20, "400 users, 20 photo lookups per batch");
    let dir = usersync::directory::local::LocalDirectory::open(&h.path("directory.db")).unwrap();
    let image = dir.avatar(&h.user("user40").key).unwrap().expect("an avatar");
    assert!(String::from_utf8_lossy(&image).contains("photo-40-v1"));

    g.reset_counts();
    let again = h.sync(&config);
    assert_eq!((again.writes, again.photo_downloads), (0, 0));
    assert_eq!(g.count("GET /v1.0/users/{id}/photo/$value"), 0);

    g.state.lock().unwrap().users[40].insert("#photo".into(), json!("W/\"photo-40-v2\""));
    let r = h.sync(&config);
    assert_eq!((r.writes, r.photo_downloads), (1, 1));
    assert!(String::from_utf8_lossy(&dir.avatar(&h.user("user40").key).unwrap().unwrap()).contains("photo-40-v2"));
}

#[test]
fn an_empty_listing_from_a_tenant_with_managed_users_is_held() {
    let g = Graph::start(30, 0);
    let h = Harness::new();
    let config = h
        .config(connector(&g, json!({ "source": { "groups": "none" }, "safety": { "max_destructive_percent": 100 } })));
    assert_eq!(h.sync(&config).counts.created, 30);
    g.fault(
        "/v1.0/users",
        None,
        usize::MAX,
        crate::support::http_server::HttpResponse::json(200, &json!({ "value": [] })),
    );
    let r = h.sync(&config);
    assert_eq!((r.status, r.counts.disabled, r.counts.held), (RunStatus::Held, 0, 30));
    assert_eq!(h.active_usernames().len(), 30);
}

#[test]
fn requests_go_through_the_configured_proxy() {
    let g = Graph::start(12, 0);
    let h = Harness::new();
    // The emulator also plays the proxy; the configured Graph address has nobody listening.
    let config = h.config(connector(
        &g,
        json!({ "source": { "groups": "none", "authority_url": "http://127.0.0.1:9", "graph_url": "http://127.0.0.1:9",
            "http": { "proxy_url": g.url() } } }),
    ));
    let r = h.sync(&config);
    assert_eq!((r.status, r.counts.created), (RunStatus::Done, 12), "{:?}", r.error);
    assert!(g.state.lock().unwrap().proxied > 0);
}

#[test]
fn with_required_groups_only_their_members_are_read() {
    let g = Graph::start(500, 25);
    let h = Harness::new();
    let config = h.config(connector(&g, json!({ "groups": { "required": ["Team 3"] } })));
    let r = h.sync(&config);
    assert_eq!((r.status, r.counts.created, r.counts.filtered), (RunStatus::Done, 20, 480));
    assert_eq!(g.count("GET /v1.0/groups/{id}/members"), 1, "only Team 3's members");
    assert_eq!(h.user("user28").groups.iter().collect::<Vec<_>>(), vec!["Team 3"]);
}

#[test]
fn a_first_round_that_reads_group_by_group_takes_the_groups_link_first_and_reads_no_chain() {
    let g = Graph::start(100, 5);
    let h = Harness::new();
    let config = h.config(connector(&g, json!({ "groups": { "required": ["Team 3"] } })));
    let first = h.engine.run(&config, &incremental(), &|_| {}).unwrap();
    assert_eq!((first.status, first.mode.as_str(), first.counts.created), (RunStatus::Done, "full", 20));
    let order = g.state.lock().unwrap().first_requests.clone();
    let at = |prefix: &str| order.iter().position(|r| r.starts_with(prefix));
    let link = at("GET /v1.0/groups/delta?").expect("the groups' delta link was asked for");
    assert!(order[link].contains("$deltatoken=latest"), "{order:?}");
    assert!(link < at("GET /v1.0/groups?").expect("the groups listed"), "the link comes first: {order:?}");
    assert_eq!(g.count("GET /v1.0/groups/delta"), 1, "no chain drained for its link");
    assert_eq!(g.count("GET /v1.0/groups/{id}/members"), 1, "only Team 3's members");
    // A user who joins the required group arrives in the next round, which stays incremental.
    g.join(4, 3);
    let next = h.engine.run(&config, &incremental(), &|_| {}).unwrap();
    assert_eq!((next.mode.as_str(), next.counts.created), ("incremental", 1), "{:?}", next.notes);
    assert!(h.user("user4").groups.contains("Team 3"));
}

#[test]
fn incremental_runs_turn_into_a_periodic_full_reconcile() {
    let g = Graph::start(40, 0);
    let h = Harness::new();
    let config = h.config(connector(
        &g,
        json!({ "source": { "groups": "none" }, "full_reconcile": { "every_runs": 2, "max_age_hours": 48 } }),
    ));
    assert_eq!(h.engine.run(&config, &incremental(), &|_| {}).unwrap().mode, "full");
    for _ in 0..2 {
        let r = h.engine.run(&config, &incremental(), &|_| {}).unwrap();
        assert_eq!(r.mode, "incremental", "{:?}", r.notes);
    }
    let third = h.engine.run(&config, &incremental(), &|_| {}).unwrap();
    assert_eq!(third.mode, "full");
    assert!(
        third.notes.iter().any(|n| n.contains("a periodic full reconcile: 2 incremental runs")),
        "{:?}",
        third.notes
    );
    assert_eq!(h.engine.run(&config, &incremental(), &|_| {}).unwrap().mode, "incremental");

    h.advance_days(3);
    let aged = h.engine.run(&config, &incremental(), &|_| {}).unwrap();
    assert_eq!(aged.mode, "full");
    assert!(aged.notes.iter().any(|n| n.contains("older than 48 hours")), "{:?}", aged.notes);
}

#[test]
fn an_extra_ca_file_is_read_and_a_bad_one_is_explained() {
    let g = Graph::start(3, 0);
    let h = Harness::new();
    h.write("corp-ca.pem", include_str!("support/test-ca.pem"));
    let ok = h.config(connector(&g, json!({ "source": { "groups": "none", "http": { "ca_file": "corp-ca.pem" } } })));
    assert_eq!(h.sync(&ok).status, RunStatus::Done);

    h.write("not-a-cert.pem", "hello");
    let bad = h.config(connector(&g, json!({ "source": { "http": { "ca_file": "not-a-cert.pem" } } })));
    let r = h.sync(&bad);
    assert_eq!(r.status, RunStatus::Failed);
    assert!(r.error.unwrap().contains("not-a-cert.pem holds no PEM certificate"));
}

#[test]
fn a_token_that_expires_early_is_replaced_once() {
    let g = Graph::start(20, 0);
    let h = Harness::new();
    let config = h.config(connector(&g, json!({ "source": { "groups": "none" } })));
    h.sync(&config);
    // The cached token is rejected on the next run; the connector fetches a new one and goes on.
    g.state.lock().unwrap().expired_through = 1;
    let r = h.sync(&config);
    assert_eq!((r.status, r.counts.failed), (RunStatus::Done, 0));
    assert_eq!(g.state.lock().unwrap().tokens_issued, 2);
}

#[test]
fn a_login_reads_only_that_user() {
    let g = Graph::start(300, 3);
    let h = Harness::new();
    let config = h.config(connector(&g, json!({})));
    h.sync(&config);
    g.remove(7);
    assert_eq!(h.sync(&config).counts.disabled, 1);
    g.add(7);
    g.join(299, 1); // user 7 is now at index 299
    g.reset_counts();
    let d = h.engine.on_login(&config, "entra", "user7").unwrap();
    assert!(d.allow, "{}", d.reason);
    assert_eq!(g.count(USERS), 0, "no tenant listing for one login");
    assert_eq!(g.total_requests(), 1, "the record and its groups in one $batch");
    let u = h.user("user7");
    assert!(u.active);
    assert_eq!(u.groups.iter().collect::<Vec<_>>(), vec!["Team 1"]);
}
