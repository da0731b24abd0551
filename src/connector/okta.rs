//! Okta: `/api/v1/users` with `limit=200` pages linked by the `Link: rel="next"` header, the
//! deprovisioned users a plain list leaves out, status values mapped to active/inactive, groups
//! and their members, and pacing on `X-Rate-Limit-Remaining`/`X-Rate-Limit-Reset`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::http::{endpoint, query_value, Http, HttpError, Request, Response};
use super::jwt::{self, Signer};
use super::{CheckStep, Connector, DeltaListing, Listing, RowError, SourceError};
use crate::config::{GroupMembership, GroupRules, OktaAuth, OktaSource};
use crate::mapping::group_matters;
use crate::model::{AttrValue, Attributes, SourceUser};

/// Okta's largest page for users and groups.
const PAGE: u32 = 200;

pub(super) struct OktaConnector {
    settings: OktaSource,
    http: Http,
    /// The private key file of an OAuth service app, resolved against the configuration.
    key_file: Option<PathBuf>,
    token: Option<(String, Instant)>,
    group_rules: GroupRules,
}

/// Scopes an OAuth service app needs.
const SCOPES: &str = "okta.users.read okta.groups.read";

/// What a paged read produced, and the error that stopped it early, if one did.
struct Paged {
    items: Vec<Value>,
    error: Option<HttpError>,
}

impl OktaConnector {
    pub fn new(settings: OktaSource, http: Http, key_file: Option<PathBuf>, group_rules: GroupRules) -> Self {
        OktaConnector { settings, http, key_file, token: None, group_rules }
    }

