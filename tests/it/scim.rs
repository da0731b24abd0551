//! The `scim` pull connector against scim2-server (PyPI), a SCIM 2.0 service provider started on
//! 127.0.0.1: the directory ends up holding exactly what the server holds — core and enterprise
//! attributes, a custom extension, groups with nesting, managers — through the server's own
//! page size and cursors. Edge cases no well-behaved server produces on demand (an empty last
//! page, a listing cut short, SCIM error bodies) run against a small in-test server.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use usersync::model::{DirectoryUser, Target};
use usersync::store::RunStatus;

use crate::support::http_server::{HttpResponse, Server};
use crate::support::scim2::{Options, Scim2Server, CUSTOM, ENTERPRISE};
use crate::support::Harness;

fn user_schemas(custom: bool) -> Vec<&'static str> {
    let mut s = vec!["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE];
    if custom {
        s.push(CUSTOM);
    }
    s
}

/// `n` people: u1 heads everyone in u2..u5, u2 the rest; every fourth has a home address listed
/// first and the work one marked primary; u7 is inactive; the custom extension on even ones.
fn seed_users(s: &Scim2Server, n: usize, custom: bool) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for i in 1..=n {
        let mut emails = vec![json!({ "value": format!("U{i}@Corp.Example"), "type": "work", "primary": true })];
        if i % 4 == 0 {
            emails.insert(0, json!({ "value": format!("u{i}@home.example"), "type": "home" }));
        }
        let mut body = json!({
            "schemas": user_schemas(custom && i % 2 == 0),
            "userName": format!("U{i}"),
            "name": { "givenName": "User", "familyName": format!("Number{i}") },
            "displayName": format!("User {i}"),
            "title": if i <= 2 { "Head" } else { "Engineer" },
            "emails": emails,
            "phoneNumbers": [{ "value": format!("+1 555 {i:04}"), "type": "work" }],
            "active": i != 7
        });
        let mut enterprise = json!({ "employeeNumber": format!("E{i}"), "department": format!("Dept {}", i % 3) });
        if i > 1 {
            let boss = if i <= 5 { &ids[0] } else { &ids[1] };
            enterprise["manager"] = json!({ "value": boss });
        }
        body[ENTERPRISE] = enterprise;
        if custom && i % 2 == 0 {
            body[CUSTOM] = json!({ "costCenter": format!("CC-{}", i % 5), "badge": i });
        }
        ids.push(s.create("Users", body)["id"].as_str().unwrap().to_string());
    }
    ids
}

fn member(id: &str, kind: &str) -> Value {
    json!({ "value": id, "type": kind })
}

/// Staff: u1..u20; Platform: u16..u18; Engineering: u11..u15 and, nested, Platform.
fn seed_groups(s: &Scim2Server, ids: &[String]) {
    let users = |r: std::ops::RangeInclusive<usize>| r.map(|i| member(&ids[i - 1], "User")).collect::<Vec<_>>();
    let group = |name: &str, members: Vec<Value>| {
        s.create("Groups", json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name, "members": members }))
    };
    group("Staff", users(1..=20));
    let platform = group("Platform", users(16..=18));
    let mut eng = users(11..=15);
    eng.push(member(platform["id"].as_str().unwrap(), "Group"));
    group("Engineering", eng);
}

fn connector(s: &Scim2Server, patch: Value) -> Value {
    let mut c = json!({
        "id": "scim", "type": "scim", "source": s.source(), "preset": "scim",
        "mapping": [
            { "target": "property:cost_center", "source": format!("{CUSTOM}:costCenter"), "no_match": "clear" },
            { "target": "property:badge", "source": format!("{CUSTOM}:badge"), "no_match": "clear" }
        ],
        "manager": { "target": "property:manager", "write": "username", "match": "id" },
        "groups": { "create_missing": true },
        "safety": { "max_destructive_percent": 100 }
    });
    crate::support::merge(&mut c, patch);
    c
}

fn value(u: &DirectoryUser, target: &str) -> Option<String> {
    u.values.get(&target.parse::<Target>().unwrap()).map(str::to_string)
}

/// Per username: active, the mapped values (as `actual` lists the targets), the groups.
type Holding = BTreeMap<String, (bool, Vec<Option<String>>, BTreeSet<String>)>;

