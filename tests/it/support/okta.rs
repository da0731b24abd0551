//! A stateful subset of the Okta management API, after the documentation: SSWS tokens,
//! `/api/v1/users` with `limit` (at most 200) and `after` cursors in `Link` headers, a plain list
//! that leaves DEPROVISIONED users out, `filter=status eq "..."`, groups and their users, the
//! `X-Rate-Limit-*` headers on every answer, Okta's error body, injected faults, and the System
//! Log (`/api/v1/logs` with `since` and an `eventType eq` filter) for membership changes.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::http_server::{HttpRequest, HttpResponse, Server};

pub const TOKEN: &str = "00okta-api-token-SECRET";
pub const SERVICE_APP: &str = "0oa-service-app";
const OAUTH_TOKEN: &str = "eyJ.okta-oauth-access-token";

pub struct State {
    pub users: Vec<Value>,
    /// (id, name, member ids)
    pub groups: Vec<(String, String, Vec<String>)>,
    pub requests: BTreeMap<String, usize>,
    /// Answer 403 to the users listing (a token without the needed role).
    pub deny: bool,
    /// Remaining requests in the rate-limit window (counts down; `None` = unlimited).
    pub window: Option<u64>,
    /// Throttle this many upcoming requests with 429 and a reset one second ahead.
    pub throttle: usize,
    /// Fail the users listing's page `n` (1-based) with 500, always.
    pub fail_page: Option<usize>,
    /// Answer every request with an error that quotes it (Authorization: SSWS ... included).
    pub echo: bool,
    /// System Log events, oldest first.
    pub events: Vec<Value>,
    /// Answer 403 to the System Log (a token without okta.logs.read).
    pub deny_logs: bool,
}

pub struct Okta {
    pub state: Arc<Mutex<State>>,
    pub server: Server,
}

