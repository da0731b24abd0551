//! `usersync serve`: the admin console for standalone use — the page and the admin API
//! (usersync::admin) on loopback by default. Every API call needs the access token (created at
//! the first start, kept owner-only in the data directory, printed that once) or the token of a
//! session opened with the admin password (`POST /api/1/login`, see password.rs); calls that
//! change something also need the CSRF token of `GET /api/1/session` and, when the browser
//! sends an Origin, the server's own origin.

use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ring::rand::SecureRandom;
use tiny_http::{Header, Method, Request, Response, Server};
use usersync::admin::{page, AdminApi, ApiRequest, ApiResponse};

use crate::password::Sessions;

/// Requests larger than a configuration may be are refused before they are read.
const MAX_BODY: usize = 1024 * 1024;
/// Requests answered at once; more wait in the listener's queue.
const WORKERS: usize = 8;

/// The access token and the CSRF token derived from it.
pub struct Tokens {
    access: String,
    csrf: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

use usersync::redact::same_secret as same;

impl Tokens {
    /// The token in `<data dir>/admin-token`, made (0600) when missing; true when just made.
    pub fn load_or_create(data_dir: &Path) -> std::io::Result<(Tokens, bool)> {
        let file = data_dir.join("admin-token");
        let (access, created) = match std::fs::read_to_string(&file) {
            Ok(t) if t.trim().len() >= 32 => (t.trim().to_string(), false),
            _ => {
                let mut bytes = [0u8; 32];
                ring::rand::SystemRandom::new()
                    .fill(&mut bytes)
                    .map_err(|_| std::io::Error::other("no random numbers from the operating system"))?;
                let token = hex(&bytes);
                usersync::private_file::create_dir(data_dir)?;
                usersync::private_file::write(&file, token.as_bytes())?;
                (token, true)
            }
        };
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, access.as_bytes());
        let csrf = hex(ring::hmac::sign(&key, b"usersync admin csrf").as_ref());
        Ok((Tokens { access, csrf }, created))
    }
}

fn header<'a>(request: &'a Request, name: &'static str) -> Option<&'a str> {
    request.headers().iter().find(|h| h.field.equiv(name)).map(|h| h.value.as_str())
}

fn reply(request: Request, answer: &ApiResponse, extra: &[(&str, &str)]) {
    let mut response = Response::from_data(answer.body.clone()).with_status_code(answer.status);
    let mut headers = vec![
        ("Content-Type", answer.content_type.to_string()),
        ("X-Content-Type-Options", "nosniff".to_string()),
        ("Cache-Control", "no-store".to_string()),
        ("Referrer-Policy", "no-referrer".to_string()),
    ];
    if let Some(name) = &answer.filename {
        headers.push(("Content-Disposition", format!("attachment; filename=\"{name}\"")));
    }
    for (k, v) in extra {
        headers.push((k, v.to_string()));
    }
    for (k, v) in headers {
        if let Ok(h) = Header::from_bytes(k.as_bytes(), v.as_bytes()) {
            response.add_header(h);
        }
    }
    // A client that went away is its own business.
    let _ = request.respond(response);
}

/// The checks every API call passes: the access token or a password session's token, then (for a
/// change) the CSRF token and origin.
fn admitted(request: &Request, tokens: &Tokens, sessions: &Sessions, listen: &str) -> Result<(), ApiResponse> {
    let bearer = header(request, "Authorization").and_then(|h| h.strip_prefix("Bearer ")).unwrap_or("").trim();
    if !same(bearer, &tokens.access) && !sessions.valid(bearer) {
        return Err(ApiResponse::error(
            401,
            "sign in with the access token or the admin password (Authorization: Bearer ...)",
        ));
    }
    if matches!(request.method(), Method::Get | Method::Head) {
        return Ok(());
    }
    let csrf = header(request, "X-Usersync-Csrf").unwrap_or("");
    if !same(csrf, &tokens.csrf) {
        return Err(ApiResponse::error(403, "a change needs the CSRF token of GET /api/1/session (X-Usersync-Csrf)"));
    }
    same_origin(request, listen)
}

/// A browser says where a call comes from; a call from another origin is refused.
fn same_origin(request: &Request, listen: &str) -> Result<(), ApiResponse> {
    if let Some(origin) = header(request, "Origin") {
        let host = header(request, "Host").unwrap_or(listen);
        if origin != format!("http://{host}") {
            return Err(ApiResponse::error(403, format!("a change from another origin ({origin}) is refused")));
        }
    }
    Ok(())
}

/// The request's body, at most `MAX_BODY` bytes.
fn read_body(request: &mut Request) -> Result<Vec<u8>, ApiResponse> {
    let too_large = || ApiResponse::error(413, "the request body is larger than 1 MiB");
    if request.body_length().unwrap_or(0) > MAX_BODY {
        return Err(too_large());
    }
    let mut body = Vec::new();
    if request.as_reader().take(MAX_BODY as u64 + 1).read_to_end(&mut body).is_err() || body.len() > MAX_BODY {
        return Err(too_large());
    }
    Ok(body)
}

/// `POST /api/1/login {"password"}` → `{"token"}`: a session for the page, as the access token.
fn login(request: &mut Request, sessions: &Sessions, listen: &str) -> ApiResponse {
    if let Err(refused) = same_origin(request, listen) {
        return refused;
    }
    if !sessions.password_set() {
        return ApiResponse::error(401, "no admin password is set: run usersync serve --set-password");
    }
    let body = match read_body(request) {
        Ok(body) => body,
        Err(e) => return e,
    };
    let password = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["password"].as_str().map(str::to_string))
        .unwrap_or_default();
    match sessions.sign_in(&password) {
        // The one answer that carries a session token, to the person who signed in: built
        // without the redaction layer, which knows the token from now on.
        Some(token) => ApiResponse {
            status: 200,
            content_type: "application/json",
            body: serde_json::json!({ "token": token }).to_string().into_bytes(),
            filename: None,
        },
        None => ApiResponse::error(401, "wrong password"),
    }
}