/// What the server holds, read back from it, as the directory should hold it.
fn expected(s: &Scim2Server, transitive: bool) -> Holding {
    let users = s.all("Users");
    let by_id: BTreeMap<String, &Value> = users.iter().map(|u| (u["id"].as_str().unwrap().to_string(), u)).collect();
    let groups = s.all("Groups");
    let group_ids: BTreeMap<&str, &Value> = groups.iter().map(|g| (g["id"].as_str().unwrap(), g)).collect();
    let mut memberships: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for g in &groups {
        let mut todo: Vec<&Value> = vec![g];
        while let Some(at) = todo.pop() {
            for m in at["members"].as_array().into_iter().flatten() {
                let id = m["value"].as_str().unwrap();
                match group_ids.get(id) {
                    Some(nested) if transitive => todo.push(nested),
                    Some(_) => {}
                    None => {
                        memberships
                            .entry(id.to_string())
                            .or_default()
                            .insert(g["displayName"].as_str().unwrap().into());
                    }
                }
            }
        }
    }
    users
        .iter()
        .map(|u| {
            let id = u["id"].as_str().unwrap();
            let ent = &u[ENTERPRISE];
            let work = u["emails"].as_array().unwrap().iter().find(|e| e["primary"] == true).unwrap();
            let manager =
                ent["manager"]["value"].as_str().map(|m| by_id[m]["userName"].as_str().unwrap().to_lowercase());
            let text = |v: &Value| v.as_str().map(str::to_string).or_else(|| v.as_i64().map(|n| n.to_string()));
            let values = vec![
                u["displayName"].as_str().map(str::to_string),
                work["value"].as_str().map(str::to_lowercase),
                ent["department"].as_str().map(str::to_string),
                ent["employeeNumber"].as_str().map(str::to_string),
                u["title"].as_str().map(str::to_string),
                u["phoneNumbers"][0]["value"].as_str().map(str::to_string),
                text(&u[CUSTOM]["costCenter"]),
                text(&u[CUSTOM]["badge"]),
                manager,
            ];
            let username = u["userName"].as_str().unwrap().to_lowercase();
            (username, (u["active"] != false, values, memberships.remove(id).unwrap_or_default()))
        })
        // A user inactive at the source is not created (lifecycle: nobody is made to be disabled).
        .filter(|(_, (active, _, _))| *active)
        .collect()
}

fn actual(h: &Harness) -> Holding {
    let targets = [
        "display_name",
        "email",
        "property:department",
        "property:employee_id",
        "property:title",
        "property:phone",
        "property:cost_center",
        "property:badge",
        "property:manager",
    ];
    h.users()
        .into_iter()
        .map(|u| {
            let values = targets.iter().map(|t| value(&u, t)).collect();
            let groups = u.groups.iter().map(str::to_string).collect();
            (u.username.to_string(), (u.active, values, groups))
        })
        .collect()
}

#[test]
fn the_directory_holds_what_scim2_server_holds_through_its_smaller_pages() {
    let s = Scim2Server::start(Options { max_page_size: Some(7), custom_extension: true, ..Options::default() });
    let ids = seed_users(&s, 25, true);
    seed_groups(&s, &ids);
    let h = Harness::new();
    let config = h.config(connector(&s, json!({ "source": { "groups": "transitive", "page_size": 10 } })));
    let check = h.engine.check(&config, "scim").unwrap();
    assert!(check.ok, "{check:?}");

    let first = h.sync(&config);
    assert_eq!(
        (first.status, first.counts.created, first.counts.failed),
        (RunStatus::Done, 24, 0),
        "{:?}",
        first.failures
    );
    let want = expected(&s, true);
    assert_eq!(actual(&h), want);
    // Spot checks of what the comparison covers: the nested group, a manager, the extension.
    let u17 = &want["u17"];
    assert_eq!(u17.2, BTreeSet::from(["Engineering".into(), "Platform".into(), "Staff".into()]));
    assert_eq!(u17.1[8].as_deref(), Some("u2"));
    assert!(!want.contains_key("u7") && h.find("u7").is_none(), "u7 is inactive on the server");
    assert_eq!(want["u4"].1[1].as_deref(), Some("u4@corp.example"), "the primary e-mail, not the first");
    assert_eq!(want["u4"].1[6].as_deref(), Some("CC-4"));
    // The server answered 7 users per page whatever was asked: 4 pages of users.
    let pages = s.log().lines().filter(|l| l.contains("GET /v2/Users?count=10&startIndex=")).count();
    assert_eq!(pages, 4, "{}", s.log());

    assert_eq!(h.sync(&config).writes, 0, "a second run writes nothing");
}

