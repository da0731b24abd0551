//! The SCIM 2.0 service provider IdPs push to (RFC 7643/7644): `/ServiceProviderConfig`,
//! `/ResourceTypes`, `/Schemas`, `/Users` and `/Groups`. This module is the protocol — routes,
//! filters, paging, PATCH, errors in SCIM's format — over a [`Backend`] that keeps the resources
//! and carries every change into the directory (the engine's `scim-inbound` connector). Who is
//! calling (the bearer token) is settled before a request gets here.

pub mod filter;
pub mod patch;
pub mod resource;
pub mod schema;

use serde_json::{json, Map, Value};

pub use resource::ResourceKind;

pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// The largest request body read (RFC 7644 §3.12: 413 beyond what the server accepts).
pub const MAX_BODY: usize = 1024 * 1024;
/// The most resources one list answer holds (`filter.maxResults`).
pub const MAX_RESULTS: usize = 200;

/// An error answer (RFC 7644 §3.12): the HTTP status, `scimType` for 400s, and a detail for
/// people. Details name what is wrong and never quote a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimError {
    pub status: u16,
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

impl ScimError {
    pub fn new(status: u16, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        ScimError { status, scim_type, detail: detail.into() }
    }

    pub fn bad(scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        ScimError::new(400, scim_type, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        ScimError::new(404, None, detail)
    }

    pub fn body(&self) -> Value {
        let mut v = json!({ "schemas": [ERROR], "status": self.status.to_string(), "detail": self.detail });
        if let Some(t) = self.scim_type {
            v["scimType"] = json!(t);
        }
        v
    }
}

/// A raw query string (`filter=userName%20eq%20%22x%22&count=10`) as decoded pairs.
pub fn query_pairs(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (crate::admin::decode(k), crate::admin::decode(v))
        })
        .collect()
}

/// A request as the HTTP layer saw it; `path` is what follows the SCIM base (`/Users/2819c`).
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a [(String, String)],
    pub body: &'a [u8],
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub body: Option<Value>,
    /// The `Location` of a created resource.
    pub location: Option<String>,
}

impl Response {
    fn json(status: u16, body: Value) -> Response {
        Response { status, body: Some(body), location: None }
    }

    fn error(e: ScimError) -> Response {
        Response { status: e.status, body: Some(e.body()), location: None }
    }
}

/// What a resource write did to a user, for the backend to carry into the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Created or changed; `deactivated` when it went from active to inactive.
    User {
        id: String,
        deactivated: bool,
    },
    UserDeleted {
        id: String,
    },
    /// A group created, changed or deleted: the members whose groups this changes.
    Group {
        members: Vec<String>,
    },
}

/// Where resources live and what a change sets off. Implementations serialise writes (one
/// request's read-check-write at a time) so that uniqueness holds.
pub trait Backend {
    fn all(&self, kind: ResourceKind) -> Result<Vec<Value>, String>;
    fn get(&self, kind: ResourceKind, id: &str) -> Result<Option<Value>, String>;
    /// Stores the resource (`None` deletes it).
    fn put(&self, kind: ResourceKind, id: &str, resource: Option<&Value>) -> Result<(), String>;
    fn new_id(&self) -> String;
    fn now(&self) -> chrono::DateTime<chrono::Utc>;
    /// Carries a stored change into the directory. An error here does not undo the stored
    /// change (the IdP's view is the source); it is answered as 500 and the next run repairs it.
    fn changed(&self, change: Change) -> Result<(), String>;
}

fn server_error(e: String) -> ScimError {
    ScimError::new(500, None, format!("the service could not complete the request: {e}"))
}

/// Answers one request.
pub fn handle(backend: &dyn Backend, base: &str, req: &Request) -> Response {
    match route(backend, base, req) {
        Ok(r) => r,
        Err(e) => Response::error(e),
    }
}

