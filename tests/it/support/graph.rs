//! A stateful subset of Microsoft Graph and its token endpoint, after the documentation:
//! client-credentials tokens, `/v1.0/users` with `$select`, `$top` (at most 999) and
//! `@odata.nextLink`/`$skiptoken`, `$expand=manager($select=...)`, `/v1.0/groups` with
//! `members` and `transitiveMembers`, Graph's error body, `Retry-After` throttling, and
//! injected faults. Every request is counted per endpoint.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Map, Value};

use super::http_server::{encode, HttpRequest, HttpResponse, Server};

pub const TENANT: &str = "contoso-tenant";
pub const CLIENT_ID: &str = "app-client-id";
pub const CLIENT_SECRET: &str = "graph~secret.Value-123";

#[derive(Debug, Clone)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub members: Vec<String>,
    /// Ids of groups nested in this one.
    pub nested: Vec<String>,
}

/// A fault: for requests whose endpoint starts with `prefix` (and, when set, whose page number
/// — 1-based — is `page`), answer `response` `times` times (`usize::MAX` = always).
#[derive(Debug, Clone)]
pub struct Fault {
    pub prefix: String,
    pub page: Option<usize>,
    pub times: usize,
    pub response: HttpResponse,
}

#[derive(Default)]
pub struct State {
    pub users: Vec<Map<String, Value>>,
    pub groups: Vec<Group>,
    pub faults: Vec<Fault>,
    /// Requests per "METHOD /path" with ids replaced by `{id}`.
    pub requests: BTreeMap<String, usize>,
    /// The first requests since the counts were reset, in order (at most `ORDER_KEPT`).
    pub first_requests: Vec<String>,
    /// A change an administrator makes while a listing is read: made once the first page of
    /// `/users` has been answered (user, field, value).
    pub change_after_first_page: Option<(usize, String, Value)>,
    /// The `$select` of the last users request.
    pub last_user_select: Option<String>,
    /// Answer 403 Authorization_RequestDenied to the users listing.
    pub deny_users: bool,
    pub tokens_issued: usize,
    pub token_lifetime: u64,
    /// Change counter for delta queries: every change gets the next version.
    pub version: u64,
    /// (id, version) of removed users.
    pub removed: Vec<(String, u64)>,
    /// Delta tokens older than this are refused with 410 (expired sync state).
    pub min_delta: u64,
    /// Requests that arrived through a proxy.
    pub proxied: usize,
    /// Requests whose path starts with this are answered by an error that quotes the request.
    pub echo: Option<String>,
    /// Tokens numbered up to this one have expired early (revoked).
    pub expired_through: usize,
    /// Membership changes for `/groups/delta`: (version, group id, user id, added).
    pub member_log: Vec<(u64, String, String, bool)>,
    /// User id → position in `users` (checked on use, so direct edits of `users` stay safe).
    pub index: HashMap<String, usize>,
    /// Every answer waits this long (network latency), outside the state lock.
    pub latency: Duration,
    /// Answer every n-th Graph request with 429 and `Retry-After: throttle_seconds` (0: never).
    pub throttle_every: usize,
    pub throttle_seconds: u64,
    /// Graph requests received (for `throttle_every`), 429s sent and the seconds they asked for.
    pub received: usize,
    pub throttled: usize,
    pub retry_after_total: u64,
    /// Bytes of each photo (`/photo/$value`); 0 answers a short text.
    pub photo_bytes: usize,
    /// `$batch` sub-requests received while throttling, and those answered 429.
    pub inner_received: usize,
    pub inner_throttled: usize,
    /// Sub-request URLs answered 429 and not asked again with success since: look-ups a client
    /// dropped.
    pub unanswered: std::collections::BTreeSet<String>,
}

impl State {
    /// Where user `id` is in `users`.
    pub fn position(&self, id: &str) -> Option<usize> {
        match self.index.get(id) {
            Some(&i) if self.users.get(i).is_some_and(|u| u["id"] == id) => Some(i),
            _ => self.users.iter().position(|u| u["id"] == id),
        }
    }