#[test]
fn cursor_paging_is_used_where_the_server_announces_it_and_direct_groups_leave_nesting_out() {
    let s = Scim2Server::start(Options { max_page_size: Some(6), cursor: true, ..Options::default() });
    let ids = seed_users(&s, 20, false);
    seed_groups(&s, &ids);
    let h = Harness::new();
    let config = h.config(connector(&s, json!({ "mapping": [] })));
    let r = h.sync(&config);
    assert_eq!((r.status, r.counts.created), (RunStatus::Done, 19), "{:?}", r.failures);
    let cursor_pages = s.log().lines().filter(|l| l.contains("GET /v2/Users?count=100&cursor=")).count();
    assert_eq!(cursor_pages, 4, "20 users at 6 a page, by cursor:\n{}", s.log());
    let mut want = expected(&s, false);
    let mut got = actual(&h);
    // This connector maps no custom extension.
    for v in want.values_mut().chain(got.values_mut()) {
        v.1[6] = None;
        v.1[7] = None;
    }
    assert_eq!(got, want);
    assert!(!h.user("u16").groups.contains("Engineering"), "direct members only");
}

fn incremental() -> usersync::engine::RunRequest {
    usersync::engine::RunRequest {
        mode: usersync::engine::Mode::Incremental,
        ..usersync::engine::RunRequest::full(Some("scim"))
    }
}

#[test]
fn an_incremental_run_reads_only_users_modified_since_the_last_round() {
    let s = Scim2Server::start(Options::default());
    let ids = seed_users(&s, 12, false);
    let h = Harness::new();
    let config = h.config(connector(&s, json!({ "mapping": [], "source": { "groups": "none" } })));
    let first = h.engine.run(&config, &incremental(), &|_| {}).unwrap();
    assert_eq!(first.counts.created, 11, "u7 is inactive");
    let patch = json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{ "op": "replace", "path": "displayName", "value": "Renamed Person" }] });
    // RFC 7644 §3.5.2: 200 with the resource, or 204 without it.
    assert!(matches!(s.call("PATCH", &format!("/Users/{}", ids[2]), Some(&patch)).0, 200 | 204));
    let before = s.log().lines().count();
    let second = h.engine.run(&config, &incremental(), &|_| {}).unwrap();
    assert_eq!((second.status, second.counts.updated), (RunStatus::Done, 1), "{:?}", second.counts);
    assert_eq!(value(&h.user("u3"), "display_name").as_deref(), Some("Renamed Person"));
    let log = s.log();
    let filtered: Vec<&str> = log.lines().skip(before).filter(|l| l.contains("GET /v2/Users")).collect();
    assert!(filtered.iter().all(|l| l.contains("filter=meta.lastModified")), "{filtered:?}");
}

/// An in-test server for what scim2-server does not do on demand. Each modelled rule is RFC
/// 7644's or RFC 9865's: `Resources` is required only when `totalResults` is not zero (§3.4.2),
/// a server may return fewer results than `count` (§3.4.2.4), errors carry `status`,
/// `scimType` and `detail` (§3.12); a cursor server announces `pagination.cursor` and answers
/// `nextCursor` while there may be more (RFC 9865 §2, §4). Pages are served in order: by
/// `startIndex` (1, 4, 6) or by cursor ("", "p2", "p3").
fn odd_server(cursor: bool, pages: Vec<HttpResponse>) -> (Server, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let pages = Arc::new(pages);
    let server = Server::start(Arc::new(move |req| {
        let at = req.param("cursor").or(req.param("startIndex")).unwrap_or("").to_string();
        log.lock().unwrap().push(format!("{} {at}", req.path));
        if req.header("Authorization") != Some("Bearer t") {
            return scim_error(401, None, "no");
        }
        match req.path.as_str() {
            "/ServiceProviderConfig" => HttpResponse::json(
                200,
                &json!({ "filter": { "supported": false },
                "pagination": { "cursor": cursor, "index": !cursor } }),
            ),
            "/Users" => {
                let k = match at.as_str() {
                    "1" | "" => 0,
                    "4" | "p2" => 1,
                    _ => 2,
                };
                pages.get(k).cloned().unwrap_or_else(|| scim_error(400, Some("invalidValue"), "no such page"))
            }
            _ => scim_error(404, None, "not here"),
        }
    }));
    (server, seen)
}