    /// The Authorization header: the SSWS token, or a bearer token obtained with a
    /// `private_key_jwt` client assertion (kept until shortly before it expires).
    fn authorization(&mut self) -> Result<String, HttpError> {
        let client_id = match &self.settings.auth {
            OktaAuth::ApiToken { api_token } => return Ok(format!("SSWS {}", api_token.expose())),
            OktaAuth::PrivateKeyJwt { client_id, .. } => client_id.clone(),
        };
        if let Some((token, until)) = &self.token {
            if Instant::now() < *until {
                return Ok(format!("Bearer {token}"));
            }
        }
        let url = format!("{}/oauth2/v1/token", self.settings.org_url);
        let fail = |detail: String| HttpError {
            provider: "okta",
            method: "POST",
            endpoint: endpoint(&url),
            status: None,
            code: None,
            detail,
        };
        let path = self.key_file.clone().unwrap_or_default();
        let pem = std::fs::read_to_string(&path).map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?;
        let signer = Signer::from_pem(&pem, &format!("the private key in {}", path.display())).map_err(fail)?;
        let now = jwt::now();
        let mut jti = [0u8; 16];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut jti)
            .map_err(|_| fail("no randomness".into()))?;
        let claims = json!({
            "iss": client_id, "sub": client_id, "aud": url, "iat": now, "exp": now + 300, "jti": jwt::b64(&jti),
        });
        let assertion = signer.sign(&claims).map_err(fail)?;
        let form = vec![
            ("grant_type", "client_credentials".to_string()),
            ("scope", SCOPES.to_string()),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_string()),
            ("client_assertion", assertion),
        ];
        let resp = self.http.send(&Request::post_form(url.clone(), form)).map_err(|mut e| {
            e.detail = format!("grant the service app the scopes {SCOPES} and register its public key; {}", e.detail);
            e
        })?;
        let v = resp.json().map_err(fail)?;
        let token = v.get("access_token").and_then(Value::as_str).ok_or_else(|| fail("no access_token".into()))?;
        let lifetime = v.get("expires_in").and_then(Value::as_u64).unwrap_or(3600);
        let until = Instant::now() + Duration::from_secs(lifetime - 60.min(lifetime / 2));
        self.token = Some((token.to_string(), until));
        Ok(format!("Bearer {token}"))
    }

    fn get(&mut self, url: &str) -> Result<Response, HttpError> {
        let auth = self.authorization()?;
        let req =
            Request::get(url.to_string()).header("Authorization", auth).header("Accept", "application/json".into());
        let resp = self.http.send(&req).map_err(|mut e| {
            match e.status {
                Some(401) => {
                    self.token = None;
                    e.detail = format!("check the credentials (api_token, or client_id and private key); {}", e.detail)
                }
                Some(403) => {
                    e.detail = "the API token's administrator needs at least the Read-Only Administrator role".into()
                }
                _ => {}
            }
            e
        })?;
        self.pace(&resp);
        Ok(resp)
    }

    /// Okta says how many requests are left in the window; at zero, wait for the reset rather than
    /// run into a 429.
    fn pace(&self, resp: &Response) {
        let remaining = resp.header("X-Rate-Limit-Remaining").and_then(|v| v.trim().parse::<u64>().ok());
        let reset = resp.header("X-Rate-Limit-Reset").and_then(|v| v.trim().parse::<u64>().ok());
        if let (Some(0), Some(reset)) = (remaining, reset) {
            let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
            let wait = Duration::from_secs(reset.saturating_sub(now).min(600));
            tracing::debug!("okta: rate limit window exhausted; waiting {wait:?}");
            std::thread::sleep(wait);
        }
    }

    /// Hands every item of every page to `each` (pages linked by `Link: rel="next"`): how many
    /// it handed over, and the error that stopped the read early, if one did.
    fn each(&mut self, first: String, each: &mut dyn FnMut(Value)) -> (usize, Option<HttpError>) {
        let mut handed = 0;
        let mut next = Some(first);
        while let Some(url) = next.take() {
            let resp = match self.get(&url) {
                Ok(r) => r,
                Err(e) => return (handed, Some(e)),
            };
            match resp.json() {
                Ok(Value::Array(values)) => {
                    handed += values.len();
                    values.into_iter().for_each(&mut *each);
                }
                Ok(_) | Err(_) => {
                    let error = HttpError {
                        provider: "okta",
                        method: "GET",
                        endpoint: endpoint(&url),
                        status: Some(resp.status),
                        code: None,
                        detail: "the page is not a JSON list".into(),
                    };
                    return (handed, Some(error));
                }
            }
            // Okta sends `rel="self"` and `rel="next"` as two separate `Link` header lines.
            next = resp.header_values("Link").find_map(next_link);
        }
        (handed, None)
    }

    /// Every item of every page (`each`, collected).
    fn all(&mut self, first: String) -> Paged {
        let mut items = Vec::new();
        let (_, error) = self.each(first, &mut |v| items.push(v));
        Paged { items, error }
    }

    fn users_url(&self, filter: Option<&str>) -> String {
        let base = format!("{}/api/v1/users?limit={PAGE}", self.settings.org_url);
        match filter {
            Some(f) => format!("{base}&filter={}", query_value(f)),
            None => base,
        }
    }

    /// Group names per user id.
    fn memberships(&mut self) -> Result<HashMap<String, Vec<String>>, HttpError> {
        if self.settings.groups == GroupMembership::None {
            return Ok(HashMap::new());
        }
        let base = self.settings.org_url.clone();
        let groups = complete(self.all(format!("{base}/api/v1/groups?limit={PAGE}")))?;
        let mut by_user: HashMap<String, Vec<String>> = HashMap::new();
        for g in groups {
            let id = g.get("id").and_then(Value::as_str);
            let name = g.pointer("/profile/name").and_then(Value::as_str);
            let (Some(id), Some(name)) = (id, name) else { continue };
            if !group_matters(&self.group_rules, name) {
                continue;
            }
            for m in complete(self.all(format!("{base}/api/v1/groups/{id}/users?limit={PAGE}")))? {
                if let Some(uid) = m.get("id").and_then(Value::as_str) {
                    by_user.entry(uid.to_string()).or_default().push(name.to_string());
                }
            }
        }
        Ok(by_user)
    }

    /// The users whose group memberships changed since `from`, by the System Log's
    /// `group.user_membership.add` and `.remove` events (developer.okta.com/docs/reference/api/
    /// system-log/, event types catalog), and the newest event's time.
    fn membership_events(
        &mut self,
        from: &chrono::DateTime<chrono::Utc>,
    ) -> Result<(std::collections::BTreeSet<String>, Option<String>), HttpError> {
        let filter = "eventType eq \"group.user_membership.add\" or eventType eq \"group.user_membership.remove\"";
        let since = from.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
        // A bounded request (`until` given): a polling one (only `since`) always answers with a
        // next link, so following it would never end (developer.okta.com/docs/reference/api/
        // system-log/#request-types). What happens after `until` is the next round's.
        let until = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
        let url = format!(
            "{}/api/v1/logs?since={}&until={}&filter={}&limit=1000",
            self.settings.org_url,
            query_value(&since),
            query_value(&until),
            query_value(filter)
        );
        let mut ids = std::collections::BTreeSet::new();
        let mut newest: Option<String> = None;
        for event in complete(self.all(url))? {
            let published = event.get("published").and_then(Value::as_str).map(str::to_string);
            newest = newest.max(published);
            let targets = event.get("target").and_then(Value::as_array).into_iter().flatten();
            for t in targets.filter(|t| t.get("type").and_then(Value::as_str) == Some("User")) {
                if let Some(id) = t.get("id").and_then(Value::as_str) {
                    ids.insert(id.to_string());
                }
            }
        }
        Ok((ids, newest))
    }

    /// The names of the groups user `id` is in.
    fn user_groups(&mut self, id: &str) -> Result<Vec<String>, HttpError> {
        let base = self.settings.org_url.clone();
        let groups = complete(self.all(format!("{base}/api/v1/users/{}/groups?limit={PAGE}", query_value(id))))?;
        Ok(groups
            .iter()
            .filter_map(|g| g.pointer("/profile/name").and_then(Value::as_str).map(str::to_string))
            .collect())
    }

    fn source_user(&self, v: Value) -> Option<SourceUser> {
        source_user(v, &self.settings.inactive_statuses)
    }
}