fn route(b: &dyn Backend, base: &str, req: &Request) -> Result<Response, ScimError> {
    if req.body.len() > MAX_BODY {
        return Err(ScimError::new(413, None, format!("the request body is larger than {MAX_BODY} bytes")));
    }
    let parts: Vec<&str> = req.path.trim_matches('/').split('/').filter(|p| !p.is_empty()).collect();
    let method = req.method.to_ascii_uppercase();
    match (method.as_str(), parts.as_slice()) {
        ("GET", ["ServiceProviderConfig"]) => Ok(Response::json(200, service_provider_config(base))),
        ("GET", ["ResourceTypes"]) => Ok(Response::json(200, list_of(schema::resource_types(base)))),
        ("GET", ["ResourceTypes", id]) => one_of(schema::resource_types(base), id),
        ("GET", ["Schemas"]) => Ok(Response::json(200, list_of(schema::schemas(base)))),
        ("GET", ["Schemas", id]) => one_of(schema::schemas(base), id),
        // The discovery endpoints are read-only (RFC 7644 §4).
        (m, ["ServiceProviderConfig" | "ResourceTypes" | "Schemas", ..]) => {
            Err(ScimError::new(405, None, format!("{m} is not allowed on {}", req.path)))
        }
        ("POST", [".search"]) => search_body(b, None, req),
        ("POST", [endpoint, ".search"]) if kind_of(endpoint).is_some() => search_body(b, kind_of(endpoint), req),
        (_, [endpoint, rest @ ..]) if kind_of(endpoint).is_some() && rest.len() <= 1 => {
            let kind = kind_of(endpoint).unwrap_or(ResourceKind::User);
            let id = rest.first().copied();
            let (attributes, excluded) = (list_param(req, "attributes"), list_param(req, "excludedAttributes"));
            let show = |r: &Value| resource::project(r, &attributes, &excluded);
            match (method.as_str(), id) {
                ("GET", None) => search(b, kind, req, &show),
                ("POST", None) => create(b, base, kind, req.body).map(|(r, loc)| Response {
                    status: 201,
                    body: Some(show(&r)),
                    location: Some(loc),
                }),
                ("GET", Some(id)) => Ok(Response::json(200, show(&find(b, kind, id)?))),
                ("PUT", Some(id)) => replace(b, kind, id, req.body).map(|r| Response::json(200, show(&r))),
                ("PATCH", Some(id)) => modify(b, kind, id, req.body).map(|r| Response::json(200, show(&r))),
                ("DELETE", Some(id)) => {
                    delete(b, kind, id)?;
                    Ok(Response { status: 204, body: None, location: None })
                }
                (m, _) => Err(ScimError::new(405, None, format!("{m} is not allowed here"))),
            }
        }
        ("POST", ["Bulk"]) => Err(ScimError::new(501, None, "bulk operations are not supported")),
        _ => Err(ScimError::not_found(format!("no SCIM endpoint {} {}", req.method, req.path))),
    }
}

fn kind_of(endpoint: &str) -> Option<ResourceKind> {
    match endpoint {
        "Users" => Some(ResourceKind::User),
        "Groups" => Some(ResourceKind::Group),
        _ => None,
    }
}

fn list_param(req: &Request, name: &str) -> Vec<String> {
    req.query
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        .flat_map(|(_, v)| v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect::<Vec<_>>())
        .collect()
}

fn param<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.query.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": "https://github.com/usersync/usersync/blob/main/docs/SCIM.md",
        "patch": { "supported": true },
        "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
        "filter": { "supported": true, "maxResults": MAX_RESULTS },
        "changePassword": { "supported": false },
        "sort": { "supported": false },
        "etag": { "supported": false },
        "pagination": { "cursor": false, "index": true, "defaultPaginationMethod": "index",
            "defaultPageSize": MAX_RESULTS, "maxPageSize": MAX_RESULTS },
        "authenticationSchemes": [{ "type": "oauthbearertoken", "name": "OAuth Bearer Token",
            "description": "The connector's bearer token", "specUri": "https://www.rfc-editor.org/rfc/rfc6750", "primary": true }],
        "meta": { "resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig") }
    })
}

fn list_of(items: Vec<Value>) -> Value {
    json!({ "schemas": [LIST], "totalResults": items.len(), "itemsPerPage": items.len(), "startIndex": 1, "Resources": items })
}

fn one_of(items: Vec<Value>, id: &str) -> Result<Response, ScimError> {
    items
        .into_iter()
        .find(|i| i["id"] == id)
        .map(|i| Response::json(200, i))
        .ok_or_else(|| ScimError::not_found(format!("no such resource: {id}")))
}

fn find(b: &dyn Backend, kind: ResourceKind, id: &str) -> Result<Value, ScimError> {
    b.get(kind, id)
        .map_err(server_error)?
        .ok_or_else(|| ScimError::not_found(format!("no {} with id {id}", kind.name())))
}

/// What a search asks: a filter, a page and the attributes to show.
struct Search {
    filter: Option<String>,
    start: i64,
    count: Option<i64>,
    attributes: Vec<String>,
    excluded: Vec<String>,
}

