//! The HTTP layer the cloud connectors share: bounded retries with backoff and jitter, the
//! providers' own throttling signals, per-request timeouts, proxy, and errors that name the
//! provider, endpoint, status and the provider's error code — never a secret.

use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::config::HttpSettings;

/// Which provider's conventions apply (error bodies, throttling signals).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Entra,
    Okta,
    Google,
    Scim,
    Keycloak,
    OneLogin,
    Rest,
}

impl Provider {
    pub fn name(self) -> &'static str {
        match self {
            Provider::Entra => "entra",
            Provider::Okta => "okta",
            Provider::Google => "google",
            Provider::Scim => "scim",
            Provider::Keycloak => "keycloak",
            Provider::OneLogin => "onelogin",
            Provider::Rest => "rest",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Request {
    pub method: &'static str,
    pub url: String,
    /// Names are mostly fixed; a configured one (the `rest` connector's API-key header) is owned.
    pub headers: Vec<(std::borrow::Cow<'static, str>, String)>,
    /// Form fields for `application/x-www-form-urlencoded` (token requests).
    pub form: Option<Vec<(&'static str, String)>>,
    /// A JSON body (Graph `$batch`), written once: a request sent again is not written again.
    pub json: Option<String>,
}

impl Request {
    pub fn get(url: String) -> Self {
        Request { method: "GET", url, headers: Vec::new(), form: None, json: None }
    }

    pub fn post_form(url: String, form: Vec<(&'static str, String)>) -> Self {
        Request { method: "POST", url, headers: Vec::new(), form: Some(form), json: None }
    }

    pub fn post_json(url: String, body: String) -> Self {
        Request { method: "POST", url, headers: Vec::new(), form: None, json: Some(body) }
    }

    pub fn header(mut self, name: impl Into<std::borrow::Cow<'static, str>>, value: String) -> Self {
        self.headers.push((name.into(), value));
        self
    }
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// As the client parsed them: copying every header into strings of our own was two
    /// allocations a header on each of a sync's thousands of requests.
    pub headers: ureq::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of a header. For a header a server may send as several lines (`Link`),
    /// use `header_values`.
    pub fn header<'a>(&'a self, name: &str) -> Option<&'a str> {
        self.header_values(name).next()
    }

    /// Every value of a header, one per header line, in the order received.
    pub fn header_values<'a, 'n>(&'a self, name: &'n str) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
        // Names are matched without case; a value that is not visible ASCII is left out.
        self.headers.get_all(name).into_iter().filter_map(|v| v.to_str().ok())
    }

    pub fn json(&self) -> Result<Value, String> {
        read_json(&self.body)
            .map_err(|(Unread::CutOff(e) | Unread::Invalid(e))| format!("invalid JSON in the response: {e}"))
    }
}

/// A request that did not succeed. `Display` reads like
/// `entra: GET /v1.0/users: 403 Authorization_RequestDenied (grant User.Read.All)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpError {
    pub provider: &'static str,
    pub method: &'static str,
    /// The URL's path, without host or query (no secret ever travels in either, but the path is
    /// what an administrator recognises).
    pub endpoint: String,
    pub status: Option<u16>,
    pub code: Option<String>,
    pub detail: String,
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} {}: ", self.provider, self.method, self.endpoint)?;
        match (self.status, &self.code) {
            (Some(s), Some(c)) => write!(f, "{s} {c}")?,
            (Some(s), None) => write!(f, "{s}")?,
            (None, _) => f.write_str("no response")?,
        }
        if !self.detail.is_empty() {
            write!(f, " ({})", self.detail)?;
        }
        Ok(())
    }
}

impl std::error::Error for HttpError {}

pub struct Http {
    agent: ureq::Agent,
    provider: Provider,
    settings: HttpSettings,
    /// `send_all`'s threads, started at its first call that needs more than one.
    workers: OnceLock<super::http_workers::Workers>,
}

/// The path of a URL (`https://host/v1.0/users?$top=999` → `/v1.0/users`).
pub fn endpoint(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let path = rest.find('/').map(|i| &rest[i..]).unwrap_or("/");
    path.split(['?', '#']).next().unwrap_or("/").to_string()
}

/// Why a successful answer could not be taken.
pub(super) enum Unread {
    /// Its JSON stops early: cut off on the way, retried.
    CutOff(String),
    /// Complete, but not JSON or not what was asked for.
    Invalid(String),
}

