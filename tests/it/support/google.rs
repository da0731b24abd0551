//! A stateful subset of Google's OAuth token endpoint and the Admin SDK Directory API, after the
//! documentation: JWT-bearer tokens (RS256, verified against the service account's key, with the
//! impersonated subject), `users.list` with `customer`, `maxResults` (at most 500) and
//! `pageToken`, groups and members with `includeDerivedMembership`, Google's error body and the
//! 403 `userRateLimitExceeded` throttling answer.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use serde_json::{json, Value};

use super::http_server::{HttpRequest, HttpResponse, Server};

pub const ADMIN: &str = "admin@example.org";
pub const CLIENT_EMAIL: &str = "usersync@test-project.iam.gserviceaccount.com";
/// A key made for these tests only (tests/it/support/google-test-key.pem).
pub const KEY_PEM: &str = include_str!("google-test-key.pem");

pub struct State {
    pub users: Vec<Value>,
    /// (id, name, member user ids, nested group ids)
    pub groups: Vec<(String, String, Vec<String>, Vec<String>)>,
    pub requests: BTreeMap<String, usize>,
    /// Domain-wide delegation granted for the scopes.
    pub delegated: bool,
    /// The subject may read the directory (an administrator).
    pub admin_rights: bool,
    pub throttle: usize,
    pub fail_page: Option<usize>,
    /// The `fields` selector of the last users request.
    pub last_fields: Option<String>,
    /// Answer the token request with an error that quotes it (the signed assertion included).
    pub echo_token: bool,
}

pub struct Google {
    pub state: Arc<Mutex<State>>,
    pub server: Server,
}

impl Google {
    pub fn start(users: usize, groups: usize) -> Google {
        let list = (0..users)
            .map(|i| {
                let mut u = json!({
                    "kind": "admin#directory#user",
                    "id": format!("1{i:020}"),
                    "etag": format!("\"etag-{i}\""),
                    "primaryEmail": format!("g{i}@example.org"),
                    "name": { "givenName": "G", "familyName": format!("User{i}"), "fullName": format!("G User{i}") },
                    "suspended": i % 40 == 39,
                    "archived": i % 97 == 96,
                    "organizations": [{ "title": "Editor", "department": format!("Desk {}", i % 3), "primary": true }],
                });
                // One user in twenty has a photo.
                if i % 20 == 0 {
                    u["thumbnailPhotoEtag"] = json!(format!("\"photo-{i}-v1\""));
                }
                if i >= 5 {
                    u["relations"] = json!([{ "value": format!("g{}@example.org", i % 5), "type": "manager" }]);
                }
                u
            })
            .collect();
        let groups = (0..groups)
            .map(|g| {
                let members = (0..users).filter(|i| i % groups == g).map(|i| format!("1{i:020}")).collect();
                (format!("0g{g:015}"), format!("Google Group {g}"), members, vec![])
            })
            .collect();
        let state = Arc::new(Mutex::new(State {
            users: list,
            groups,
            requests: BTreeMap::new(),
            delegated: true,
            admin_rights: true,
            throttle: 0,
            fail_page: None,
            last_fields: None,
            echo_token: false,
        }));
        let s = state.clone();
        let server = Server::start(Arc::new(move |req| handle(&s, req)));
        Google { state, server }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    pub fn count(&self, endpoint: &str) -> usize {
        self.state.lock().unwrap().requests.get(endpoint).copied().unwrap_or(0)
    }

    /// Writes the service account key file the connector reads, pointing at this emulator.
    pub fn write_key(&self, path: &Path) {
        let key = json!({
            "type": "service_account",
            "project_id": "test-project",
            "private_key_id": "test",
            "private_key": KEY_PEM,
            "client_email": CLIENT_EMAIL,
            "client_id": "1234567890",
            "token_uri": format!("{}/token", self.url()),
        });
        std::fs::write(path, key.to_string()).unwrap();
    }

    pub fn source(&self, key_file: &str) -> Value {
        json!({
            "credentials_file": key_file,
            "subject": ADMIN,
            "api_url": self.url(),
            "http": { "retry_base_ms": 10, "timeout_seconds": 5 }
        })
    }
}

fn google_error(status: u16, reason: &str, message: &str) -> HttpResponse {
    HttpResponse::json(
        status,
        &json!({ "error": { "code": status, "message": message, "errors": [{ "domain": "global", "reason": reason, "message": message }] } }),
    )
}

fn b64(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).ok()
}