/// `GET /Users?filter=...&startIndex=..&count=..` (RFC 7644 §3.4.2).
fn search(
    b: &dyn Backend,
    kind: ResourceKind,
    req: &Request,
    show: &dyn Fn(&Value) -> Value,
) -> Result<Response, ScimError> {
    let number =
        |name: &str| -> Result<Option<i64>, ScimError> {
            match param(req, name) {
                None => Ok(None),
                Some(v) => v.trim().parse::<i64>().map(Some).map_err(|_| {
                    ScimError::bad(Some("invalidValue"), format!("{name} must be a whole number, not '{v}'"))
                }),
            }
        };
    let s = Search {
        filter: param(req, "filter").map(str::to_string),
        start: number("startIndex")?.unwrap_or(1),
        count: number("count")?,
        attributes: Vec::new(),
        excluded: Vec::new(),
    };
    run_search(b, &[kind], &s, show)
}

/// `POST /.search` and `POST /Users/.search` (RFC 7644 §3.4.3): the query in a SearchRequest.
fn search_body(b: &dyn Backend, kind: Option<ResourceKind>, req: &Request) -> Result<Response, ScimError> {
    let body = parse_body(req.body)?;
    let request_schema = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
    let listed = body["schemas"].as_array().is_some_and(|s| s.iter().any(|u| u == request_schema));
    if !listed {
        return Err(ScimError::bad(
            Some("invalidSyntax"),
            format!("a search body's 'schemas' must be [\"{request_schema}\"]"),
        ));
    }
    let list = |v: &Value| -> Vec<String> {
        match v {
            Value::Array(items) => items.iter().filter_map(Value::as_str).map(str::to_string).collect(),
            Value::String(s) => s.split(',').map(|x| x.trim().to_string()).collect(),
            _ => Vec::new(),
        }
    };
    let whole = |name: &str| -> Result<Option<i64>, ScimError> {
        match &body[name] {
            Value::Null => Ok(None),
            v => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| ScimError::bad(Some("invalidValue"), format!("{name} must be a whole number"))),
        }
    };
    let s = Search {
        filter: body["filter"].as_str().map(str::to_string),
        start: whole("startIndex")?.unwrap_or(1),
        count: whole("count")?,
        attributes: list(&body["attributes"]),
        excluded: list(&body["excludedAttributes"]),
    };
    let kinds = match kind {
        Some(k) => vec![k],
        None => vec![ResourceKind::User, ResourceKind::Group],
    };
    let (attributes, excluded) = (s.attributes.clone(), s.excluded.clone());
    run_search(b, &kinds, &s, &|r| resource::project(r, &attributes, &excluded))
}

fn run_search(
    b: &dyn Backend,
    kinds: &[ResourceKind],
    s: &Search,
    show: &dyn Fn(&Value) -> Value,
) -> Result<Response, ScimError> {
    let filter = match &s.filter {
        Some(f) => Some(filter::parse(f).map_err(|e| ScimError::bad(Some("invalidFilter"), format!("filter: {e}")))?),
        None => None,
    };
    // Below 1 counts as 1 and a negative count as 0 (§3.4.2.4).
    let start = s.start.max(1) as usize;
    let count = (s.count.unwrap_or(MAX_RESULTS as i64).max(0) as usize).min(MAX_RESULTS);
    let mut all = Vec::new();
    for kind in kinds {
        all.extend(b.all(*kind).map_err(server_error)?);
    }
    if let Some(f) = &filter {
        all.retain(|r| filter::matches(r, f));
    }
    all.sort_by(|a, b| {
        a["meta"]["created"].as_str().cmp(&b["meta"]["created"].as_str()).then(a["id"].as_str().cmp(&b["id"].as_str()))
    });
    let total = all.len();
    let page: Vec<Value> = all.iter().skip(start - 1).take(count).map(show).collect();
    Ok(Response::json(
        200,
        json!({ "schemas": [LIST], "totalResults": total, "startIndex": start, "itemsPerPage": page.len(), "Resources": page }),
    ))
}

fn parse_body(body: &[u8]) -> Result<Value, ScimError> {
    let text = std::str::from_utf8(body).map_err(|_| ScimError::bad(Some("invalidSyntax"), "the body is not UTF-8"))?;
    crate::config::strict_json::parse(text).map_err(|e| {
        ScimError::bad(
            Some("invalidSyntax"),
            format!("the body is not valid JSON: {} (line {}, column {})", e.message, e.line, e.column),
        )
    })
}

/// `meta` for a resource written now (RFC 7643 §3.1).
fn meta(b: &dyn Backend, base: &str, kind: ResourceKind, id: &str, created: Option<&Value>, version: u64) -> Value {
    let now = b.now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    json!({
        "resourceType": kind.name(),
        "created": created.cloned().unwrap_or_else(|| json!(now)),
        "lastModified": now,
        "location": format!("{base}/{}/{id}", kind.endpoint()),
        "version": format!("W/\"{version}\""),
    })
}

