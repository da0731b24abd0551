//! A stateful subset of OneLogin's API, after developers.onelogin.com (API v2 and the v1 groups
//! resource):
//! - `POST /auth/oauth2/v2/token` ("Generate Tokens"): the API credential as HTTP Basic,
//!   `{"grant_type": "client_credentials"}`, answered with `access_token` and `expires_in`; a
//!   wrong credential gets 401 with `{"status": {"type": "Unauthorized", ...}}`;
//! - `GET /api/2/users` ("List Users": up to 50 a page) and `/api/2/roles`, paged by `limit`
//!   and `cursor`, with the pagination headers of "Using Query Parameters": `Total-Count`,
//!   `Total-Pages`, `Current-Page`, `Page-Items`, `Before-Cursor`, `After-Cursor` (none on the
//!   last page);
//! - `GET /api/1/groups`: `{"data": [...], "pagination": {"next_link", ...}}`;
//! - "Get Rate Limit": an account-level budget of calls per hour, stated on each answer as
//!   `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (seconds until the
//!   budget renews); a call beyond it gets 429. Here the hour is `window` long.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

use super::http_server::{HttpRequest, HttpResponse, Server};

pub const CLIENT_ID: &str = "ol-client-id";
pub const CLIENT_SECRET: &str = "ol-client-secret-7c6b5a";
const TOKEN: &str = "ol-access-token-1";

pub struct State {
    pub users: Vec<Value>,
    pub roles: Vec<(u64, String)>,
    pub groups: Vec<(u64, String)>,
    pub requests: BTreeMap<String, usize>,
    pub limit: u64,
    pub window: Duration,
    window_start: Instant,
    used_in_window: u64,
    /// The fewest calls left in any window (what a sync left the account).
    pub min_remaining: u64,
    /// Answer 500 to users pages from this 1-based page on.
    pub fail_page: Option<usize>,
}

impl State {
    /// Another integration used up this window's budget.
    pub fn exhaust(&mut self) {
        self.window_start = Instant::now();
        self.used_in_window = self.limit;
    }
}

pub struct OneLogin {
    pub state: Arc<Mutex<State>>,
    pub server: Server,
}

impl OneLogin {
    /// `users` users (ids 1000..; every 25th suspended; user0 manages everyone else); roles
    /// Engineering (every 3rd) and Finance (every 5th); the group Contractors (user0..user9).
    pub fn start(users: usize, limit: u64, window: Duration) -> OneLogin {
        let list = (0..users)
            .map(|i| {
                let mut roles = Vec::new();
                if i % 3 == 0 {
                    roles.push(1);
                }
                if i % 5 == 0 {
                    roles.push(2);
                }
                json!({
                    "id": 1000 + i, "username": format!("user{i}"), "email": format!("user{i}@acme.example"),
                    "firstname": "User", "lastname": format!("Number{i}"), "department": format!("Dept {}", i % 3),
                    "title": "Engineer", "status": if i % 25 == 24 { 2 } else { 1 }, "state": 1,
                    "role_ids": roles, "group_id": if i < 10 { json!(77) } else { Value::Null },
                    "manager_user_id": if i > 0 { json!(1000) } else { Value::Null },
                    "custom_attributes": { "employee_no": format!("E{i}") },
                    "updated_at": format!("2026-11-01T{:02}:{:02}:00.000Z", i / 60 % 24, i % 60),
                    "created_at": "2026-01-01T10:00:00.000Z"
                })
            })
            .collect();
        let state = Arc::new(Mutex::new(State {
            users: list,
            roles: vec![(1, "Engineering".into()), (2, "Finance".into())],
            groups: vec![(77, "Contractors".into())],
            requests: BTreeMap::new(),
            limit,
            window,
            window_start: Instant::now(),
            used_in_window: 0,
            min_remaining: limit,
            fail_page: None,
        }));
        let handler_state = state.clone();
        let server = Server::start(Arc::new(move |req| handle(&handler_state, req)));
        OneLogin { state, server }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    pub fn count(&self, endpoint: &str) -> usize {
        self.state.lock().unwrap().requests.get(endpoint).copied().unwrap_or(0)
    }

    pub fn source(&self) -> Value {
        json!({ "base_url": self.url(), "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
            "http": { "retry_base_ms": 10, "timeout_seconds": 5 } })
    }
}

fn cursor(page: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("page={page}"))
}

fn page_of(cursor_value: Option<&str>) -> usize {
    let decoded = cursor_value
        .and_then(|c| base64::engine::general_purpose::STANDARD.decode(c).ok())
        .and_then(|b| String::from_utf8(b).ok());
    decoded.and_then(|d| d.strip_prefix("page=").and_then(|n| n.parse().ok())).unwrap_or(1)
}