    pub fn user(&self, id: &str) -> Option<&Map<String, Value>> {
        self.position(id).map(|i| &self.users[i])
    }

    pub fn reindex(&mut self) {
        self.index =
            self.users.iter().enumerate().filter_map(|(i, u)| Some((u["id"].as_str()?.to_string(), i))).collect();
    }
}

pub struct Graph {
    pub state: Arc<Mutex<State>>,
    pub server: Server,
}

impl Graph {
    /// A tenant of `users` users (the first ten managers of the rest) in `groups` groups.
    pub fn start(users: usize, groups: usize) -> Graph {
        let state = Arc::new(Mutex::new(State { token_lifetime: 3600, ..State::default() }));
        {
            let mut s = state.lock().unwrap();
            for i in 0..users {
                let mut u = Map::new();
                u.insert("id".into(), json!(format!("00000000-0000-4000-8000-{i:012}")));
                u.insert("userPrincipalName".into(), json!(format!("user{i}@contoso.example")));
                u.insert("displayName".into(), json!(format!("User {i}")));
                u.insert("givenName".into(), json!("User"));
                u.insert("surname".into(), json!(format!("Number{i}")));
                u.insert("mail".into(), json!(format!("user{i}@contoso.example")));
                u.insert("department".into(), json!(format!("Dept {}", i % 7)));
                u.insert("jobTitle".into(), json!(if i < 10 { "Manager" } else { "Engineer" }));
                u.insert("accountEnabled".into(), json!(true));
                // One user in twenty has a photo.
                if i % 20 == 0 {
                    u.insert("#photo".into(), json!(format!("W/\"photo-{i}-v1\"")));
                }
                if i >= 10 {
                    u.insert("#manager".into(), json!(format!("00000000-0000-4000-8000-{:012}", i % 10)));
                }
                s.users.push(u);
            }
            for g in 0..groups {
                let members = (0..users)
                    .filter(|i| i % groups.max(1) == g)
                    .map(|i| format!("00000000-0000-4000-8000-{i:012}"))
                    .collect();
                s.groups.push(Group {
                    id: format!("group-{g:04}"),
                    name: format!("Team {g}"),
                    members,
                    nested: vec![],
                });
            }
            s.reindex();
        }
        let handler_state = state.clone();
        let server = Server::start(Arc::new(move |req| handle(&handler_state, req)));
        Graph { state, server }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    pub fn count(&self, endpoint: &str) -> usize {
        self.state.lock().unwrap().requests.get(endpoint).copied().unwrap_or(0)
    }

    pub fn total_requests(&self) -> usize {
        self.state.lock().unwrap().requests.values().sum()
    }

    pub fn reset_counts(&self) {
        let mut s = self.state.lock().unwrap();
        s.requests.clear();
        s.first_requests.clear();
    }

    /// Changes one attribute of user `i` (a delta round will report the user).
    pub fn change(&self, i: usize, field: &str, value: Value) {
        self.state.lock().unwrap().change(i, field, value);
    }

    /// Adds user `i` to group `g` (a groups delta round reports it).
    pub fn join(&self, i: usize, g: usize) {
        self.membership(i, g, true);
    }

    /// Removes user `i` from group `g`.
    pub fn leave(&self, i: usize, g: usize) {
        self.membership(i, g, false);
    }

    fn membership(&self, i: usize, g: usize, added: bool) {
        let mut s = self.state.lock().unwrap();
        s.version += 1;
        let v = s.version;
        let uid = s.users[i]["id"].as_str().unwrap().to_string();
        let group = &mut s.groups[g];
        if added {
            group.members.push(uid.clone());
        } else {
            group.members.retain(|m| *m != uid);
        }
        let gid = group.id.clone();
        s.member_log.push((v, gid, uid, added));
    }

    /// Renames group `g` (a groups delta round reports a changed displayName).
    pub fn rename_group(&self, g: usize, name: &str) {
        let mut s = self.state.lock().unwrap();
        s.version += 1;
        s.groups[g].name = name.to_string();
        let (v, gid) = (s.version, s.groups[g].id.clone());
        s.member_log.push((v, gid, String::new(), true));
    }

    /// Deletes user `i` from the tenant.
    pub fn remove(&self, i: usize) {
        let mut s = self.state.lock().unwrap();
        s.version += 1;
        let v = s.version;
        let id = s.users[i]["id"].as_str().unwrap().to_string();
        s.users.remove(i);
        s.removed.push((id, v));
        s.reindex();
    }

    /// Adds a user like the generated ones, numbered `n`.
    pub fn add(&self, n: usize) {
        let mut s = self.state.lock().unwrap();
        s.version += 1;
        let v = s.version;
        let mut u = Map::new();
        u.insert("id".into(), json!(format!("00000000-0000-4000-8000-{n:012}")));
        u.insert("userPrincipalName".into(), json!(format!("user{n}@contoso.example")));
        u.insert("displayName".into(), json!(format!("User {n}")));
        u.insert("mail".into(), json!(format!("user{n}@contoso.example")));
        u.insert("department".into(), json!("New"));
        u.insert("jobTitle".into(), json!("Engineer"));
        u.insert("accountEnabled".into(), json!(true));
        u.insert("#version".into(), json!(v));
        s.users.push(u);
        s.reindex();
    }

    pub fn fault(&self, prefix: &str, page: Option<usize>, times: usize, response: HttpResponse) {
        self.state.lock().unwrap().faults.push(Fault { prefix: prefix.into(), page, times, response });
    }

    /// The connector configuration for this tenant.
    pub fn source(&self) -> Value {
        json!({
            "tenant_id": TENANT,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "authority_url": self.url(),
            "graph_url": self.url(),
            "http": { "retry_base_ms": 10, "timeout_seconds": 5 }
        })
    }
}

fn graph_error(status: u16, code: &str, message: &str) -> HttpResponse {
    HttpResponse::json(status, &json!({ "error": { "code": code, "message": message } }))
}

/// "GET /v1.0/groups/{id}/members" for counting.
fn endpoint_key(req: &HttpRequest) -> String {
    let parts: Vec<&str> = req.path.split('/').collect();
    let shaped: Vec<String> = parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let keyed = parts.get(3) != Some(&"delta")
                && (parts.get(2) == Some(&"groups") || (parts.get(2) == Some(&"users") && parts.len() > 4));
            if i == 3 && keyed {
                "{id}".to_string()
            } else {
                p.to_string()
            }
        })
        .collect();
    format!("{} {}", req.method, shaped.join("/"))
}

