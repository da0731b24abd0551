//! Google Workspace through the Admin SDK Directory API: a service account signs a JWT (RS256)
//! for an impersonated administrator, `users.list` pages of 500 with `pageToken`, suspended or
//! archived users inactive, groups and members (`includeDerivedMembership` for nested groups),
//! and the manager from `relations`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

use super::http::{endpoint, query_value, Http, HttpError, Request};
use super::jwt::{self, Signer};
use super::{CheckStep, Connector, Listing, RowError, SourceError};
use crate::config::{GoogleSource, GroupMembership, GroupRules};
use crate::mapping::group_matters;
use crate::model::{Attributes, SourceUser};

const SCOPES: &str = "https://www.googleapis.com/auth/admin.directory.user.readonly \
                      https://www.googleapis.com/auth/admin.directory.group.readonly";
const USERS_PAGE: u32 = 500;
const GROUPS_PAGE: u32 = 200;

/// The parts of a service account key file the connector uses.
struct ServiceAccount {
    client_email: String,
    signer: Signer,
    token_uri: String,
}

pub(super) struct GoogleConnector {
    settings: GoogleSource,
    credentials: PathBuf,
    http: Http,
    account: Option<ServiceAccount>,
    token: Option<(String, Instant)>,
    group_rules: GroupRules,
    /// The `fields` partial-response selector: what the mapping reads plus what the connector needs.
    fields: String,
}

impl GoogleConnector {
    pub fn new(
        settings: GoogleSource,
        credentials: PathBuf,
        http: Http,
        group_rules: GroupRules,
        paths: &std::collections::BTreeSet<String>,
    ) -> Self {
        let mut top: std::collections::BTreeSet<&str> =
            ["id", "etag", "primaryEmail", "suspended", "archived", "thumbnailPhotoEtag", "relations"].into();
        // `manager.*` is derived from `relations`, which is always read.
        top.extend(paths.iter().map(|p| p.split('.').next().unwrap_or(p)).filter(|p| *p != "manager"));
        let fields = format!("nextPageToken,users({})", top.into_iter().collect::<Vec<_>>().join(","));
        GoogleConnector { settings, credentials, http, account: None, token: None, group_rules, fields }
    }

    /// Reads the key file. Errors name the file and the problem, never the key.
    fn account(&mut self) -> Result<&ServiceAccount, String> {
        if self.account.is_none() {
            let path = self.credentials.display().to_string();
            let text =
                std::fs::read_to_string(&self.credentials).map_err(|e| format!("google: cannot read {path}: {e}"))?;
            let v: Value = serde_json::from_str(&text)
                .map_err(|_| format!("google: {path} is not a service account key file (not JSON)"))?;
            let field = |name: &str| {
                v.get(name).and_then(Value::as_str).map(str::to_string).ok_or_else(|| {
                    format!("google: {path} has no '{name}'; download a JSON key for the service account")
                })
            };
            let pem = field("private_key")?;
            let signer = Signer::from_pem(&pem, &format!("google: the private_key in {path}"))?;
            let token_uri = match &self.settings.token_url {
                Some(url) => url.clone(),
                None => field("token_uri").unwrap_or_else(|_| "https://oauth2.googleapis.com/token".into()),
            };
            crate::connector::http::check_url(&token_uri).map_err(|e| format!("google: token_uri {e}"))?;
            self.account = Some(ServiceAccount { client_email: field("client_email")?, signer, token_uri });
        }
        Ok(self.account.as_ref().expect("set above"))
    }

    /// The signed JWT assertion for the token request (RFC 7523, as Google documents it).
    fn assertion(&mut self) -> Result<(String, String), String> {
        let subject = self.settings.subject.clone();
        let account = self.account()?;
        let now = jwt::now();
        let claims = json!({
            "iss": account.client_email,
            "sub": subject,
            "scope": SCOPES,
            "aud": account.token_uri,
            "iat": now,
            "exp": now + 3600,
        });
        let assertion = account.signer.sign(&claims).map_err(|e| format!("google: {e}"))?;
        Ok((assertion, account.token_uri.clone()))
    }