/// A v2 page with the pagination headers.
fn v2_page(req: &HttpRequest, items: &[Value], max: usize) -> HttpResponse {
    let limit = req.param("limit").and_then(|l| l.parse::<usize>().ok()).unwrap_or(max).clamp(1, max);
    let page = page_of(req.param("cursor"));
    let pages = items.len().div_ceil(limit).max(1);
    let slice: Vec<Value> = items.iter().skip((page - 1) * limit).take(limit).cloned().collect();
    let mut r = HttpResponse::json(200, &Value::Array(slice.clone()))
        .with_header("Total-Count", &items.len().to_string())
        .with_header("Total-Pages", &pages.to_string())
        .with_header("Current-Page", &page.to_string())
        .with_header("Page-Items", &slice.len().to_string());
    if page > 1 {
        r = r.with_header("Before-Cursor", &cursor(page - 1));
    }
    if page < pages {
        r = r.with_header("After-Cursor", &cursor(page + 1));
    }
    r
}

fn handle(state: &Arc<Mutex<State>>, req: &HttpRequest) -> HttpResponse {
    let mut s = state.lock().unwrap();
    let key = format!("{} {}", req.method, req.path);
    *s.requests.entry(key.clone()).or_default() += 1;
    // The account's budget: every call counts, and renews when the window has passed.
    if s.window_start.elapsed() >= s.window {
        s.window_start = Instant::now();
        s.used_in_window = 0;
    }
    let reset = s.window.saturating_sub(s.window_start.elapsed()).as_secs_f64().ceil().max(1.0) as u64;
    if s.used_in_window >= s.limit {
        return HttpResponse::json(
            429,
            &json!({ "statusCode": 429, "name": "TooManyRequests", "message": "Rate limit exceeded" }),
        )
        .with_header("X-RateLimit-Limit", &s.limit.to_string())
        .with_header("X-RateLimit-Remaining", "0")
        .with_header("X-RateLimit-Reset", &reset.to_string());
    }
    s.used_in_window += 1;
    let remaining = s.limit - s.used_in_window;
    s.min_remaining = s.min_remaining.min(remaining);
    let limits = |r: HttpResponse| {
        r.with_header("X-RateLimit-Limit", &s.limit.to_string())
            .with_header("X-RateLimit-Remaining", &remaining.to_string())
            .with_header("X-RateLimit-Reset", &reset.to_string())
    };
    if key == "POST /auth/oauth2/v2/token" {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        if req.header("Authorization") != Some(&format!("Basic {basic}")) || body["grant_type"] != "client_credentials"
        {
            return limits(HttpResponse::json(
                401,
                &json!({ "status": { "error": true, "code": 401, "type": "Unauthorized", "message": "Authentication Failure" } }),
            ));
        }
        return limits(HttpResponse::json(
            200,
            &json!({ "access_token": TOKEN, "expires_in": 36000, "token_type": "bearer", "account_id": 555 }),
        ));
    }
    if req.header("Authorization") != Some(&format!("Bearer {TOKEN}")) {
        return limits(HttpResponse::json(
            401,
            &json!({ "statusCode": 401, "name": "Unauthorized", "message": "Authentication Failure" }),
        ));
    }
    let answer = match key.as_str() {
        "GET /api/2/users" => {
            if s.fail_page.is_some_and(|p| page_of(req.param("cursor")) >= p) {
                HttpResponse::json(
                    500,
                    &json!({ "statusCode": 500, "name": "InternalServerError", "message": "Internal Server Error" }),
                )
            } else {
                // List Users' `updated_since`: users updated after the given time.
                let since = req.param("updated_since").and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
                let users: Vec<Value> = s
                    .users
                    .iter()
                    .filter(|u| {
                        since.is_none_or(|t| {
                            u["updated_at"]
                                .as_str()
                                .and_then(|x| chrono::DateTime::parse_from_rfc3339(x).ok())
                                .is_some_and(|x| x > t)
                        })
                    })
                    .cloned()
                    .collect();
                v2_page(req, &users, 50)
            }
        }
        "GET /api/2/roles" => {
            let roles: Vec<Value> = s.roles.iter().map(|(id, n)| json!({ "id": id, "name": n })).collect();
            v2_page(req, &roles, 650)
        }
        "GET /api/1/groups" => {
            let data: Vec<Value> =
                s.groups.iter().map(|(id, n)| json!({ "id": id, "name": n, "reference": null })).collect();
            HttpResponse::json(
                200,
                &json!({ "status": { "error": false, "code": 200, "type": "success", "message": "Success" },
                "pagination": { "before_cursor": null, "after_cursor": null, "previous_link": null, "next_link": null }, "data": data }),
            )
        }
        _ => HttpResponse::json(404, &json!({ "statusCode": 404, "name": "NotFound", "message": "No Route Exists" })),
    };
    limits(answer)
}