fn scim_error(status: u16, scim_type: Option<&str>, detail: &str) -> HttpResponse {
    let mut body = json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": status.to_string(), "detail": detail });
    if let Some(t) = scim_type {
        body["scimType"] = json!(t);
    }
    HttpResponse::json(status, &body)
}

fn page(total: usize, next: Option<&str>, ids: &[&str]) -> HttpResponse {
    let resources: Vec<Value> = ids.iter().map(|id| json!({ "id": id, "userName": id })).collect();
    let mut body = json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": total, "itemsPerPage": ids.len(), "Resources": resources });
    if let Some(n) = next {
        body["nextCursor"] = json!(n);
    }
    HttpResponse::json(200, &body)
}

fn odd_config(h: &Harness, server: &Server) -> usersync::config::Config {
    h.config(json!({
        "id": "scim", "type": "scim", "preset": "scim",
        "source": { "base_url": server.url(), "bearer_token": "t", "groups": "none", "http": { "retry_base_ms": 1, "max_attempts": 2 } },
        "safety": { "max_destructive_percent": 100 }
    }))
}

#[test]
fn short_pages_and_an_empty_last_page_end_a_complete_listing() {
    // Index paging: the server answers 3 where 100 were asked; the next page starts after them.
    let (server, seen) = odd_server(false, vec![page(5, None, &["a", "b", "c"]), page(5, None, &["d", "e"])]);
    let h = Harness::new();
    let r = h.sync(&odd_config(&h, &server));
    assert_eq!((r.status, r.counts.created), (RunStatus::Done, 5), "{:?}", r.failures);
    let users: Vec<String> = seen.lock().unwrap().iter().filter(|l| l.starts_with("/Users")).cloned().collect();
    assert_eq!(users, vec!["/Users 1", "/Users 4"]);
    // Cursor paging: the last full page still has a next cursor, and the page it leads to is
    // empty, without `Resources`.
    let empty = HttpResponse::json(
        200,
        &json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 5, "itemsPerPage": 0 }),
    );
    let (server, seen) =
        odd_server(true, vec![page(5, Some("p2"), &["a", "b", "c"]), page(5, Some("p3"), &["d", "e"]), empty]);
    let h = Harness::new();
    let r = h.sync(&odd_config(&h, &server));
    assert_eq!((r.status, r.counts.created), (RunStatus::Done, 5), "{:?}", r.failures);
    let users: Vec<String> = seen.lock().unwrap().iter().filter(|l| l.starts_with("/Users")).cloned().collect();
    assert_eq!(users, vec!["/Users ", "/Users p2", "/Users p3"]);
}

#[test]
fn a_listing_cut_short_or_shifted_proves_nobody_absent_and_scim_errors_are_named() {
    let (server, _) = odd_server(false, vec![page(5, None, &["a", "b", "c"]), page(5, None, &["d", "e"])]);
    let h = Harness::new();
    assert_eq!(h.sync(&odd_config(&h, &server)).counts.created, 5);
    // The second page fails with a SCIM error: three users are read, nobody is taken for gone.
    let (broken, _) = odd_server(
        false,
        vec![page(5, None, &["a", "b", "c"]), scim_error(400, Some("invalidValue"), "startIndex out of range")],
    );
    let r = h.sync(&odd_config(&h, &broken));
    assert_eq!(r.counts.disabled, 0, "{:?}", r.counts);
    assert_eq!(h.active_usernames().len(), 5);
    let failures = format!("{:?}", r.failures);
    assert!(failures.contains("400 invalidValue") && failures.contains("startIndex out of range"), "{failures}");
    // A user deleted while paging: the pages shift, d moves onto the first page unread, and the
    // counts say so — d is not taken for gone.
    let (shifted, _) = odd_server(false, vec![page(5, None, &["a", "b", "c"]), page(4, None, &["e"])]);
    let r = h.sync(&odd_config(&h, &shifted));
    assert_eq!(r.counts.disabled, 0, "{:?}", r.counts);
    assert!(format!("{:?}", r.failures).contains("changed while paging"), "{:?}", r.failures);
    // A wrong token: the check names the status and the endpoint, never the token.
    let config = h.config(json!({ "id": "scim", "type": "scim", "preset": "scim",
        "source": { "base_url": server.url(), "bearer_token": "wrong", "http": { "max_attempts": 1 } } }));
    let steps = h.engine.check(&config, "scim").unwrap().steps;
    assert!(!steps[0].ok && steps[0].detail.contains("GET /ServiceProviderConfig: 401"), "{steps:?}");
    assert!(!steps[0].detail.contains("wrong"), "the token never shows: {steps:?}");
}

