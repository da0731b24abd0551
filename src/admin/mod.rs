//! The admin API (DESIGN §12): JSON over HTTP under `/api/1/`, written once here and served twice
//! — by `usersync serve` and by the plugin's servlet — so the two cannot drift. A request is
//! plain data (method, path, query, body) and so is the answer: the servers only carry them,
//! and authenticate the caller first.
//!
//! Every answer passes the redaction layer, and configurations are answered without their
//! secrets (`"secrets": [{"name": "client_secret", "state": "set"}]` says which are set). Secrets are write-only:
//! an update that leaves one out keeps the stored one.

mod connectors;
pub mod page;
mod runs;
mod schema;

use std::sync::Arc;

use serde_json::{json, Value};

use crate::engine::host::{ErrorKind, HostEngine, HostError};

/// A request as a server hands it over.
pub struct ApiRequest<'a> {
    pub method: &'a str,
    /// The path after `/api/1` (`/connectors/hr`).
    pub path: &'a str,
    /// The raw query string, without `?`.
    pub query: &'a str,
    pub body: &'a [u8],
}

/// An answer: a status, a content type and the bytes; `filename` asks for a download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiResponse {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    pub filename: Option<String>,
}

impl ApiResponse {
    pub fn json(status: u16, value: &Value) -> ApiResponse {
        let raw = value.to_string();
        let body = crate::redact::document(&raw).into_owned().into_bytes();
        ApiResponse { status, content_type: "application/json", body, filename: None }
    }

    /// `{"error": message}` with `status`.
    pub fn error(status: u16, message: impl std::fmt::Display) -> ApiResponse {
        ApiResponse::json(status, &json!({ "error": message.to_string() }))
    }

    /// The answer as JSON (tests and servers read it).
    pub fn value(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// The status that says what kind of failure a host error is.
fn status_of(e: &HostError) -> u16 {
    match e.kind {
        ErrorKind::Config => 422,
        ErrorKind::Invalid => 404,
        ErrorKind::Busy => 409,
        ErrorKind::State | ErrorKind::Directory => 500,
    }
}

impl From<HostError> for ApiResponse {
    fn from(e: HostError) -> Self {
        ApiResponse::error(status_of(&e), &e.message)
    }
}

/// A request body as JSON; an empty body is `{}`.
fn body(r: &ApiRequest) -> Result<Value, ApiResponse> {
    if r.body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(r.body).map_err(|e| ApiResponse::error(400, format!("the request body is not JSON: {e}")))
}

/// One query parameter, percent-decoded.
fn query(r: &ApiRequest, name: &str) -> Option<String> {
    r.query.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| decode(v))
}

pub(crate) fn decode(v: &str) -> String {
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex =
            b.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'+', _) => out.push(b' '),
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 2;
            }
            (other, _) => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The admin API over one engine.
pub struct AdminApi {
    host: Arc<HostEngine>,
}

impl AdminApi {
    pub fn new(host: Arc<HostEngine>) -> AdminApi {
        AdminApi { host }
    }

    pub fn host(&self) -> &HostEngine {
        &self.host
    }

    /// Answers one request. Never panics into the server: a panic becomes a 500.
    pub fn handle(&self, r: &ApiRequest) -> ApiResponse {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.route(r))).unwrap_or_else(|panic| {
            ApiResponse::error(500, format!("internal error: {}", crate::engine::host::panic_message(&*panic)))
        })
    }

    fn route(&self, r: &ApiRequest) -> ApiResponse {
        let parts: Vec<&str> = r.path.trim_matches('/').split('/').filter(|p| !p.is_empty()).collect();
        let answer = match (r.method, parts.as_slice()) {
            ("GET", ["presets"]) => Ok(connectors::presets()),
            ("GET", ["schema"]) => Ok(ApiResponse::json(200, &schema::schema())),
            ("GET", ["connectors"]) => Ok(connectors::list(self)),
            ("POST", ["validate"]) => body(r).map(|b| connectors::validate(self, &b)),
            ("GET", ["connectors", id]) => Ok(connectors::read(self, id)),
            ("PUT", ["connectors", id]) => body(r).map(|b| connectors::put(self, id, b)),
            ("DELETE", ["connectors", id]) => Ok(connectors::delete(self, id)),
            ("POST", ["connectors", id, "check"]) => Ok(self.host.check(id).map_or_else(Into::into, json_text)),
            ("POST", ["connectors", id, "mapping-test"]) => body(r).map(|b| connectors::mapping_test(self, id, &b)),
            ("GET", ["config"]) => Ok(connectors::export(self)),
            ("PUT", ["config"]) => Ok(connectors::import(self, r.body)),
            ("GET", ["schedules"]) => Ok(runs::schedules(self)),
            ("GET", ["runs"]) => Ok(runs::history(self, r)),
            ("POST", ["runs"]) => body(r).map(|b| runs::start(self, &b)),
            ("GET", ["runs", id]) => Ok(runs::with_id(id, |id| runs::read(self, id))),
            ("GET", ["runs", id, "progress"]) => {
                Ok(runs::with_id(id, |id| self.host.progress(id).map_or_else(Into::into, json_text)))
            }
            ("POST", ["runs", id, "cancel"]) => Ok(runs::with_id(id, |id| {
                self.host.cancel(id).map_or_else(Into::into, |_| ApiResponse::json(202, &json!({ "run_id": id })))
            })),
            ("GET", ["runs", id, "results"]) => Ok(runs::with_id(id, |id| runs::results(self, id, r))),
            ("GET", ["runs", id, "download"]) => Ok(runs::with_id(id, |id| runs::download(self, id))),
            ("POST", ["runs", id, "approve"]) => {
                Ok(runs::with_id(id, |id| self.host.approve(id).map_or_else(Into::into, json_text)))
            }
            ("POST", ["runs", id, "discard"]) => {
                Ok(runs::with_id(id, |id| self.host.discard(id).map_or_else(Into::into, json_text)))
            }
            (_, [first, ..]) if KNOWN.contains(first) => {
                Err(ApiResponse::error(405, format!("{} is not allowed on {}", r.method, r.path)))
            }
            _ => Err(ApiResponse::error(404, format!("no such resource: /api/1{}", r.path))),
        };
        answer.unwrap_or_else(|e| e)
    }
}

const KNOWN: [&str; 7] = ["presets", "schema", "connectors", "validate", "config", "schedules", "runs"];

/// A JSON text the engine answered, as a 200.
fn json_text(text: String) -> ApiResponse {
    ApiResponse::json(200, &serde_json::from_str(&text).unwrap_or(Value::String(text)))
}