/// The claims of a JWT signed (RS256) with the test key, or `None`.
pub fn verify_jwt(assertion: &str) -> Option<Value> {
    let parts: Vec<&str> = assertion.split('.').collect();
    let [_, claims, _] = parts.as_slice() else { return None };
    let audience: Value = serde_json::from_slice(&b64(claims)?).ok()?;
    verify(assertion, audience["aud"].as_str()?).ok()
}

/// Checks the JWT assertion: RS256 over header.claims with the service account's key.
fn verify(assertion: &str, audience: &str) -> Result<Value, &'static str> {
    let parts: Vec<&str> = assertion.split('.').collect();
    let [header, claims, signature] = parts.as_slice() else { return Err("malformed") };
    let header: Value = serde_json::from_slice(&b64(header).ok_or("header")?).map_err(|_| "header")?;
    if header["alg"] != "RS256" {
        return Err("alg");
    }
    let der = ureq::tls::parse_pem(KEY_PEM.as_bytes())
        .find_map(|i| match i {
            Ok(ureq::tls::PemItem::PrivateKey(k)) => Some(k.der().to_vec()),
            _ => None,
        })
        .unwrap();
    let pair = ring::signature::RsaKeyPair::from_pkcs8(&der).unwrap();
    let public =
        ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, pair.public().as_ref());
    public
        .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &b64(signature).ok_or("signature")?)
        .map_err(|_| "signature")?;
    let claims: Value = serde_json::from_slice(&b64(claims).ok_or("claims")?).map_err(|_| "claims")?;
    if claims["aud"] != audience {
        return Err("claims");
    }
    Ok(claims)
}