fn version_of(r: &Value) -> u64 {
    r["meta"]["version"]
        .as_str()
        .and_then(|v| v.trim_start_matches("W/\"").trim_end_matches('"').parse().ok())
        .unwrap_or(0)
}

/// Refuses a second user with the same `userName` or group with the same `displayName`
/// (case-insensitively: the directory tells them apart no better).
fn unique(b: &dyn Backend, kind: ResourceKind, id: &str, r: &Map<String, Value>) -> Result<(), ScimError> {
    let key = match kind {
        ResourceKind::User => "userName",
        ResourceKind::Group => "displayName",
    };
    let Some(want) = r.get(key).and_then(Value::as_str) else { return Ok(()) };
    let taken = b
        .all(kind)
        .map_err(server_error)?
        .iter()
        .any(|o| o["id"] != id && o[key].as_str().is_some_and(|v| v.eq_ignore_ascii_case(want)));
    if taken {
        return Err(ScimError::new(409, Some("uniqueness"), format!("a {} with {key} '{want}' exists", kind.name())));
    }
    Ok(())
}

fn store(
    b: &dyn Backend,
    base: &str,
    kind: ResourceKind,
    id: &str,
    mut r: Map<String, Value>,
    before: Option<&Value>,
) -> Result<Value, ScimError> {
    unique(b, kind, id, &r)?;
    r.insert("id".into(), json!(id));
    r.insert(
        "meta".into(),
        meta(b, base, kind, id, before.map(|p| &p["meta"]["created"]), before.map(version_of).unwrap_or(0) + 1),
    );
    let resource = Value::Object(r);
    b.put(kind, id, Some(&resource)).map_err(server_error)?;
    let change = match kind {
        ResourceKind::User => {
            let was_active = before.is_some_and(|p| p["active"] != false);
            Change::User { id: id.to_string(), deactivated: was_active && resource["active"] == false }
        }
        ResourceKind::Group => {
            // The users whose groups change: all members when the name changed, else those who
            // joined or left.
            let (was, now) = (members(before), members(Some(&resource)));
            let renamed = before.is_some_and(|p| p["displayName"] != resource["displayName"]);
            let changed = if renamed {
                was.into_iter().chain(now).collect()
            } else {
                let joined = now.iter().filter(|m| !was.contains(m)).cloned().collect::<Vec<_>>();
                was.iter().filter(|m| !now.contains(m)).cloned().chain(joined).collect()
            };
            Change::Group { members: changed }
        }
    };
    b.changed(change).map_err(server_error)?;
    Ok(resource)
}

fn members(r: Option<&Value>) -> Vec<String> {
    r.and_then(|r| r["members"].as_array())
        .into_iter()
        .flatten()
        .filter_map(|m| m["value"].as_str().map(str::to_string))
        .collect()
}

fn create(b: &dyn Backend, base: &str, kind: ResourceKind, body: &[u8]) -> Result<(Value, String), ScimError> {
    let r = resource::check(kind, &parse_body(body)?)?;
    let id = b.new_id();
    let stored = store(b, base, kind, &id, r, None)?;
    Ok((stored, format!("{base}/{}/{id}", kind.endpoint())))
}

fn replace(b: &dyn Backend, kind: ResourceKind, id: &str, body: &[u8]) -> Result<Value, ScimError> {
    let before = find(b, kind, id)?;
    let r = resource::check(kind, &parse_body(body)?)?;
    let base = base_of(&before, kind);
    store(b, &base, kind, id, r, Some(&before))
}

fn modify(b: &dyn Backend, kind: ResourceKind, id: &str, body: &[u8]) -> Result<Value, ScimError> {
    let before = find(b, kind, id)?;
    let mut after = before.clone();
    patch::apply(&mut after, &parse_body(body)?)?;
    let r = resource::check(kind, &after)?;
    let base = base_of(&before, kind);
    store(b, &base, kind, id, r, Some(&before))
}

/// The SCIM base a stored resource's location was made under.
fn base_of(r: &Value, kind: ResourceKind) -> String {
    let location = r["meta"]["location"].as_str().unwrap_or_default();
    location.rsplit_once(&format!("/{}/", kind.endpoint())).map(|(b, _)| b.to_string()).unwrap_or_default()
}

fn delete(b: &dyn Backend, kind: ResourceKind, id: &str) -> Result<(), ScimError> {
    let before = find(b, kind, id)?;
    b.put(kind, id, None).map_err(server_error)?;
    let change = match kind {
        ResourceKind::User => Change::UserDeleted { id: id.to_string() },
        ResourceKind::Group => Change::Group { members: members(Some(&before)) },
    };
    b.changed(change).map_err(server_error)
}