fn handle(state: &Arc<Mutex<State>>, req: &HttpRequest) -> HttpResponse {
    let mut s = state.lock().unwrap();
    let mut resp = handle_in(&mut s, req, true);
    if resp.delay.is_none() && !s.latency.is_zero() {
        resp.delay = Some(s.latency);
    }
    resp
}

/// The `@odata.nextLink` for the page after `skip + top`: the request's query with a new `$skiptoken`.
fn next_link(req: &HttpRequest, base: &str, next: usize, drop: &[&str]) -> String {
    let mut q: Vec<String> = req
        .query
        .iter()
        .filter(|(k, _)| k != "$skiptoken" && !drop.contains(&k.as_str()))
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    q.push(format!("$skiptoken={next}"));
    format!("{base}{}?{}", req.path, q.join("&"))
}

/// A delta request's query without its state tokens (`$skiptoken`, `$deltatoken`), encoded:
/// what every link of the chain carries on.
fn delta_query(req: &HttpRequest) -> Vec<String> {
    req.query
        .iter()
        .filter(|(k, _)| k != "$skiptoken" && k != "$deltatoken")
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect()
}

/// The page size a delta request asked for with `Prefer: odata.maxpagesize`.
fn max_page_size(req: &HttpRequest) -> usize {
    req.header("Prefer")
        .and_then(|p| p.split(',').find_map(|p| p.trim().strip_prefix("odata.maxpagesize=")))
        .and_then(|n| n.parse().ok())
        .unwrap_or(100)
}