/// Basic and OAuth client-credentials authentication. Modelled rules: HTTP Basic (RFC 7617)
/// carries `user:password` in base64; a client-credentials token request (RFC 6749 §4.4.2) is a
/// form POST with `grant_type=client_credentials`, the client authenticated by HTTP Basic with
/// its id and secret form-urlencoded first (§2.3.1: `%` becomes `%25`), answered with `access_token` and `expires_in` (§5.1).
#[test]
fn basic_and_oauth_client_credentials_authenticate() {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let tokens = Arc::new(Mutex::new(0usize));
    let issued = tokens.clone();
    let (basic, client) = (format!("Basic {}", b64("svc:pa ss")), format!("Basic {}", b64("app-1:s3cr%25t")));
    let server = Server::start(Arc::new(move |req| {
        if req.path == "/oauth/token" {
            let form = req.form();
            let grant = form.iter().any(|(k, v)| k == "grant_type" && v == "client_credentials");
            if req.method != "POST" || !grant || req.header("Authorization") != Some(client.as_str()) {
                return HttpResponse::json(401, &json!({ "error": "invalid_client" }));
            }
            *issued.lock().unwrap() += 1;
            return HttpResponse::json(
                200,
                &json!({ "access_token": "tok-1", "token_type": "Bearer", "expires_in": 3600 }),
            );
        }
        let auth = req.header("Authorization").unwrap_or("");
        if auth != basic && auth != "Bearer tok-1" {
            return scim_error(401, None, "no");
        }
        match req.path.as_str() {
            "/ServiceProviderConfig" => HttpResponse::json(200, &json!({ "filter": { "supported": false } })),
            "/Users" => page(1, None, &["pat"]),
            _ => scim_error(404, None, "not here"),
        }
    }));
    let h = Harness::new();
    let with = |source: Value| {
        h.config(json!({ "id": "scim", "type": "scim", "preset": "scim", "source": source,
            "safety": { "max_destructive_percent": 100 } }))
    };
    let url = server.url();
    let basic_config = with(json!({ "base_url": url, "username": "svc", "password": "pa ss", "groups": "none" }));
    assert_eq!(h.sync(&basic_config).counts.created, 1);
    let oauth = with(json!({ "base_url": url, "token_url": format!("{url}/oauth/token"), "client_id": "app-1",
        "client_secret": "s3cr%t", "groups": "none" }));
    let r = h.sync(&oauth);
    assert_eq!((r.status, r.counts.unchanged), (RunStatus::Done, 1), "{:?}", r.failures);
    assert_eq!(*tokens.lock().unwrap(), 1, "one token for the whole run");
    let wrong = with(json!({ "base_url": url, "token_url": format!("{url}/oauth/token"), "client_id": "app-1",
        "client_secret": "nope", "groups": "none", "http": { "max_attempts": 1 } }));
    let steps = h.engine.check(&wrong, "scim").unwrap().steps;
    assert!(!steps[0].ok && steps[0].detail.contains("401 invalid_client"), "{steps:?}");
    assert!(!format!("{steps:?}").contains("nope"), "the secret never shows");
    // Mixed or missing credentials are a configuration error.
    let doc = json!({ "connectors": [{ "id": "scim", "type": "scim", "preset": "scim",
        "source": { "base_url": url, "bearer_token": "t", "username": "svc", "password": "p" } }] });
    let errors = usersync::config::Config::from_json("test", &doc.to_string(), h.path("")).unwrap_err().to_string();
    assert!(errors.contains("connectors[0].source.bearer_token: missing or mixed"), "{errors}");
}