fn handle(state: &Arc<Mutex<State>>, req: &HttpRequest) -> HttpResponse {
    let mut s = state.lock().unwrap();
    let parts: Vec<&str> = req.path.split('/').collect();
    let key = match parts.as_slice() {
        ["", "admin", "directory", "v1", "users", _] => "GET /admin/directory/v1/users/{id}".into(),
        ["", "admin", "directory", "v1", "users", _, "photos", "thumbnail"] => {
            "GET /admin/directory/v1/users/{id}/photos/thumbnail".into()
        }
        ["", "admin", "directory", "v1", "groups", _, "members"] => {
            "GET /admin/directory/v1/groups/{id}/members".into()
        }
        _ => format!("{} {}", req.method, req.path),
    };
    *s.requests.entry(key.clone()).or_default() += 1;
    if key == "POST /token" && s.echo_token {
        // An OAuth error body (RFC 6749 §5.2), its description quoting the request.
        return super::http_server::echo(req, 400, |q| json!({ "error": "invalid_grant", "error_description": q }));
    }
    if key == "POST /token" {
        let form: BTreeMap<String, String> = req.form().into_iter().collect();
        let audience = format!("http://{}/token", req.header("Host").unwrap_or("127.0.0.1"));
        let claims = match verify(form.get("assertion").map(String::as_str).unwrap_or(""), &audience) {
            Ok(c) if c["iss"] == CLIENT_EMAIL => c,
            _ => {
                return HttpResponse::json(
                    400,
                    &json!({ "error": "invalid_grant", "error_description": "Invalid JWT Signature." }),
                )
            }
        };
        if claims["sub"] != ADMIN {
            return HttpResponse::json(
                400,
                &json!({ "error": "invalid_grant", "error_description": "Invalid email or User ID" }),
            );
        }
        if !s.delegated || !claims["scope"].as_str().unwrap_or("").contains("admin.directory.user.readonly") {
            return HttpResponse::json(
                401,
                &json!({ "error": "unauthorized_client", "error_description": "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested." }),
            );
        }
        return HttpResponse::json(
            200,
            &json!({ "access_token": "ya29.test-token", "expires_in": 3599, "token_type": "Bearer" }),
        );
    }
    if req.header("Authorization") != Some("Bearer ya29.test-token") {
        return google_error(401, "authError", "Invalid Credentials");
    }
    if s.throttle > 0 {
        s.throttle -= 1;
        return google_error(403, "userRateLimitExceeded", "User Rate Limit Exceeded");
    }
    if !s.admin_rights {
        return google_error(403, "forbidden", "Not Authorized to access this resource/api");
    }
    let max: usize = req.param("maxResults").and_then(|m| m.parse().ok()).unwrap_or(100);
    let offset: usize =
        req.param("pageToken").and_then(|t| t.strip_prefix('p')).and_then(|t| t.parse().ok()).unwrap_or(0);
    let page = |key: &str, items: Vec<Value>, limit: usize| -> HttpResponse {
        let total = items.len();
        let body: Vec<Value> = items.into_iter().skip(offset).take(limit).collect();
        let mut out = json!({ "kind": "admin#directory#list", "etag": "\"list\"" });
        out[key] = Value::Array(body);
        if offset + limit < total {
            out["nextPageToken"] = json!(format!("p{}", offset + limit));
        }
        HttpResponse::json(200, &out)
    };
    match key.as_str() {
        "GET /admin/directory/v1/users" => {
            if req.param("customer") != Some("my_customer") {
                return google_error(400, "invalid", "Bad Request");
            }
            if max > 500 {
                return google_error(400, "invalid", "Invalid value for: maxResults");
            }
            if s.fail_page == Some(offset / max + 1) {
                return google_error(503, "backendError", "Backend Error");
            }
            let users: Vec<Value> = match (req.param("projection"), req.param("customFieldMask")) {
                (Some("custom"), Some(mask)) => s
                    .users
                    .iter()
                    .map(|u| {
                        let mut u = u.clone();
                        u["customSchemas"] =
                            json!({ mask: { "costCenter": format!("CC-{}", &u["id"].as_str().unwrap()[17..]) } });
                        u
                    })
                    .collect(),
                _ => s.users.clone(),
            };
            // `fields=nextPageToken,users(a,b,...)`: a partial response with those user fields.
            s.last_fields = req.param("fields").map(str::to_string);
            let wanted: Option<Vec<String>> = req
                .param("fields")
                .and_then(|f| f.split_once("users(").map(|(_, rest)| rest.trim_end_matches(')').to_string()))
                .map(|list| list.split(',').map(str::to_string).collect());
            let users = match wanted {
                Some(fields) => users
                    .into_iter()
                    .map(|u| {
                        let o: serde_json::Map<String, Value> = u
                            .as_object()
                            .unwrap()
                            .iter()
                            .filter(|(k, _)| fields.contains(k))
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect();
                        Value::Object(o)
                    })
                    .collect(),
                None => users,
            };
            page("users", users, max)
        }
        "GET /admin/directory/v1/users/{id}/photos/thumbnail" => {
            let Some(u) = s.users.iter().find(|u| u["id"] == parts[5]) else {
                return google_error(404, "notFound", "Resource Not Found: userKey");
            };
            let Some(etag) = u.get("thumbnailPhotoEtag").and_then(Value::as_str) else {
                return google_error(404, "notFound", "Not Found");
            };
            let image = format!("JPEG bytes of {} {etag}", parts[5]);
            HttpResponse::json(
                200,
                &json!({
                    "kind": "admin#directory#user#photo",
                    "id": parts[5],
                    "mimeType": "JPEG",
                    "photoData": base64::engine::general_purpose::URL_SAFE.encode(image.as_bytes()),
                    "etag": etag,
                }),
            )
        }
        "GET /admin/directory/v1/users/{id}" => match s.users.iter().find(|u| u["id"] == parts[5]) {
            Some(u) => HttpResponse::json(200, u),
            None => google_error(404, "notFound", "Resource Not Found: userKey"),
        },
        "GET /admin/directory/v1/groups" if req.param("userKey").is_some() => {
            let user = req.param("userKey").unwrap_or_default().to_string();
            let groups = s
                .groups
                .iter()
                .filter(|g| g.2.contains(&user))
                .map(|(id, name, _, _)| json!({ "id": id, "name": name, "email": format!("{id}@example.org") }))
                .collect();
            page("groups", groups, max.min(200))
        }
        "GET /admin/directory/v1/groups" => {
            let groups = s
                .groups
                .iter()
                .map(|(id, name, _, _)| json!({ "id": id, "name": name, "email": format!("{id}@example.org") }))
                .collect();
            page("groups", groups, max.min(200))
        }
        "GET /admin/directory/v1/groups/{id}/members" => {
            let Some(group) = s.groups.iter().find(|g| g.0 == parts[5]).cloned() else {
                return google_error(404, "notFound", "Resource Not Found: groupKey");
            };
            let derived = req.param("includeDerivedMembership") == Some("true");
            let mut members: Vec<Value> =
                group.2.iter().map(|m| json!({ "id": m, "type": "USER", "role": "MEMBER" })).collect();
            for nested in &group.3 {
                members.push(json!({ "id": nested, "type": "GROUP", "role": "MEMBER" }));
                if derived {
                    if let Some(n) = s.groups.iter().find(|g| &g.0 == nested) {
                        members.extend(n.2.iter().map(|m| json!({ "id": m, "type": "USER", "role": "MEMBER" })));
                    }
                }
            }
            page("members", members, max.min(200))
        }
        _ => google_error(404, "notFound", "Not Found"),
    }
}