    fn token(&mut self) -> Result<String, String> {
        if let Some((token, until)) = &self.token {
            if Instant::now() < *until {
                return Ok(token.clone());
            }
        }
        let (assertion, url) = self.assertion()?;
        let form =
            vec![("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer".to_string()), ("assertion", assertion)];
        let resp = self.http.send(&Request::post_form(url.clone(), form)).map_err(|mut e| {
            // Google's token errors are OAuth errors, not API errors.
            e.detail = token_hint(&e, &self.settings.subject);
            e.to_string()
        })?;
        let v = resp.json().map_err(|d| format!("google: POST {}: {d}", endpoint(&url)))?;
        let token = v
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("google: POST {}: no access_token in the answer", endpoint(&url)))?
            .to_string();
        let lifetime = v.get("expires_in").and_then(Value::as_u64).unwrap_or(3600);
        self.token = Some((token.clone(), Instant::now() + Duration::from_secs(lifetime - 60.min(lifetime / 2))));
        Ok(token)
    }

    fn get(&mut self, url: &str) -> Result<Value, String> {
        for attempt in 0..2 {
            let token = self.token()?;
            let req = Request::get(url.to_string()).header("Authorization", format!("Bearer {token}"));
            match self.http.send(&req) {
                Ok(resp) => return resp.json().map_err(|d| format!("google: GET {}: {d}", endpoint(url))),
                Err(e) if e.status == Some(401) && attempt == 0 => self.token = None,
                Err(mut e) => {
                    if e.status == Some(403) {
                        e.detail = format!(
                            "the subject {} must be an administrator allowed to read users and groups; {}",
                            self.settings.subject, e.detail
                        );
                    }
                    return Err(e.to_string());
                }
            }
        }
        unreachable!("the loop returns on its second attempt")
    }

    /// Hands every item under `key` to `each`, across pages linked by `nextPageToken`: how many
    /// it handed over, and the error that stopped the read early, if one did.
    fn each(&mut self, first: &str, key: &str, each: &mut dyn FnMut(Value)) -> (usize, Option<String>) {
        let mut handed = 0;
        let mut token: Option<String> = None;
        loop {
            let url = match &token {
                Some(t) => format!("{first}&pageToken={}", query_value(t)),
                None => first.to_string(),
            };
            let mut page = match self.get(&url) {
                Ok(p) => p,
                Err(e) => return (handed, Some(e)),
            };
            if let Some(Value::Array(list)) = page.get_mut(key).map(Value::take) {
                handed += list.len();
                list.into_iter().for_each(&mut *each);
            }
            token = page.get("nextPageToken").and_then(Value::as_str).map(str::to_string);
            if token.is_none() {
                return (handed, None);
            }
        }
    }

    /// Every item under `key` across pages (`each`, collected); stops at the first error.
    fn all(&mut self, first: &str, key: &str) -> (Vec<Value>, Option<String>) {
        let mut items = Vec::new();
        let (_, error) = self.each(first, key, &mut |v| items.push(v));
        (items, error)
    }

    fn base(&self) -> String {
        format!("{}/admin/directory/v1", self.settings.api_url)
    }

    fn memberships(&mut self) -> Result<HashMap<String, Vec<String>>, String> {
        let derived = match self.settings.groups {
            GroupMembership::None => return Ok(HashMap::new()),
            GroupMembership::Direct => false,
            GroupMembership::Transitive => true,
        };
        let base = self.base();
        let customer = query_value(&self.settings.customer);
        let (groups, error) =
            self.all(&format!("{base}/groups?customer={customer}&maxResults={GROUPS_PAGE}"), "groups");
        if let Some(e) = error {
            return Err(e);
        }
        let mut by_user: HashMap<String, Vec<String>> = HashMap::new();
        for g in groups {
            let (Some(id), Some(name)) = (g.get("id").and_then(Value::as_str), g.get("name").and_then(Value::as_str))
            else {
                continue;
            };
            if !group_matters(&self.group_rules, name) {
                continue;
            }
            let url = format!("{base}/groups/{id}/members?maxResults={GROUPS_PAGE}&includeDerivedMembership={derived}");
            let (members, error) = self.all(&url, "members");
            if let Some(e) = error {
                return Err(e);
            }
            for m in members.iter().filter(|m| m.get("type").and_then(Value::as_str) == Some("USER")) {
                if let Some(uid) = m.get("id").and_then(Value::as_str) {
                    by_user.entry(uid.to_string()).or_default().push(name.to_string());
                }
            }
        }
        Ok(by_user)
    }
}

fn token_hint(e: &HttpError, subject: &str) -> String {
    let detail = e.detail.clone();
    match e.code.as_deref() {
        Some("unauthorized_client") => format!(
            "authorise the service account's client id for the directory read-only scopes in domain-wide delegation; {detail}"
        ),
        Some("invalid_grant") => format!("check that {subject} is an existing administrator; {detail}"),
        _ => detail,
    }
}

pub(super) fn source_user(v: Value) -> Option<SourceUser> {
    let Value::Object(mut obj) = v else { return None };
    let id = obj.get("id").and_then(Value::as_str)?.to_string();
    let flag = |name: &str| obj.get(name).and_then(Value::as_bool).unwrap_or(false);
    let active = !flag("suspended") && !flag("archived");
    let manager = obj
        .get("relations")
        .and_then(Value::as_array)
        .and_then(|r| r.iter().find(|r| r.get("type").and_then(Value::as_str) == Some("manager")))
        .and_then(|r| r.get("value"))
        .and_then(Value::as_str)
        .map(str::to_string);
    if let Some(m) = &manager {
        // Exposed to the mapping as `manager.email`, like Entra's `manager.*`.
        obj.insert("manager".into(), json!({ "email": m }));
    }
    let version = obj.get("etag").and_then(Value::as_str).map(str::to_string);
    let photo_etag = Some(obj.get("thumbnailPhotoEtag").and_then(Value::as_str).map(str::to_string));
    Some(SourceUser {
        location: format!("google user {id}"),
        id,
        attributes: Attributes::from(obj),
        active,
        groups: Vec::new(),
        manager,
        photo_etag,
        version,
    })
}