/// One user object of `/api/v1/users` as a source record; `inactive` are the statuses that mean
/// inactive.
pub(super) fn source_user(v: Value, inactive: &[String]) -> Option<SourceUser> {
    let Value::Object(mut obj) = v else { return None };
    let id = obj.get("id").and_then(Value::as_str)?.to_string();
    obj.retain(|k, _| !k.starts_with('_') && k != "credentials");
    let status = obj.get("status").and_then(Value::as_str).unwrap_or("ACTIVE").to_string();
    let active = !inactive.contains(&status);
    let manager = obj
        .get("profile")
        .and_then(|p| p.get("managerId").or_else(|| p.get("manager")))
        .and_then(Value::as_str)
        .map(str::to_string);
    Some(SourceUser {
        location: format!("okta user {id}"),
        id,
        attributes: Attributes::from(obj),
        active,
        groups: Vec::new(),
        manager,
        photo_etag: None,
        version: None,
    })
}

/// Seconds of overlap between incremental rounds.
const OVERLAP_SECONDS: i64 = 60;

/// The newest `lastUpdated` among users (Okta's ISO timestamps sort as text).
fn newest(users: &[SourceUser]) -> Option<String> {
    users.iter().filter_map(|u| u.attributes.get("lastUpdated").and_then(AttrValue::as_str)).max().map(str::to_string)
}

fn complete(p: Paged) -> Result<Vec<Value>, HttpError> {
    match p.error {
        Some(e) => Err(e),
        None => Ok(p.items),
    }
}

/// The `rel="next"` URL of a `Link` header (`<url>; rel="self", <url>; rel="next"`).
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let is_next = params.split(';').any(|p| p.trim().replace(' ', "") == "rel=\"next\"");
        is_next.then(|| url.trim().trim_start_matches('<').trim_end_matches('>').to_string())
    })
}

impl Connector for OktaConnector {
    fn fetch(&mut self) -> Result<Listing, SourceError> {
        super::rows::collected(|each| self.fetch_each(each))
    }

    /// Memberships first, so that each user goes on, with its groups, as soon as its page is
    /// read: the listing is never held as records (an org of 100,000 users was, twice over).
    fn fetch_each(&mut self, each: &mut dyn FnMut(SourceUser)) -> Result<Listing, SourceError> {
        let groups = self.memberships().map_err(|e| SourceError::Unreadable(e.to_string()))?;
        let mut listing = Listing { complete: true, ..Listing::default() };
        let inactive = self.settings.inactive_statuses.clone();
        let mut hand = |v: Value| {
            if let Some(mut user) = source_user(v, &inactive) {
                if let Some(g) = groups.get(&user.id) {
                    user.groups = g.clone();
                }
                each(user);
            }
        };
        let mut stopped = |e: &HttpError, message: String| {
            listing.incomplete(RowError { idp_id: None, location: format!("okta: GET {}", e.endpoint), message });
        };
        match self.each(self.users_url(None), &mut hand) {
            (_, None) => {}
            (0, Some(e)) => return Err(SourceError::Unreadable(e.to_string())),
            (read, Some(e)) => stopped(&e, format!("the user listing stopped after {read} users: {e}")),
        }
        // A plain list leaves deprovisioned users out; without them they would look deleted.
        if let (_, Some(e)) = self.each(self.users_url(Some("status eq \"DEPROVISIONED\"")), &mut hand) {
            stopped(&e, format!("the deprovisioned users could not all be read: {e}"));
        }
        Ok(listing)
    }