/// A body's JSON read into `T`. The body is checked to be UTF-8 once, as a whole: read as
/// bytes, serde_json checks every string of it on its own, which cost a twentieth of an Entra
/// run's instructions. A body that stops inside a character was cut off like one that stops
/// inside its JSON.
pub(super) fn read_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Unread> {
    let text = match std::str::from_utf8(body) {
        Ok(text) => text,
        Err(e) if e.error_len().is_none() => {
            return Err(Unread::CutOff(format!("the body stops inside a character at byte {}", e.valid_up_to())))
        }
        Err(e) => return Err(Unread::Invalid(format!("the body is not UTF-8 at byte {}", e.valid_up_to()))),
    };
    serde_json::from_str(text).map_err(|e| match e.classify() {
        serde_json::error::Category::Eof => Unread::CutOff(e.to_string()),
        _ => Unread::Invalid(e.to_string()),
    })
}

enum Next {
    Done(Response),
    Retry { after: Option<Duration>, error: HttpError },
    Fail(HttpError),
}

impl Http {
    pub fn new(provider: Provider, settings: &HttpSettings) -> Result<Http, String> {
        let mut config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(settings.timeout_seconds.into())))
            .user_agent(concat!("usersync/", env!("CARGO_PKG_VERSION")))
            // Every worker of `send_all`, the page reader beside them and a token request keep
            // their connection between requests: a new one costs a TCP and a TLS handshake and
            // ureq's two 128 KiB buffers, and the default pool keeps only 3 a host.
            .max_idle_connections_per_host(settings.concurrency.max(1) as usize + 2)
            .max_idle_connections((settings.concurrency.max(1) as usize + 2).max(10));
        if let Some(proxy) = &settings.proxy_url {
            let proxy = ureq::Proxy::new(proxy).map_err(|e| format!("invalid proxy URL: {e}"))?;
            config = config.proxy(Some(proxy));
        }
        if let Some(ca) = &settings.ca_file {
            let pem = std::fs::read(ca).map_err(|e| format!("cannot read the CA file {}: {e}", ca.display()))?;
            let certs: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                    _ => None,
                })
                .collect();
            if certs.is_empty() {
                return Err(format!("the CA file {} holds no PEM certificate", ca.display()));
            }
            // Extra roots (a corporate TLS proxy) are trusted in addition to the public ones.
            let mut roots: Vec<ureq::tls::Certificate<'static>> = webpki_root_certs::TLS_SERVER_ROOT_CERTS
                .iter()
                .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
                .collect();
            roots.extend(certs);
            let tls = ureq::tls::TlsConfig::builder().root_certs(ureq::tls::RootCerts::new_with_certs(&roots)).build();
            config = config.tls_config(tls);
        }
        let agent = ureq::Agent::with_parts(
            config.build(),
            ureq::unversioned::transport::Connector::chain(
                ureq::unversioned::transport::DefaultConnector::new(),
                super::coalesce::CoalesceConnector,
            ),
            super::resolver::CachingResolver::default(),
        );
        Ok(Http { agent, provider, settings: settings.clone(), workers: OnceLock::new() })
    }

    /// The client a `send_all` worker sends with: the same agent (its connections and
    /// resolver are shared), without workers of its own.
    pub(super) fn worker_copy(&self) -> Http {
        Http {
            agent: self.agent.clone(),
            provider: self.provider,
            settings: self.settings.clone(),
            workers: OnceLock::new(),
        }
    }

    pub fn provider(&self) -> Provider {
        self.provider
    }

    pub(super) fn error(&self, req: &Request, status: Option<u16>, code: Option<String>, detail: String) -> HttpError {
        // Whatever the provider said may echo the request: it leaves through the redaction layer.
        HttpError {
            provider: self.provider.name(),
            method: req.method,
            endpoint: endpoint(&req.url),
            status,
            code: code.map(|c| crate::redact::text(&crate::redact::shorten(&c, 100))),
            detail: crate::redact::text(&detail),
        }
    }

    /// Sends with retries: connection errors, timeouts and 5xx back off exponentially with
    /// jitter; 429 and the providers' throttling answers wait as the server asks. Any other
    /// status below 200 or from 300 up is returned as an error at once. A JSON answer cut off on
    /// the way (a connection reset after the headers, a proxy that gave up) is a network glitch
    /// like any other: retried, never taken as data.
    pub fn send(&self, req: &Request) -> Result<Response, HttpError> {
        self.attempts(req, |resp| match cut_off_json(&resp) {
            Some(e) => Err(Unread::CutOff(e)),
            None => Ok(resp),
        })
    }

    /// `send`, with a successful answer's JSON body read into `T` as part of the attempt. A body
    /// that ends inside its JSON is retried as `send` retries it, found while reading it rather
    /// than by a pass of its own; a complete body that is not JSON, or not a `T`, fails at once.
    pub fn send_as<T: serde::de::DeserializeOwned>(&self, req: &Request) -> Result<T, HttpError> {
        self.attempts(req, |resp| read_json(&resp.body))
    }

    /// The retry loop of `send` and `send_as`; `take` reads a successful answer.
    fn attempts<T>(&self, req: &Request, take: impl Fn(Response) -> Result<T, Unread>) -> Result<T, HttpError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let next = match self.once(req) {
                Next::Done(r) => {
                    let status = Some(r.status);
                    match take(r) {
                        Ok(t) => return Ok(t),
                        Err(Unread::CutOff(e)) => {
                            let detail = format!("the response body is not complete JSON ({e})");
                            Next::Retry { after: None, error: self.error(req, status, None, detail) }
                        }
                        Err(Unread::Invalid(e)) => {
                            Next::Fail(self.error(req, status, None, format!("invalid JSON in the response: {e}")))
                        }
                    }
                }
                other => other,
            };
            match next {
                Next::Done(_) => unreachable!("a successful answer was taken above"),
                Next::Fail(e) => return Err(e),
                Next::Retry { after, error } => {
                    if attempt >= self.settings.max_attempts {
                        let mut error = error;
                        error.detail = format!("gave up after {attempt} attempts; {}", error.detail)
                            .trim_end_matches("; ")
                            .to_string();
                        return Err(error);
                    }
                    let wait = after.unwrap_or_else(|| self.backoff(attempt));
                    tracing::debug!("{}: retrying {} in {:?}", self.provider.name(), endpoint(&req.url), wait);
                    std::thread::sleep(wait);
                }
            }
        }
    }

    /// Sends every request with `send`'s retries, up to `concurrency` at a time, for requests
    /// whose order does not matter. Answers come back in the order of `requests`.
    pub fn send_all(&self, requests: Vec<Request>) -> Vec<Result<Response, HttpError>> {
        self.send_all_with(requests, Http::send)
    }

    /// `send_all` with `send_as`: each answer's body read into `T` on the thread that sent it.
    pub fn send_all_as<T: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        requests: Vec<Request>,
    ) -> Vec<Result<T, HttpError>> {
        self.send_all_with(requests, Http::send_as::<T>)
    }

    /// Sends each request with `send` on the client's workers (threads kept for the client's
    /// life, see `http_workers`); one request, or a concurrency of 1, is sent here.
    pub(super) fn send_all_with<T: Send + 'static>(
        &self,
        requests: Vec<Request>,
        send: fn(&Http, &Request) -> Result<T, HttpError>,
    ) -> Vec<Result<T, HttpError>> {
        let concurrency = self.settings.concurrency.max(1) as usize;
        if concurrency <= 1 || requests.len() <= 1 {
            return requests.iter().map(|r| send(self, r)).collect();
        }
        let workers = self.workers.get_or_init(|| super::http_workers::Workers::start(self, concurrency));
        workers.run(self, requests, send)
    }

    /// The queue `send_all`'s workers share, to see in tests whether they have ended.
    #[cfg(test)]
    pub(super) fn workers_queue(&self) -> Option<std::sync::Weak<impl Sized>> {
        self.workers.get().map(super::http_workers::Workers::queue)
    }

    /// Attempts a request gets in all (`http.max_attempts`), for callers that retry parts of an
    /// answer themselves (a `$batch` whose sub-requests were throttled).
    pub fn max_attempts(&self) -> u32 {
        self.settings.max_attempts
    }

    /// How long to wait before attempt `attempt + 1`: what the server asked, else the backoff.
    pub fn retry_wait(&self, asked: Option<Duration>, attempt: u32) -> Duration {
        asked.map(|d| d.min(Duration::from_secs(600))).unwrap_or_else(|| self.backoff(attempt))
    }

    /// Exponential backoff with full jitter, capped at 30 s.
    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.settings.retry_base_ms.max(1) as u64;
        let cap = base.saturating_mul(1 << attempt.min(16)).min(30_000);
        Duration::from_millis(cap / 2 + jitter(cap / 2 + 1))
    }

    fn once(&self, req: &Request) -> Next {
        let result = match (req.method, &req.form, &req.json) {
            ("POST", Some(form), _) => {
                let mut b = self.agent.post(&req.url);
                for (k, v) in &req.headers {
                    b = b.header(k.as_ref(), v);
                }
                b.send_form(form.iter().map(|(k, v)| (*k, v.as_str())))
            }
            ("POST", None, Some(json)) => {
                let mut b = self.agent.post(&req.url).header("Content-Type", "application/json");
                for (k, v) in &req.headers {
                    b = b.header(k.as_ref(), v);
                }
                b.send(json.as_bytes())
            }
            _ => {
                let mut b = self.agent.get(&req.url);
                for (k, v) in &req.headers {
                    b = b.header(k.as_ref(), v);
                }
                b.call()
            }
        };
        let resp = match result {
            Ok(r) => r,
            Err(e) => {
                // Transport errors: retried. The message names the failure, not the request.
                return Next::Retry { after: None, error: self.error(req, None, None, transport(&e)) };
            }
        };
        let (parts, mut answer) = resp.into_parts();
        let (status, headers) = (parts.status.as_u16(), parts.headers);
        let limit = u64::from(self.settings.max_body_mb) << 20;
        // Sized by the announced length: read into a growing vector, a 60 KB page was copied on
        // each of its reallocations. An announcement past the limit, or past 8 MiB, reserves no
        // more than that; the limit itself is kept by the reader.
        let announced = answer.content_length().unwrap_or(0).min(limit).min(8 << 20) as usize;
        let mut body = Vec::with_capacity(announced);
        let read = std::io::Read::read_to_end(&mut answer.with_config().limit(limit).reader(), &mut body);
        let body = match read.map_err(ureq::Error::from) {
            Ok(_) => body,
            Err(ureq::Error::BodyExceedsLimit(_)) => {
                let detail = format!(
                    "the response body is larger than {} MiB; raise source.http.max_body_mb if that is expected",
                    self.settings.max_body_mb
                );
                return Next::Fail(self.error(req, Some(status), None, detail));
            }
            Err(e) => return Next::Retry { after: None, error: self.error(req, Some(status), None, transport(&e)) },
        };
        let response = Response { status, headers, body };
        if (200..300).contains(&status) {
            return Next::Done(response);
        }
        let (code, message) = error_code(self.provider, &response);
        let error = self.error(req, Some(status), code.clone(), message);
        match self.throttled(&response, code.as_deref()) {
            Some(after) => Next::Retry { after: Some(after), error },
            None if status >= 500 || status == 429 => Next::Retry { after: None, error },
            None => Next::Fail(error),
        }
    }

    /// How long the server asked us to wait, when this response is a throttling signal.
    fn throttled(&self, r: &Response, code: Option<&str>) -> Option<Duration> {
        if let Some(wait) = r.header("Retry-After").and_then(retry_after) {
            return Some(wait);
        }
        match self.provider {
            Provider::Okta if r.status == 429 => {
                let reset = r.header("X-Rate-Limit-Reset").and_then(|v| v.trim().parse::<u64>().ok())?;
                let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
                Some(Duration::from_secs(reset.saturating_sub(now).clamp(1, 600)))
            }
            // OneLogin states the seconds until its hourly budget renews.
            Provider::OneLogin if r.status == 429 => {
                let reset = r.header("X-RateLimit-Reset").and_then(|v| v.trim().parse::<u64>().ok())?;
                Some(Duration::from_secs(reset.clamp(1, 600)))
            }
            Provider::Google
                if r.status == 403 && matches!(code, Some("userRateLimitExceeded" | "rateLimitExceeded")) =>
            {
                Some(self.backoff(3))
            }
            _ => None,
        }
    }
}