impl Connector for GoogleConnector {
    fn fetch(&mut self) -> Result<Listing, SourceError> {
        super::rows::collected(|each| self.fetch_each(each))
    }

    /// Memberships first, so that each user goes on, with its groups, as soon as its page is
    /// read: the listing is never held as records.
    fn fetch_each(&mut self, each: &mut dyn FnMut(SourceUser)) -> Result<Listing, SourceError> {
        let groups = self.memberships().map_err(SourceError::Unreadable)?;
        let mut listing = Listing { complete: true, ..Listing::default() };
        let customer = query_value(&self.settings.customer);
        let projection = match self.settings.custom_schemas.as_slice() {
            [] => "projection=full".to_string(),
            schemas => format!("projection=custom&customFieldMask={}", query_value(&schemas.join(","))),
        };
        let url = format!(
            "{}/users?customer={customer}&maxResults={USERS_PAGE}&{projection}&fields={}",
            self.base(),
            query_value(&self.fields)
        );
        let mut hand = |v: Value| {
            if let Some(mut user) = source_user(v) {
                if let Some(g) = groups.get(&user.id) {
                    user.groups = g.clone();
                }
                each(user);
            }
        };
        match self.each(&url, "users", &mut hand) {
            (_, None) => {}
            (0, Some(e)) => return Err(SourceError::Unreadable(e)),
            (read, Some(e)) => {
                listing.incomplete(RowError {
                    idp_id: None,
                    location: "google: GET /admin/directory/v1/users".into(),
                    message: format!("the user listing stopped after {read} users: {e}"),
                });
            }
        }
        Ok(listing)
    }

    /// `users.get` and `groups.list?userKey=`, for a login. Nested memberships need the full
    /// listing (`includeDerivedMembership` exists only per group), so transitive mode reads all.
    fn fetch_one(&mut self, id: &str) -> Result<Option<Listing>, SourceError> {
        if self.settings.groups == GroupMembership::Transitive {
            return Ok(None);
        }
        let base = self.base();
        let key = query_value(id);
        let projection = match self.settings.custom_schemas.as_slice() {
            [] => "projection=full".to_string(),
            schemas => format!("projection=custom&customFieldMask={}", query_value(&schemas.join(","))),
        };
        let token = self.token().map_err(SourceError::Unreadable)?;
        let req =
            Request::get(format!("{base}/users/{key}?{projection}")).header("Authorization", format!("Bearer {token}"));
        let user = match self.http.send(&req) {
            Ok(resp) => resp.json().map_err(SourceError::Unreadable)?,
            Err(e) if e.status == Some(404) => return Ok(Some(Listing { complete: true, ..Listing::default() })),
            Err(e) => return Err(SourceError::Unreadable(e.to_string())),
        };
        let Some(mut user) = source_user(user) else { return Ok(Some(Listing::default())) };
        if self.settings.groups == GroupMembership::Direct {
            let (groups, error) = self.all(&format!("{base}/groups?userKey={key}&maxResults={GROUPS_PAGE}"), "groups");
            if let Some(e) = error {
                return Err(SourceError::Unreadable(e));
            }
            user.groups =
                groups.iter().filter_map(|g| g.get("name").and_then(Value::as_str).map(str::to_string)).collect();
        }
        Ok(Some(Listing { users: vec![user], complete: true, ..Listing::default() }))
    }

    /// `users.photos.get`: the thumbnail as web-safe base64; 404 means no photo.
    fn photo(&mut self, id: &str) -> Result<Option<Vec<u8>>, SourceError> {
        let url = format!("{}/users/{}/photos/thumbnail", self.base(), query_value(id));
        let token = self.token().map_err(SourceError::Unreadable)?;
        let req = Request::get(url).header("Authorization", format!("Bearer {token}"));
        let resp = match self.http.send(&req) {
            Ok(r) => r,
            Err(e) if e.status == Some(404) => return Ok(None),
            Err(e) => return Err(SourceError::Unreadable(e.to_string())),
        };
        let v = resp.json().map_err(SourceError::Unreadable)?;
        let data = v.get("photoData").and_then(Value::as_str).unwrap_or_default();
        let engine = base64::engine::GeneralPurpose::new(
            &base64::alphabet::URL_SAFE,
            base64::engine::GeneralPurposeConfig::new()
                .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
        );
        let image =
            engine.decode(data).map_err(|_| SourceError::Unreadable("google: the photo is not valid base64".into()))?;
        Ok(Some(image))
    }

    fn check(&mut self) -> Vec<CheckStep> {
        let token = self.token().map(|_| "the service account may act as the subject".to_string());
        let mut steps = vec![CheckStep::new("get a token", token)];
        if steps[0].ok {
            let customer = query_value(&self.settings.customer);
            let url = format!("{}/users?customer={customer}&maxResults=1", self.base());
            steps.push(CheckStep::new("read users", self.get(&url).map(|_| "the subject may read users".into())));
        }
        steps
    }
}
