//! A stateful subset of Keycloak 26's Admin REST API, after its documentation
//! (keycloak.org/docs-api/latest/rest-api and the Server Administration Guide):
//! - the realm's OpenID Connect token endpoint grants a confidential client's service account a
//!   token by `client_credentials` (form fields `client_id`, `client_secret`), and refuses wrong
//!   credentials with 401 `unauthorized_client`;
//! - every admin endpoint wants that bearer token (401 without it);
//! - `GET /admin/realms/{realm}/users` pages by `first` (offset) and `max` (default 100), in
//!   username order; `briefRepresentation=true` leaves `attributes` out; `/users/count`;
//!   `/users/{id}` (404 `User not found`), `/users/{id}/groups`;
//! - `GET /groups` lists top-level groups with `subGroupCount` and, since Keycloak 23, no inline
//!   `subGroups`: they come from `/groups/{id}/children`; `/groups/{id}/members`;
//! - `GET /roles` and `/roles/{role-name}/users` for realm roles.
//!
//! Faults: a users page answering 500, and throttling (429 with `Retry-After`, as a proxy in
//! front of Keycloak sends it; Keycloak itself documents no rate limit).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use super::http_server::{HttpRequest, HttpResponse, Server};

pub const REALM: &str = "staff";
pub const CLIENT_ID: &str = "usersync";
pub const CLIENT_SECRET: &str = "kc-client-secret-9f8e7d";
const TOKEN: &str = "eyJ.keycloak-access-token";

pub struct Group {
    pub id: String,
    pub name: String,
    pub parent: Option<String>,
    pub members: Vec<String>,
}

#[derive(Default)]
pub struct State {
    pub users: Vec<Value>,
    pub groups: Vec<Group>,
    /// Realm roles: name → user ids.
    pub roles: BTreeMap<String, Vec<String>>,
    pub requests: BTreeMap<String, usize>,
    /// Answer 500 to users pages from this 1-based page on.
    pub fail_page: Option<usize>,
    /// Answer 429 with `Retry-After: 1` to this many upcoming requests.
    pub throttle: usize,
    /// Users `/users/count` counts beyond those listed: one removed between the count and the
    /// pages.
    pub phantom: usize,
}

pub struct Keycloak {
    pub state: Arc<Mutex<State>>,
    pub server: Server,
}

pub fn uid(i: usize) -> String {
    format!("{i:08x}-0000-4000-8000-000000000000")
}