/// A `Retry-After` of seconds as a wait of at most 10 minutes; one that is no number of seconds
/// (an HTTP date, `NaN`) asks for nothing, and the caller backs off as usual.
pub fn retry_after(text: &str) -> Option<Duration> {
    let s = text.trim().parse::<f64>().ok()?;
    Duration::try_from_secs_f64(s.clamp(0.0, 600.0)).ok()
}

/// Why a response that says it is JSON does not parse, if it does not. Checked without building
/// values (`IgnoredAny`), so the cost is one pass over the bytes.
fn cut_off_json(r: &Response) -> Option<String> {
    let json = r.header("Content-Type").is_some_and(|t| t.to_ascii_lowercase().contains("json"));
    if !json {
        return None;
    }
    serde_json::from_slice::<serde::de::IgnoredAny>(&r.body).err().map(|e| e.to_string())
}

fn transport(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(_) => "timed out".into(),
        ureq::Error::Io(io) => format!("connection failed: {}", io.kind()),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        ureq::Error::HostNotFound => "host not found".into(),
        other => format!("transport error: {other}"),
    }
}

/// The provider's error code and message from an error body, if it has the provider's shape.
fn error_code(provider: Provider, r: &Response) -> (Option<String>, String) {
    // Error bodies are small; a big one is no provider's error shape, and is not parsed.
    if r.body.len() > 64 * 1024 {
        return (None, format!("an error body of {} bytes, not quoted", r.body.len()));
    }
    let Ok(v) = serde_json::from_slice::<Value>(&r.body) else { return (None, String::new()) };
    // A provider's message is quoted, never its whole body, and only so much of it.
    let text = |v: Option<&Value>| {
        v.and_then(Value::as_str).map(|s| crate::redact::shorten(s, crate::redact::PROVIDER_TEXT_CHARS))
    };
    // OAuth token endpoints answer {"error": "...", "error_description": "..."} for every provider.
    if let Some(code) = text(v.get("error")) {
        return (Some(code), text(v.get("error_description")).unwrap_or_default());
    }
    match provider {
        Provider::Entra => (text(v.pointer("/error/code")), text(v.pointer("/error/message")).unwrap_or_default()),
        Provider::Okta => (text(v.get("errorCode")), text(v.get("errorSummary")).unwrap_or_default()),
        Provider::Google => (
            text(v.pointer("/error/errors/0/reason")).or_else(|| text(v.pointer("/error/status"))),
            text(v.pointer("/error/message")).unwrap_or_default(),
        ),
        // RFC 7644 §3.12: {"schemas": [...:Error], "status": "400", "scimType": "invalidFilter",
        // "detail": "..."}; scimType is there for 400s only.
        Provider::Scim => (text(v.get("scimType")), text(v.get("detail")).unwrap_or_default()),
        // Keycloak's admin errors: {"errorMessage": "..."} (and {"error": ...} as above).
        Provider::Keycloak => (None, text(v.get("errorMessage")).unwrap_or_default()),
        // OneLogin v2: {"statusCode", "name", "message"}; its token endpoint: {"status": {"type",
        // "message"}}.
        // Any API: a `message` or `error`/`detail` text, where there is one.
        Provider::Rest => (None, text(v.get("message")).or_else(|| text(v.get("detail"))).unwrap_or_default()),
        Provider::OneLogin => (
            text(v.get("name")).or_else(|| text(v.pointer("/status/type"))),
            text(v.get("message")).or_else(|| text(v.pointer("/status/message"))).unwrap_or_default(),
        ),
    }
}