    /// Incremental by watermark: users whose `lastUpdated` is after the last round's newest
    /// timestamp, minus a minute of overlap (Okta's listings are eventually consistent; a user
    /// seen twice is a no-op). The first round is a full listing. Hard deletions are not reported
    /// this way; a periodic full sync catches them.
    fn delta(&mut self, token: Option<&str>) -> Result<DeltaListing, SourceError> {
        let Some(since) = token else {
            let listing = self.fetch()?;
            let next_token = newest(&listing.users).unwrap_or_default();
            return Ok(DeltaListing { listing, removed: Vec::new(), next_token, full: true, groups_read: true });
        };
        let from = chrono::DateTime::parse_from_rfc3339(since)
            .map_err(|_| SourceError::DeltaExpired(format!("okta: the stored watermark '{since}' is not a timestamp")))?
            .with_timezone(&chrono::Utc)
            - chrono::Duration::seconds(OVERLAP_SECONDS);
        let filter = format!("lastUpdated gt \"{}\"", from.format("%Y-%m-%dT%H:%M:%S%.3fZ"));
        let Paged { items, error } = self.all(self.users_url(Some(&filter)));
        if let Some(e) = error {
            return Err(SourceError::Unreadable(e.to_string()));
        }
        let mut users: Vec<SourceUser> = items.into_iter().filter_map(|v| self.source_user(v)).collect();
        let mut newest_change = newest(&users);
        let groups_read = self.settings.groups != GroupMembership::None;
        if groups_read {
            // A membership change does not touch the user's `lastUpdated`: the System Log says
            // whose memberships changed, and each changed user's groups are read whole.
            let (moved, newest_event) = match self.membership_events(&from) {
                Ok(found) => found,
                // An OAuth service app is granted okta.users.read and okta.groups.read, not
                // okta.logs.read: its membership changes wait for the next full run.
                Err(e) if e.status == Some(403) => {
                    tracing::warn!(
                        "okta: the System Log is not readable ({e}); membership changes are read at full runs"
                    );
                    Default::default()
                }
                Err(e) => return Err(SourceError::Unreadable(e.to_string())),
            };
            newest_change = newest_change.max(newest_event);
            for id in moved {
                if users.iter().any(|u| u.id == id) {
                    continue;
                }
                match self.get(&format!("{}/api/v1/users/{}", self.settings.org_url, query_value(&id))) {
                    Ok(resp) => users.extend(self.source_user(resp.json().map_err(SourceError::Unreadable)?)),
                    // Deleted since: the next full run finds them gone.
                    Err(e) if e.status == Some(404) => {}
                    Err(e) => return Err(SourceError::Unreadable(e.to_string())),
                }
            }
            for user in &mut users {
                user.groups = self.user_groups(&user.id).map_err(|e| SourceError::Unreadable(e.to_string()))?;
            }
        }
        // Never move the watermark backwards when nothing changed.
        let next_token = newest_change.filter(|n| n.as_str() > since).unwrap_or_else(|| since.to_string());
        let listing = Listing { users, complete: true, ..Listing::default() };
        Ok(DeltaListing { listing, removed: Vec::new(), next_token, full: false, groups_read })
    }

    /// `GET /api/v1/users/{id}` and `/api/v1/users/{id}/groups`, for a login.
    fn fetch_one(&mut self, id: &str) -> Result<Option<Listing>, SourceError> {
        let base = self.settings.org_url.clone();
        let id = query_value(id);
        let user = match self.get(&format!("{base}/api/v1/users/{id}")) {
            Ok(resp) => resp.json().map_err(SourceError::Unreadable)?,
            Err(e) if e.status == Some(404) => return Ok(Some(Listing { complete: true, ..Listing::default() })),
            Err(e) => return Err(SourceError::Unreadable(e.to_string())),
        };
        let Some(mut user) = self.source_user(user) else { return Ok(Some(Listing::default())) };
        if self.settings.groups != GroupMembership::None {
            user.groups = self.user_groups(&user.id.clone()).map_err(|e| SourceError::Unreadable(e.to_string()))?;
        }
        Ok(Some(Listing { users: vec![user], complete: true, ..Listing::default() }))
    }

    fn check(&mut self) -> Vec<CheckStep> {
        let base = self.settings.org_url.clone();
        let mut steps = vec![CheckStep::new(
            "read users",
            self.get(&format!("{base}/api/v1/users?limit=1"))
                .map(|_| "the API token is valid and may read users".into())
                .map_err(|e| e.to_string()),
        )];
        if steps[0].ok && self.settings.groups != GroupMembership::None {
            steps.push(CheckStep::new(
                "read groups",
                self.get(&format!("{base}/api/v1/groups?limit=1"))
                    .map(|_| "the API token may read groups".into())
                    .map_err(|e| e.to_string()),
            ));
        }
        steps
    }
}

#[cfg(test)]
mod tests {
    use super::next_link;

    #[test]
    fn link_headers() {
        let h = r#"<https://x.okta.com/api/v1/users?limit=200>; rel="self", <https://x.okta.com/api/v1/users?after=00u1&limit=200>; rel="next""#;
        assert_eq!(next_link(h).as_deref(), Some("https://x.okta.com/api/v1/users?after=00u1&limit=200"));
        assert_eq!(next_link(r#"<https://x/a>; rel="self""#), None);
    }
}