impl Keycloak {
    /// `users` users (every 20th disabled; user0 manages user1..user9, user1 the rest); groups
    /// engineering (user0..user9) with the sub-group platform (user10..user14), and sales
    /// (user15..user19); the realm role auditor (user0..user2).
    pub fn start(users: usize) -> Keycloak {
        let mut s = State::default();
        for i in 0..users {
            let mut attributes = json!({ "department": [format!("Dept {}", i % 4)], "costCenter": ["CC-1", "CC-2"] });
            if i > 0 {
                attributes["manager"] = json!([uid(if i < 10 { 0 } else { 1 })]);
            }
            let mut u = json!({
                "id": uid(i), "username": format!("user{i:04}"), "firstName": "User", "lastName": format!("Number{i}"),
                "email": format!("user{i}@staff.example"), "emailVerified": true, "enabled": i % 20 != 19,
                "createdTimestamp": 1_700_000_000_000u64 + i as u64, "attributes": attributes
            });
            if i % 50 == 7 {
                u["federationLink"] = json!("ldap-provider-1");
            }
            s.users.push(u);
        }
        let ids = |r: std::ops::Range<usize>| r.filter(|i| *i < users).map(uid).collect::<Vec<_>>();
        s.groups.push(Group { id: "g-eng".into(), name: "engineering".into(), parent: None, members: ids(0..10) });
        s.groups.push(Group {
            id: "g-plat".into(),
            name: "platform".into(),
            parent: Some("g-eng".into()),
            members: ids(10..15),
        });
        s.groups.push(Group { id: "g-sales".into(), name: "sales".into(), parent: None, members: ids(15..20) });
        s.roles.insert("auditor".into(), ids(0..3));
        s.roles.insert("offline_access".into(), Vec::new());
        let state = Arc::new(Mutex::new(s));
        let handler_state = state.clone();
        let server = Server::start(Arc::new(move |req| handle(&handler_state, req)));
        Keycloak { state, server }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    pub fn count(&self, endpoint: &str) -> usize {
        self.state.lock().unwrap().requests.get(endpoint).copied().unwrap_or(0)
    }

    pub fn source(&self) -> Value {
        json!({
            "base_url": self.url(), "realm": REALM, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
            "http": { "retry_base_ms": 10, "timeout_seconds": 5 }
        })
    }
}

fn error(status: u16, body: Value) -> HttpResponse {
    HttpResponse::json(status, &body)
}

/// A `first`/`max` page of a list (Keycloak's default `max` is 100).
fn page(req: &HttpRequest, items: Vec<Value>) -> HttpResponse {
    let first: usize = req.param("first").and_then(|v| v.parse().ok()).unwrap_or(0);
    let max: usize = req.param("max").and_then(|v| v.parse().ok()).unwrap_or(100);
    HttpResponse::json(200, &Value::Array(items.into_iter().skip(first).take(max).collect()))
}

fn brief(u: &Value) -> Value {
    let mut b = u.clone();
    b.as_object_mut().unwrap().remove("attributes");
    b
}

fn group_json(s: &State, g: &Group) -> Value {
    let path = {
        let mut parts = vec![g.name.clone()];
        let mut at = g.parent.clone();
        while let Some(p) = at {
            let parent = s.groups.iter().find(|x| x.id == p).unwrap();
            parts.insert(0, parent.name.clone());
            at = parent.parent.clone();
        }
        format!("/{}", parts.join("/"))
    };
    let children = s.groups.iter().filter(|c| c.parent.as_deref() == Some(g.id.as_str())).count();
    json!({ "id": g.id, "name": g.name, "path": path, "subGroupCount": children, "subGroups": [] })
}

fn handle(state: &Arc<Mutex<State>>, req: &HttpRequest) -> HttpResponse {
    let mut s = state.lock().unwrap();
    let parts: Vec<&str> = req.path.trim_start_matches('/').split('/').collect();
    let key = match parts.as_slice() {
        ["admin", "realms", _, kind, _, rest] => format!("{} /{kind}/{{id}}/{rest}", req.method),
        ["admin", "realms", _, kind, id] if *id != "count" => format!("{} /{kind}/{{id}}", req.method),
        ["admin", "realms", _, rest @ ..] => format!("{} /{}", req.method, rest.join("/")),
        _ => format!("{} {}", req.method, req.path),
    };
    *s.requests.entry(key.clone()).or_default() += 1;
    if s.throttle > 0 {
        s.throttle -= 1;
        return error(429, json!({ "error": "too many requests" })).with_header("Retry-After", "1");
    }
    if parts.as_slice() == ["realms", REALM, "protocol", "openid-connect", "token"] {
        let form: BTreeMap<String, String> = req.form().into_iter().collect();
        let ok = req.method == "POST"
            && form.get("grant_type").map(String::as_str) == Some("client_credentials")
            && form.get("client_id").map(String::as_str) == Some(CLIENT_ID)
            && form.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET);
        if !ok {
            return error(
                401,
                json!({ "error": "unauthorized_client", "error_description": "Invalid client or Invalid client credentials" }),
            );
        }
        return HttpResponse::json(200, &json!({ "access_token": TOKEN, "expires_in": 300, "token_type": "Bearer" }));
    }
    if req.header("Authorization") != Some(&format!("Bearer {TOKEN}")) {
        return error(401, json!({ "error": "HTTP 401 Unauthorized" }));
    }
    let brief_wanted = req.param("briefRepresentation") == Some("true");
    match (req.method.as_str(), parts.as_slice()) {
        ("GET", ["admin", "realms", r, "users"]) if *r == REALM => {
            let first: usize = req.param("first").and_then(|v| v.parse().ok()).unwrap_or(0);
            let max: usize = req.param("max").and_then(|v| v.parse().ok()).unwrap_or(100);
            if s.fail_page.is_some_and(|p| first / max.max(1) + 1 >= p) {
                return error(500, json!({ "error": "unknown_error" }));
            }
            let mut users = s.users.clone();
            users.sort_by(|a, b| a["username"].as_str().cmp(&b["username"].as_str()));
            let users = users.iter().map(|u| if brief_wanted { brief(u) } else { u.clone() }).collect();
            page(req, users)
        }
        ("GET", ["admin", "realms", r, "users", "count"]) if *r == REALM => {
            HttpResponse::json(200, &json!(s.users.len() + s.phantom))
        }
        ("GET", ["admin", "realms", r, "users", id]) if *r == REALM => match s.users.iter().find(|u| u["id"] == *id) {
            Some(u) => HttpResponse::json(200, u),
            None => error(404, json!({ "error": "User not found" })),
        },
        ("GET", ["admin", "realms", r, "users", id, "groups"]) if *r == REALM => {
            let groups =
                s.groups.iter().filter(|g| g.members.iter().any(|m| m == id)).map(|g| group_json(&s, g)).collect();
            page(req, groups)
        }
        ("GET", ["admin", "realms", r, "groups"]) if *r == REALM => {
            let tops = s.groups.iter().filter(|g| g.parent.is_none()).map(|g| group_json(&s, g)).collect();
            page(req, tops)
        }
        ("GET", ["admin", "realms", r, "groups", id, "children"]) if *r == REALM => {
            let kids =
                s.groups.iter().filter(|g| g.parent.as_deref() == Some(*id)).map(|g| group_json(&s, g)).collect();
            page(req, kids)
        }
        ("GET", ["admin", "realms", r, "groups", id, "members"]) if *r == REALM => {
            let Some(g) = s.groups.iter().find(|g| g.id == *id) else {
                return error(404, json!({ "error": "Could not find group by id" }));
            };
            let members = g.members.iter().filter_map(|m| s.users.iter().find(|u| u["id"] == *m)).map(brief).collect();
            page(req, members)
        }
        ("GET", ["admin", "realms", r, "roles"]) if *r == REALM => {
            let roles =
                s.roles.keys().map(|n| json!({ "id": format!("role-{n}"), "name": n, "composite": false })).collect();
            page(req, roles)
        }
        ("GET", ["admin", "realms", r, "roles", name, "users"]) if *r == REALM => match s.roles.get(*name) {
            Some(ids) => {
                let users = ids.iter().filter_map(|m| s.users.iter().find(|u| u["id"] == *m)).map(brief).collect();
                page(req, users)
            }
            None => error(404, json!({ "error": "Could not find role" })),
        },
        _ => error(404, json!({ "error": "RESTEASY003210: Could not find resource for full path" })),
    }
}