/// A user as Graph returns it, with `$select` and `$expand=manager($select=...)` applied.
fn project_user(s: &State, u: &Map<String, Value>, select: &Option<Vec<String>>, expand: &str) -> Value {
    let manager_select: Option<Vec<String>> = expand
        .strip_prefix("manager($select=")
        .and_then(|r| r.strip_suffix(')'))
        .map(|f| f.split(',').map(str::to_string).collect());
    let project = |u: &Map<String, Value>, fields: &Option<Vec<String>>| -> Map<String, Value> {
        u.iter()
            .filter(|(k, _)| !k.starts_with('#'))
            .filter(|(k, _)| fields.as_ref().is_none_or(|f| f.contains(k)))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    let mut out = project(u, select);
    if expand.starts_with("manager") {
        let manager = u.get("#manager").and_then(Value::as_str).and_then(|id| s.user(id));
        if let Some(m) = manager {
            let mut m = project(m, &manager_select);
            m.insert("@odata.type".into(), json!("#microsoft.graph.user"));
            out.insert("manager".into(), Value::Object(m));
        }
    }
    Value::Object(out)
}

impl State {
    fn change(&mut self, i: usize, field: &str, value: Value) {
        self.version += 1;
        let v = self.version;
        self.users[i].insert(field.into(), value);
        self.users[i].insert("#version".into(), json!(v));
    }
}

/// How many requests `first_requests` keeps.
const ORDER_KEPT: usize = 32;

/// `$batch` sub-requests go through the same handler, uncounted: only the batch is a request.
fn handle_in(s: &mut State, req: &HttpRequest, count: bool) -> HttpResponse {
    let key = endpoint_key(req);
    if count {
        *s.requests.entry(key.clone()).or_default() += 1;
        if s.first_requests.len() < ORDER_KEPT {
            let query = req.query.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
            s.first_requests.push(format!("{key}?{query}"));
        }
    }
    if req.proxied {
        s.proxied += 1;
    }
    let path = key.split_once(' ').map(|(_, p)| p.to_string()).unwrap_or_default();
    let asked: usize = req.param("$top").and_then(|t| t.parse().ok()).unwrap_or(100);
    // With `$expand` Graph serves at most 100 users a page whatever `$top` asks: Graph's known
    // issue 13635 ("$expand on directory objects: returns a maximum of 100 objects"), seen as
    // `$top=999&$expand=manager` answering 100-user pages.
    let top = if path == "/v1.0/users" && req.param("$expand").is_some() { asked.min(100) } else { asked };
    let skip: usize = req.param("$skiptoken").and_then(|t| t.parse().ok()).unwrap_or(0);
    let page = skip / top.max(1) + 1;
    if s.echo.as_ref().is_some_and(|prefix| req.path.starts_with(prefix.as_str())) {
        // Graph's error body (learn.microsoft.com/graph/errors), the message quoting the request.
        return super::http_server::echo(req, 400, |q| json!({ "error": { "code": "BadRequest", "message": q } }));
    }
    if let Some(f) =
        s.faults.iter_mut().find(|f| path.starts_with(&f.prefix) && f.page.is_none_or(|p| p == page) && f.times > 0)
    {
        f.times = f.times.saturating_sub(1);
        return f.response.clone();
    }
    if req.method == "POST" && req.path == format!("/{TENANT}/oauth2/v2.0/token") {
        let form: HashMap<String, String> = req.form().into_iter().collect();
        if form.get("grant_type").map(String::as_str) != Some("client_credentials")
            || form.get("client_id").map(String::as_str) != Some(CLIENT_ID)
            || form.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET)
        {
            return HttpResponse::json(
                401,
                &json!({ "error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided." }),
            );
        }
        s.tokens_issued += 1;
        let token = format!("token-{}", s.tokens_issued);
        return HttpResponse::json(
            200,
            &json!({ "token_type": "Bearer", "expires_in": s.token_lifetime, "access_token": token }),
        );
    }
    let token_number =
        req.header("Authorization").and_then(|a| a.strip_prefix("Bearer token-")).and_then(|n| n.parse::<usize>().ok());
    match token_number {
        None => return graph_error(401, "InvalidAuthenticationToken", "Access token is empty."),
        Some(n) if n <= s.expired_through => {
            return graph_error(401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
        }
        Some(_) => {}
    }
    if count {
        s.received += 1;
        if s.throttle_every > 0 && s.received % s.throttle_every == 0 {
            s.throttled += 1;
            s.retry_after_total += s.throttle_seconds;
            return throttled(s.throttle_seconds);
        }
    }
    if asked > 999 {
        return graph_error(
            400,
            "Request_BadRequest",
            "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive.",
        );
    }
    let base = format!("http://{}", req.header("Host").unwrap_or("127.0.0.1"));
    let page_of = |items: Vec<Value>| -> HttpResponse {
        let total = items.len();
        let value: Vec<Value> = items.into_iter().skip(skip).take(top).collect();
        let mut body = json!({ "value": value });
        if skip + top < total {
            body["@odata.nextLink"] = json!(next_link(req, &base, skip + top, &[]));
        }
        HttpResponse::json(200, &body)
    };
    match path.as_str() {
        "/v1.0/users" => {
            if s.deny_users {
                return graph_error(
                    403,
                    "Authorization_RequestDenied",
                    "Insufficient privileges to complete the operation.",
                );
            }
            let select: Option<Vec<String>> = req.param("$select").map(|v| v.split(',').map(str::to_string).collect());
            s.last_user_select = req.param("$select").map(str::to_string);
            let expand = req.param("$expand").unwrap_or_default().to_string();
            // Only this page's users are projected: a 100,000-user tenant answers each page quickly.
            let total = s.users.len();
            let value: Vec<Value> = s.users[skip.min(total)..(skip + top).min(total)]
                .iter()
                .map(|u| project_user(s, u, &select, &expand))
                .collect();
            let mut body = json!({ "value": value });
            if skip + top < total {
                body["@odata.nextLink"] = json!(next_link(req, &base, skip + top, &[]));
            }
            if skip == 0 {
                if let Some((i, field, value)) = s.change_after_first_page.take() {
                    s.change(i, &field, value);
                }
            }
            HttpResponse::json(200, &body)
        }
        "/v1.0/users/delta" => {
            let size = max_page_size(req);
            let keep = delta_query(req);
            // "Sync from now": `$deltatoken=latest` answers a delta link and no resource data
            // (learn.microsoft.com/graph/delta-query-overview, for Entra ID users and groups).
            if req.param("$deltatoken") == Some("latest") {
                let mut q = keep;
                q.push(format!("$deltatoken={}", s.version));
                let link = format!("{base}{}?{}", req.path, q.join("&"));
                return HttpResponse::json(200, &json!({ "value": [], "@odata.deltaLink": link }));
            }
            let since: Option<u64> = req.param("$deltatoken").and_then(|t| t.parse().ok());
            if since.is_some_and(|v| v < s.min_delta) {
                return graph_error(410, "SyncStateNotFound", "The sync state generation is no longer valid.");
            }
            let select: Option<Vec<String>> = req.param("$select").map(|v| v.split(',').map(str::to_string).collect());
            let changed = |u: &Map<String, Value>| {
                since.is_none_or(|v| u.get("#version").and_then(Value::as_u64).unwrap_or(0) > v)
            };
            // Positions first, projections only for this page: the first round of a large tenant stays linear.
            let mut items: Vec<Result<usize, Value>> =
                s.users.iter().enumerate().filter(|(_, u)| changed(u)).map(|(i, _)| Ok(i)).collect();
            if let Some(v) = since {
                items.extend(
                    s.removed
                        .iter()
                        .filter(|(_, rv)| *rv > v)
                        .map(|(id, _)| Err(json!({ "id": id, "@removed": { "reason": "deleted" } }))),
                );
            }
            // Delta does not expand: a selected `manager` comes as `manager@delta`, ids only.
            let with_manager = select.as_ref().is_some_and(|f| f.iter().any(|k| k == "manager"));
            let project = |u: &Map<String, Value>| {
                let mut out: Map<String, Value> = u
                    .iter()
                    .filter(|(k, _)| !k.starts_with('#'))
                    .filter(|(k, _)| select.as_ref().is_none_or(|f| f.contains(k)))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                if let (true, Some(m)) = (with_manager, u.get("#manager")) {
                    out.insert("manager@delta".into(), json!([{ "@odata.type": "#microsoft.graph.user", "id": m }]));
                }
                Value::Object(out)
            };
            let total = items.len();
            let value: Vec<Value> = items
                .into_iter()
                .skip(skip)
                .take(size)
                .map(|item| match item {
                    Ok(i) => project(&s.users[i]),
                    Err(removed) => removed,
                })
                .collect();
            let mut body = json!({ "value": value });
            if skip + size < total {
                let mut q = keep.clone();
                if let Some(v) = since {
                    q.push(format!("$deltatoken={v}"));
                }
                q.push(format!("$skiptoken={}", skip + size));
                body["@odata.nextLink"] = json!(format!("{base}{}?{}", req.path, q.join("&")));
            } else {
                let mut q = keep;
                q.push(format!("$deltatoken={}", s.version));
                body["@odata.deltaLink"] = json!(format!("{base}{}?{}", req.path, q.join("&")));
            }
            HttpResponse::json(200, &body)
        }
        "/v1.0/$batch" => {
            let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
            let requests = body["requests"].as_array().cloned().unwrap_or_default();
            if requests.len() > 20 {
                return graph_error(400, "BadRequest", "Number of batch request steps exceeds the maximum of 20.");
            }
            let mut responses = Vec::new();
            for r in &requests {
                let url = r["url"].as_str().unwrap_or_default();
                let (path, query) = match url.split_once('?') {
                    Some((p, q)) => (p, super::http_server::parse_pairs(q)),
                    None => (url, Vec::new()),
                };
                let sub = HttpRequest {
                    method: r["method"].as_str().unwrap_or("GET").to_string(),
                    path: format!("/v1.0{path}"),
                    query,
                    headers: req.headers.clone(),
                    body: Vec::new(),
                    proxied: false,
                };
                // Graph evaluates each sub-request against its throttling limits on its own: the
                // batch answers 200 and a throttled sub-request answers 429 with its own
                // Retry-After (learn.microsoft.com/graph/throttling, "Throttling and batching").
                if s.throttle_every > 0 {
                    s.inner_received += 1;
                    if s.inner_received % s.throttle_every == 0 {
                        s.inner_throttled += 1;
                        s.retry_after_total += s.throttle_seconds;
                        s.unanswered.insert(url.to_string());
                        let body: Value = serde_json::from_slice(&throttled(s.throttle_seconds).body).unwrap();
                        let headers = json!({ "Retry-After": s.throttle_seconds.to_string() });
                        responses.push(json!({ "id": r["id"], "status": 429, "headers": headers, "body": body }));
                        continue;
                    }
                }
                let answer = handle_in(s, &sub, false);
                if answer.status != 429 {
                    s.unanswered.remove(url);
                }
                let body: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
                responses.push(json!({ "id": r["id"], "status": answer.status, "headers": {}, "body": body }));
            }
            HttpResponse::json(200, &json!({ "responses": responses }))
        }
        "/v1.0/users/{id}/photo" => {
            let id = req.path.split('/').nth(3).unwrap_or_default();
            match s.user(id).and_then(|u| u.get("#photo")) {
                Some(etag) => HttpResponse::json(
                    200,
                    &json!({ "@odata.mediaEtag": etag, "id": "default", "height": 96, "width": 96 }),
                ),
                None => graph_error(
                    404,
                    "ImageNotFound",
                    "Exception of type 'Microsoft.Fast.Profile.Core.Exception.ImageNotFoundException' was thrown.",
                ),
            }
        }
        "/v1.0/users/{id}/memberOf" | "/v1.0/users/{id}/transitiveMemberOf" => {
            let id = req.path.split('/').nth(3).unwrap_or_default().to_string();
            if s.position(&id).is_none() {
                return graph_error(404, "Request_ResourceNotFound", "Resource does not exist.");
            }
            let transitive = req.path.ends_with("transitiveMemberOf");
            let mut of: Vec<String> =
                s.groups.iter().filter(|g| g.members.contains(&id)).map(|g| g.id.clone()).collect();
            if transitive {
                let mut i = 0;
                while i < of.len() {
                    let inner = of[i].clone();
                    for g in s.groups.iter().filter(|g| g.nested.contains(&inner)) {
                        if !of.contains(&g.id) {
                            of.push(g.id.clone());
                        }
                    }
                    i += 1;
                }
            }
            let items = s
                .groups
                .iter()
                .filter(|g| of.contains(&g.id))
                .map(|g| json!({ "@odata.type": "#microsoft.graph.group", "id": g.id, "displayName": g.name }))
                .collect();
            page_of(items)
        }
        "/v1.0/groups/delta" => {
            // "Sync from now", as for users (learn.microsoft.com/graph/delta-query-overview).
            if req.param("$deltatoken") == Some("latest") {
                let mut q = delta_query(req);
                q.push(format!("$deltatoken={}", s.version));
                let link = format!("{base}{}?{}", req.path, q.join("&"));
                return HttpResponse::json(200, &json!({ "value": [], "@odata.deltaLink": link }));
            }
            let since: Option<u64> = req.param("$deltatoken").and_then(|t| t.parse().ok());
            if since.is_some_and(|v| v < s.min_delta) {
                return graph_error(410, "SyncStateNotFound", "The sync state generation is no longer valid.");
            }
            let user = |id: &str| json!({ "@odata.type": "#microsoft.graph.user", "id": id });
            // The first round pages by groups (`Prefer: odata.maxpagesize`); each group comes with its
            // direct members, nested groups among them.
            let size = max_page_size(req);
            let mut more = false;
            let items: Vec<Value> = match since {
                None => {
                    more = skip + size < s.groups.len();
                    s.groups
                        .iter()
                        .skip(skip)
                        .take(size)
                        .map(|g| {
                            let mut members: Vec<Value> = g.members.iter().map(|m| user(m)).collect();
                            members.extend(
                                g.nested.iter().map(|n| json!({ "@odata.type": "#microsoft.graph.group", "id": n })),
                            );
                            json!({ "id": g.id, "displayName": g.name, "members@delta": members })
                        })
                        .collect()
                }
                Some(v) => {
                    let mut by_group: BTreeMap<String, Value> = BTreeMap::new();
                    for (_, gid, uid, added) in s.member_log.iter().filter(|(version, ..)| *version > v) {
                        // "Updated instances are represented by their id with at least the
                        // properties that have been updated, but additional properties may be
                        // included" (learn.microsoft.com/graph/delta-query-overview): this
                        // emulator includes the unchanged displayName with every changed group,
                        // the case a client must not take for a rename. A rename changes it.
                        let name = s.groups.iter().find(|g| g.id == *gid).map(|g| g.name.clone()).unwrap_or_default();
                        let entry = by_group
                            .entry(gid.clone())
                            .or_insert_with(|| json!({ "id": gid, "displayName": name, "members@delta": [] }));
                        if uid.is_empty() {
                            continue;
                        }
                        let mut m = user(uid);
                        if !added {
                            m["@removed"] = json!({ "reason": "deleted" });
                        }
                        entry["members@delta"].as_array_mut().unwrap().push(m);
                    }
                    by_group.into_values().collect()
                }
            };
            if more {
                return HttpResponse::json(
                    200,
                    &json!({ "value": items, "@odata.nextLink": next_link(req, &base, skip + size, &[]) }),
                );
            }
            let keep = delta_query(req);
            let mut q = keep;
            q.push(format!("$deltatoken={}", s.version));
            HttpResponse::json(
                200,
                &json!({ "value": items, "@odata.deltaLink": format!("{base}{}?{}", req.path, q.join("&")) }),
            )
        }
        "/v1.0/users/{id}/photo/$value" => {
            let id = req.path.split('/').nth(3).unwrap_or_default();
            match s.user(id).and_then(|u| u.get("#photo")) {
                Some(etag) => HttpResponse {
                    status: 200,
                    headers: vec![("Content-Type".into(), "image/jpeg".into())],
                    body: {
                        let mut image = format!("JPEG of {id} {etag}").into_bytes();
                        image.resize(image.len().max(s.photo_bytes), b'.');
                        image
                    },
                    ..HttpResponse::default()
                },
                None => graph_error(404, "ImageNotFound", "The photo wasn't found."),
            }
        }
        "/v1.0/groups" => {
            let items = s.groups.iter().map(|g| json!({ "id": g.id, "displayName": g.name })).collect();
            page_of(items)
        }
        _ => {
            let parts: Vec<&str> = req.path.split('/').collect();
            if let ["", "v1.0", "groups", id, kind @ ("members" | "transitiveMembers")] = parts.as_slice() {
                let Some(group) = s.groups.iter().find(|g| g.id == *id).cloned() else {
                    return graph_error(404, "Request_ResourceNotFound", "Resource does not exist.");
                };
                let mut items: Vec<Value> =
                    group.members.iter().map(|m| json!({ "@odata.type": "#microsoft.graph.user", "id": m })).collect();
                let mut pending = group.nested.clone();
                while let Some(n) = pending.pop() {
                    items.push(json!({ "@odata.type": "#microsoft.graph.group", "id": n }));
                    if *kind == "transitiveMembers" {
                        if let Some(g) = s.groups.iter().find(|g| g.id == n) {
                            items.extend(
                                g.members.iter().map(|m| json!({ "@odata.type": "#microsoft.graph.user", "id": m })),
                            );
                            pending.extend(g.nested.clone());
                        }
                    }
                }
                return page_of(items);
            }
            if let ["", "v1.0", "users", id] = parts.as_slice() {
                let select: Option<Vec<String>> =
                    req.param("$select").map(|v| v.split(',').map(str::to_string).collect());
                let expand = req.param("$expand").unwrap_or_default().to_string();
                return match s.user(id) {
                    Some(u) => HttpResponse::json(200, &project_user(s, u, &select, &expand)),
                    None => graph_error(404, "Request_ResourceNotFound", "Resource does not exist."),
                };
            }
            graph_error(404, "Request_ResourceNotFound", "Unknown endpoint.")
        }
    }
}

/// A throttling answer as Graph sends it.
pub fn throttled(seconds: u64) -> HttpResponse {
    graph_error(429, "TooManyRequests", "Too many requests.").with_header("Retry-After", &seconds.to_string())
}

pub fn unavailable() -> HttpResponse {
    graph_error(503, "ServiceUnavailable", "The service is temporarily unavailable.")
}

/// A 200 whose body stops half-way.
pub fn truncated() -> HttpResponse {
    HttpResponse {
        truncate: true,
        ..HttpResponse::json(200, &json!({ "value": [ { "id": "x" } ], "padding": "x".repeat(100) }))
    }
}

/// A 200 whose JSON stops half-way, with a Content-Length that matches what is sent: what a
/// proxy that gave up, or a connection closed early without a length, hands the client.
pub fn cut_off() -> HttpResponse {
    let mut body = json!({ "value": [ { "id": "x" } ], "padding": "x".repeat(100) }).to_string().into_bytes();
    body.truncate(body.len() / 2);
    HttpResponse { body, ..HttpResponse::json(200, &Value::Null) }
}

/// A 200 answer of `bytes` bytes of valid JSON (a huge page).
pub fn huge(bytes: usize) -> HttpResponse {
    HttpResponse::json(200, &json!({ "value": [], "padding": "x".repeat(bytes) }))
}

pub fn slow(d: Duration) -> HttpResponse {
    HttpResponse { delay: Some(d), ..unavailable() }
}