fn handle(mut request: Request, api: &AdminApi, tokens: &Tokens, sessions: &Sessions, listen: &str) {
    let url = request.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((url.as_str(), ""));
    if path == "/api/1/login" && *request.method() == Method::Post {
        let answer = login(&mut request, sessions, listen);
        return reply(request, &answer, &[]);
    }
    if let Some(scim_path) = path.strip_prefix("/scim/v2") {
        return scim(request, api, scim_path, query, listen);
    }
    if let Some(api_path) = path.strip_prefix("/api/1") {
        if let Err(refused) = admitted(&request, tokens, sessions, listen) {
            return reply(request, &refused, &[]);
        }
        if api_path == "/session" {
            let answer = ApiResponse::json(200, &serde_json::json!({ "csrf": tokens.csrf }));
            return reply(request, &answer, &[]);
        }
        let body = match read_body(&mut request) {
            Ok(body) => body,
            Err(e) => return reply(request, &e, &[]),
        };
        let method = request.method().as_str().to_string();
        let answer = api.handle(&ApiRequest { method: &method, path: api_path, query, body: &body });
        return reply(request, &answer, &[]);
    }
    match (request.method(), page::asset(path)) {
        (Method::Get, Some((content_type, bytes))) => {
            let answer = ApiResponse { status: 200, content_type, body: bytes.to_vec(), filename: None };
            reply(request, &answer, &[("Content-Security-Policy", page::CONTENT_SECURITY_POLICY)]);
        }
        _ => reply(request, &ApiResponse::error(404, format!("nothing at {path}")), &[]),
    }
}

/// The SCIM endpoint IdPs push to (`scim-inbound` connectors): their bearer token, not the
/// console's, admits them.
fn scim(mut request: Request, api: &AdminApi, path: &str, query: &str, listen: &str) {
    let answer = match read_body(&mut request) {
        Ok(body) => {
            let host = header(&request, "Host").unwrap_or(listen).to_string();
            let base = format!("http://{host}/scim/v2");
            let auth = header(&request, "Authorization").map(str::to_string);
            let method = request.method().as_str().to_string();
            api.host().scim(&base, auth.as_deref(), &method, path, query, &body).map_err(|e| e.message)
        }
        Err(_) => Err(format!("the request body is larger than {} bytes", usersync::scim::MAX_BODY)),
    };
    let (response, challenge) = match answer {
        Ok(a) => (a.response, a.www_authenticate),
        Err(message) => {
            let e = usersync::scim::ScimError::new(if message.contains("larger") { 413 } else { 500 }, None, message);
            (usersync::scim::Response { status: e.status, body: Some(e.body()), location: None }, false)
        }
    };
    let bytes = response.body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let answer =
        ApiResponse { status: response.status, content_type: "application/scim+json", body: bytes, filename: None };
    let mut extra: Vec<(&str, &str)> = Vec::new();
    if let Some(location) = &response.location {
        extra.push(("Location", location));
    }
    if challenge {
        extra.push(("WWW-Authenticate", "Bearer realm=\"usersync SCIM\""));
    }
    reply(request, &answer, &extra);
}

/// Serves until the process is stopped. `listen` is `host:port` (port 0: any free one).
pub fn serve(api: AdminApi, data_dir: &Path, listen: &str) -> std::io::Result<()> {
    let (tokens, created) = Tokens::load_or_create(data_dir)?;
    let sessions = Sessions::load(data_dir);
    let server = Server::http(listen).map_err(|e| std::io::Error::other(format!("cannot listen on {listen}: {e}")))?;
    let bound = server.server_addr().to_ip().map(|a| a.to_string()).unwrap_or_else(|| listen.to_string());
    let kept = data_dir.join("admin-token");
    if created {
        // Printed once, to its owner, at the first start — the one line that does not pass the
        // redaction layer. The page reads the token from the link's fragment, which the
        // browser never sends to a server.
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stdout().lock(),
            "usersync admin console: open http://{bound}/#token={}\n(the access token is kept in {}; it is not printed again)",
            tokens.access,
            kept.display()
        );
    } else if sessions.password_set() {
        out!(
            "usersync admin console: open http://{bound}/ and sign in with the admin password or the token in {}",
            kept.display()
        );
    } else {
        out!("usersync admin console: open http://{bound}/ and sign in with the token in {}", kept.display());
    }
    // From here the token is a secret like any other: no log line or answer carries it.
    usersync::redact::register(&tokens.access);
    let (api, tokens, sessions, server) = (Arc::new(api), Arc::new(tokens), Arc::new(sessions), Arc::new(server));
    let busy = Arc::new(AtomicUsize::new(0));
    for request in server.incoming_requests() {
        while busy.load(Ordering::Acquire) >= WORKERS {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        busy.fetch_add(1, Ordering::AcqRel);
        let (api, tokens, sessions, busy, bound) =
            (api.clone(), tokens.clone(), sessions.clone(), busy.clone(), bound.clone());
        std::thread::spawn(move || {
            handle(request, &api, &tokens, &sessions, &bound);
            busy.fetch_sub(1, Ordering::AcqRel);
        });
    }
    Ok(())
}