fn epoch() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl Okta {
    /// `users` users (every 25th DEPROVISIONED, every 30th SUSPENDED, the first five managers of
    /// the rest) in `groups` groups.
    pub fn start(users: usize, groups: usize) -> Okta {
        let mut list = Vec::new();
        for i in 0..users {
            let status = if i % 25 == 24 {
                "DEPROVISIONED"
            } else if i % 30 == 29 {
                "SUSPENDED"
            } else if i % 10 == 3 {
                "PASSWORD_EXPIRED"
            } else {
                "ACTIVE"
            };
            let mut profile = json!({
                "login": format!("person{i}@okta.example"),
                "email": format!("person{i}@okta.example"),
                "firstName": "Person",
                "lastName": format!("No{i}"),
                "department": format!("Dept {}", i % 4),
                "title": "Analyst",
            });
            if i >= 5 {
                profile["managerId"] = json!(format!("00u{:017}", i % 5));
            }
            list.push(json!({
                "id": format!("00u{i:017}"),
                "status": status,
                "created": "2024-01-01T00:00:00.000Z",
                // One update a minute, the last one newest.
                "lastUpdated": (chrono::DateTime::parse_from_rfc3339("2025-06-01T00:00:00Z").unwrap()
                    + chrono::Duration::minutes(i as i64))
                    .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                    .to_string(),
                "profile": profile,
                "credentials": { "provider": { "type": "OKTA", "name": "OKTA" } },
                "_links": { "self": { "href": format!("/api/v1/users/00u{i:017}") } }
            }));
        }
        let groups = (0..groups)
            .map(|g| {
                let members = (0..users).filter(|i| i % groups == g).map(|i| format!("00u{i:017}")).collect();
                (format!("00g{g:017}"), format!("Okta Group {g}"), members)
            })
            .collect();
        let state = Arc::new(Mutex::new(State {
            users: list,
            groups,
            requests: BTreeMap::new(),
            deny: false,
            window: None,
            throttle: 0,
            fail_page: None,
            echo: false,
            events: Vec::new(),
            deny_logs: false,
        }));
        let s = state.clone();
        let server = Server::start(Arc::new(move |req| handle(&s, req)));
        Okta { state, server }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    pub fn count(&self, endpoint: &str) -> usize {
        self.state.lock().unwrap().requests.get(endpoint).copied().unwrap_or(0)
    }

    /// Changes a profile field of user `i` and moves its `lastUpdated` forward.
    pub fn touch(&self, i: usize, field: &str, value: Value) {
        let mut s = self.state.lock().unwrap();
        s.users[i]["profile"][field] = value;
        s.users[i]["lastUpdated"] = json!("2026-11-20T10:00:00.000Z");
    }

    /// Moves user `i` from group `from` to group `to` at `at`, as an administrator would: the
    /// user's `lastUpdated` stays (a membership is not a profile change), and the System Log gets
    /// a `group.user_membership.remove` and a `group.user_membership.add` event, each with the
    /// user and the group as targets (developer.okta.com/docs/reference/api/event-types/).
    pub fn move_member(&self, i: usize, from: usize, to: usize, at: &str) {
        let mut s = self.state.lock().unwrap();
        let user = format!("00u{i:017}");
        s.groups[from].2.retain(|m| *m != user);
        s.groups[to].2.push(user.clone());
        for (kind, g) in [("remove", from), ("add", to)] {
            let (gid, gname) = (s.groups[g].0.clone(), s.groups[g].1.clone());
            let n = s.events.len();
            s.events.push(json!({
                "uuid": format!("event-{n}"),
                "published": at,
                "eventType": format!("group.user_membership.{kind}"),
                "displayMessage": format!("{} user to group membership", if kind == "add" { "Add" } else { "Remove" }),
                "severity": "INFO",
                "actor": { "id": "00uadmin", "type": "User", "alternateId": "admin@okta.example" },
                "outcome": { "result": "SUCCESS" },
                "target": [
                    { "id": user, "type": "User", "alternateId": format!("person{i}@okta.example") },
                    { "id": gid, "type": "UserGroup", "displayName": gname }
                ]
            }));
        }
    }

    pub fn source(&self) -> Value {
        json!({ "org_url": self.url(), "api_token": TOKEN, "http": { "retry_base_ms": 10, "timeout_seconds": 5 } })
    }
}

fn okta_error(status: u16, code: &str, summary: &str) -> HttpResponse {
    HttpResponse::json(
        status,
        &json!({ "errorCode": code, "errorSummary": summary, "errorLink": code, "errorCauses": [] }),
    )
}

fn handle(state: &Arc<Mutex<State>>, req: &HttpRequest) -> HttpResponse {
    let mut s = state.lock().unwrap();
    let parts: Vec<&str> = req.path.split('/').collect();
    let key = match parts.as_slice() {
        ["", "api", "v1", "groups", _, "users"] => "GET /api/v1/groups/{id}/users".to_string(),
        ["", "api", "v1", "users", _, "groups"] => "GET /api/v1/users/{id}/groups".to_string(),
        ["", "api", "v1", "users", _] => "GET /api/v1/users/{id}".to_string(),
        _ => format!("{} {}", req.method, req.path),
    };
    *s.requests.entry(key.clone()).or_default() += 1;
    if s.echo {
        // Okta's error body (developer.okta.com/docs/reference/error-codes), quoting the request.
        return super::http_server::echo(
            req,
            400,
            |q| json!({ "errorCode": "E0000001", "errorSummary": q, "errorLink": "E0000001", "errorCauses": [] }),
        );
    }
    let limits = |resp: HttpResponse, remaining: u64| {
        resp.with_header("X-Rate-Limit-Limit", "600")
            .with_header("X-Rate-Limit-Remaining", &remaining.to_string())
            .with_header("X-Rate-Limit-Reset", &(epoch() + 1).to_string())
    };
    if s.throttle > 0 {
        s.throttle -= 1;
        return limits(okta_error(429, "E0000047", "API call exceeded rate limit due to too many requests."), 0);
    }
    let remaining = match s.window.as_mut() {
        Some(w) => {
            *w = w.saturating_sub(1);
            *w
        }
        None => 599,
    };
    if key == "POST /oauth2/v1/token" {
        let form: BTreeMap<String, String> = req.form().into_iter().collect();
        let audience = format!("http://{}/oauth2/v1/token", req.header("Host").unwrap_or("127.0.0.1"));
        let assertion = form.get("client_assertion").map(String::as_str).unwrap_or_default();
        let valid = form.get("client_assertion_type").map(String::as_str)
            == Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
            && super::google::verify_jwt(assertion).is_some_and(|c| {
                c["iss"] == SERVICE_APP && c["sub"] == SERVICE_APP && c["aud"] == audience && c["jti"].is_string()
            });
        if !valid {
            return HttpResponse::json(
                401,
                &json!({ "error": "invalid_client", "error_description": "The client_assertion signature is invalid." }),
            );
        }
        if !form.get("scope").is_some_and(|s| s.contains("okta.users.read")) {
            return HttpResponse::json(
                400,
                &json!({ "error": "invalid_scope", "error_description": "The requested scope is invalid." }),
            );
        }
        return HttpResponse::json(
            200,
            &json!({ "token_type": "Bearer", "expires_in": 3600, "access_token": OAUTH_TOKEN, "scope": form["scope"] }),
        );
    }
    let auth = req.header("Authorization");
    if auth != Some(&format!("SSWS {TOKEN}")) && auth != Some(&format!("Bearer {OAUTH_TOKEN}")) {
        return limits(okta_error(401, "E0000011", "Invalid token provided"), remaining);
    }
    let limit: usize = req.param("limit").and_then(|l| l.parse().ok()).unwrap_or(200).min(200);
    let after: usize = req.param("after").and_then(|a| a.parse().ok()).unwrap_or(0);
    let base = format!("http://{}{}", req.header("Host").unwrap_or("127.0.0.1"), req.path);
    let page = |items: Vec<Value>, extra: &str| -> HttpResponse {
        let total = items.len();
        let body: Vec<Value> = items.into_iter().skip(after).take(limit).collect();
        // Okta's pagination (developer.okta.com/docs/api/#pagination, "Link header"): the
        // self and next links come as two separate `Link` header lines, not one joined line.
        let mut resp = HttpResponse::json(200, &Value::Array(body))
            .with_header("Link", &format!("<{base}?limit={limit}{extra}>; rel=\"self\""));
        if after + limit < total {
            let next = format!("<{base}?after={}&limit={limit}{extra}>; rel=\"next\"", after + limit);
            resp = resp.with_header("Link", &next);
        }
        resp
    };
    let resp = match key.as_str() {
        "GET /api/v1/users" => {
            if s.deny {
                okta_error(403, "E0000006", "You do not have permission to perform the requested action")
            } else if s.fail_page.is_some_and(|p| p == after / limit + 1) {
                okta_error(500, "E0000009", "Internal Server Error")
            } else {
                let filter = req.param("filter").map(str::to_string);
                let wanted =
                    filter.as_deref().and_then(|f| f.strip_prefix("status eq \"")).and_then(|f| f.strip_suffix('"'));
                let after = filter
                    .as_deref()
                    .and_then(|f| f.strip_prefix("lastUpdated gt \""))
                    .and_then(|f| f.strip_suffix('"'));
                let users = s
                    .users
                    .iter()
                    .filter(|u| match (wanted, after) {
                        (Some(status), _) => u["status"] == status,
                        // A filter returns users of every status.
                        (None, Some(t)) => u["lastUpdated"].as_str().unwrap_or_default() > t,
                        // A plain list leaves deprovisioned users out.
                        (None, None) => u["status"] != "DEPROVISIONED",
                    })
                    .cloned()
                    .collect();
                let extra = filter.map(|f| format!("&filter={}", super::http_server::encode(&f))).unwrap_or_default();
                page(users, &extra)
            }
        }
        "GET /api/v1/logs" if s.deny_logs => {
            okta_error(403, "E0000006", "You do not have permission to perform the requested action")
        }
        "GET /api/v1/logs" => {
            // `since` is the inclusive lower bound of `published`; `filter` here is the
            // `eventType eq "..."` terms joined by `or` (developer.okta.com/docs/reference/api/
            // system-log/#request-parameters). Anything else in a filter is refused as Okta does.
            let since = req.param("since").unwrap_or_default().to_string();
            let until = req.param("until").map(str::to_string);
            let filter = req.param("filter").unwrap_or_default().to_string();
            let mut types = Vec::new();
            for term in filter.split(" or ").filter(|t| !t.is_empty()) {
                match term.strip_prefix("eventType eq \"").and_then(|t| t.strip_suffix('"')) {
                    Some(t) => types.push(t.to_string()),
                    None => return limits(okta_error(400, "E0000031", "Invalid search criteria."), remaining),
                }
            }
            let events: Vec<Value> = s
                .events
                .iter()
                .filter(|e| e["published"].as_str().unwrap_or_default() >= since.as_str())
                .filter(|e| until.as_deref().is_none_or(|u| e["published"].as_str().unwrap_or_default() < u))
                .filter(|e| types.is_empty() || types.iter().any(|t| e["eventType"] == t.as_str()))
                .cloned()
                .collect();
            let bound =
                until.as_deref().map(|u| format!("&until={}", super::http_server::encode(u))).unwrap_or_default();
            let extra = format!(
                "&since={}&filter={}{bound}",
                super::http_server::encode(&since),
                super::http_server::encode(&filter)
            );
            match until {
                Some(_) => page(events, &extra),
                // A polling request (no `until`) always gets a next link, even past the last
                // event (the System Log API's request types): a client must not follow it to
                // the end.
                None => {
                    let next = format!("<{base}?after={}&limit={limit}{extra}>; rel=\"next\"", after + limit);
                    page(events, &extra).with_header("Link", &next)
                }
            }
        }
        "GET /api/v1/groups" => {
            let groups = s
                .groups
                .iter()
                .map(|(id, name, _)| json!({ "id": id, "type": "OKTA_GROUP", "profile": { "name": name, "description": "" } }))
                .collect();
            page(groups, "")
        }
        "GET /api/v1/groups/{id}/users" => match s.groups.iter().find(|(id, _, _)| *id == parts[4]) {
            Some((_, _, members)) => {
                let users = members.iter().map(|m| json!({ "id": m })).collect();
                page(users, "")
            }
            None => okta_error(404, "E0000007", "Not found: Resource not found"),
        },
        "GET /api/v1/users/{id}" => match s.users.iter().find(|u| u["id"] == parts[4]) {
            Some(u) => HttpResponse::json(200, u),
            None => okta_error(404, "E0000007", "Not found: Resource not found: 00u (User)"),
        },
        "GET /api/v1/users/{id}/groups" => {
            let groups = s
                .groups
                .iter()
                .filter(|(_, _, members)| members.iter().any(|m| m == parts[4]))
                .map(|(id, name, _)| json!({ "id": id, "type": "OKTA_GROUP", "profile": { "name": name } }))
                .collect();
            page(groups, "")
        }
        _ => okta_error(404, "E0000007", "Not found: Resource not found"),
    };
    limits(resp, remaining)
}