/// A small, dependency-free jitter source; quality does not matter, spreading retries does.
fn jitter(bound: u64) -> u64 {
    let nanos = Instant::now().elapsed().as_nanos() as u64
        ^ SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos() as u64).unwrap_or(7);
    let mut x = nanos.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (std::process::id() as u64);
    x ^= x >> 33;
    x % bound.max(1)
}

/// Percent-encodes a query parameter value (`status eq "X"` → `status%20eq%20%22X%22`).
pub fn query_value(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Accepts `https://` anywhere and `http://` only on loopback (emulators, tests).
pub fn check_url(url: &str) -> Result<(), String> {
    let Some((scheme, rest)) = url.split_once("://") else { return Err(format!("'{url}' is not a URL")) };
    let host = rest.split(['/', '?']).next().unwrap_or("");
    let host = host.rsplit_once('@').map(|(_, h)| h).unwrap_or(host);
    let name = if host.starts_with('[') {
        host.split(']').next().map(|h| &h[1..]).unwrap_or("")
    } else {
        host.split(':').next().unwrap_or("")
    };
    match scheme {
        "https" if !name.is_empty() => Ok(()),
        "http" if name == "localhost" || name == "::1" || name.starts_with("127.") => Ok(()),
        "http" => Err(format!("'{url}': plain http is accepted only for loopback addresses; use https")),
        _ => Err(format!("'{url}': expected an https:// URL")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Header names match without case, a header sent on several lines (Okta's two `Link`
    /// lines) gives every value in order, and a value that is not visible ASCII is left out.
    #[test]
    fn headers_are_found_without_case_and_every_line_counts() {
        use ureq::http::{HeaderName, HeaderValue};
        let mut headers = ureq::http::HeaderMap::new();
        let link = HeaderName::from_static("link");
        headers.append(link.clone(), HeaderValue::from_static("<https://a/users?after=1>; rel=\"self\""));
        headers.append(link, HeaderValue::from_static("<https://a/users?after=2>; rel=\"next\""));
        headers.append("retry-after", HeaderValue::from_static("7"));
        headers.append("x-note", HeaderValue::from_bytes("caf\u{e9}".as_bytes()).unwrap());
        let r = Response { status: 200, headers, body: Vec::new() };
        assert_eq!(r.header_values("Link").collect::<Vec<_>>().len(), 2);
        assert!(r.header_values("LINK").nth(1).is_some_and(|v| v.contains("next")));
        assert_eq!(r.header("Retry-After"), Some("7"));
        assert_eq!(r.header("X-Note"), None);
        assert_eq!(r.header("not a header name"), None);
    }

    #[test]
    fn a_body_is_checked_as_utf8_once_and_a_cut_character_is_a_cut_body() {
        let read = |b: &[u8]| match read_json::<Value>(b) {
            Ok(v) => Ok(v),
            Err(Unread::CutOff(e)) => Err(format!("cut: {e}")),
            Err(Unread::Invalid(e)) => Err(format!("invalid: {e}")),
        };
        assert_eq!(read("{\"n\": \"García\"}".as_bytes()).unwrap()["n"], "García");
        let whole = "{\"n\": \"García\"}".as_bytes();
        // Cut between the two bytes of 'í': the body stops inside a character.
        let cut = &whole[..whole.iter().position(|&b| b == 0xC3).unwrap() + 1];
        assert_eq!(read(cut).unwrap_err(), "cut: the body stops inside a character at byte 11");
        assert!(read(b"{\"n\": \"Garc").unwrap_err().starts_with("cut: EOF while parsing a string"));
        assert_eq!(read(b"{\"n\": \"\xff\"}").unwrap_err(), "invalid: the body is not UTF-8 at byte 7");
        assert!(read(b"{\"n\": 1,}").unwrap_err().starts_with("invalid: trailing comma"));
    }

    #[test]
    fn urls() {
        assert!(check_url("https://graph.microsoft.com").is_ok());
        assert!(check_url("http://127.0.0.1:8080/x").is_ok());
        assert!(check_url("http://localhost:1").is_ok());
        assert!(check_url("http://[::1]:1").is_ok());
        assert!(check_url("http://graph.microsoft.com").unwrap_err().contains("only for loopback"));
        assert!(check_url("ftp://x").is_err());
        assert_eq!(endpoint("https://h/v1.0/users?$top=999"), "/v1.0/users");
        assert_eq!(endpoint("http://127.0.0.1:9/t/oauth2/v2.0/token"), "/t/oauth2/v2.0/token");
    }

    #[test]
    fn errors_read_like_the_issue_says() {
        let e = HttpError {
            provider: "entra",
            method: "GET",
            endpoint: "/v1.0/users".into(),
            status: Some(403),
            code: Some("Authorization_RequestDenied".into()),
            detail: "grant User.Read.All".into(),
        };
        assert_eq!(e.to_string(), "entra: GET /v1.0/users: 403 Authorization_RequestDenied (grant User.Read.All)");
    }

    #[test]
    fn a_retry_after_that_is_no_number_of_seconds_asks_for_no_wait() {
        assert_eq!(retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(retry_after("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(retry_after("-3"), Some(Duration::ZERO));
        assert_eq!(retry_after("1e9"), Some(Duration::from_secs(600)));
        assert_eq!(retry_after("inf"), Some(Duration::from_secs(600)));
        // `Duration::from_secs_f64` panics on NaN: a server must not be able to stop the host.
        assert_eq!(retry_after("NaN"), None);
        assert_eq!(retry_after("Wed, 21 Oct 2026 07:28:00 GMT"), None);
    }
}
