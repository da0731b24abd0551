//! SCIM 2.0 service providers (RFC 7643 schemas, RFC 7644 protocol): `/Users` and `/Groups`
//! read page by page, by index (`startIndex`, `count`, `totalResults`) or by cursor (`cursor`,
//! `nextCursor`, RFC 9865) as `/ServiceProviderConfig` announces; groups from the groups'
//! `members` (nested groups flattened when asked) or from the users' `groups` attribute;
//! incremental rounds with a `meta.lastModified gt` filter where the server filters.
//!
//! A record becomes a source user with its attributes as the server sent them, plus what mapping
//! rules need and SCIM's shape hides: `email` and `phone` (the primary value of the multi-valued
//! attribute, else the work one, else the first), `enterprise` (the enterprise extension's
//! object), and every extension attribute under its fully qualified name (RFC 7644 §3.10:
//! `urn:...:2.0:User:department`, `urn:...:2.0:User:manager.value`).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Map, Value};

use super::http::{endpoint, query_value, Http, HttpError, Request, Response};
use super::{CheckStep, Connector, DeltaListing, Listing, RowError, SourceError};
use crate::config::{GroupMembership, GroupRules, ScimAuth, ScimGroupsFrom, ScimPaging, ScimSource};
use crate::mapping::group_matters;
use crate::model::{Attributes, SourceUser};

pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// More pages than this is a server that never ends its listing.
const MAX_PAGES: usize = 100_000;

pub(super) struct ScimConnector {
    settings: ScimSource,
    http: Http,
    token: Option<(String, Instant)>,
    group_rules: GroupRules,
    features: Option<Features>,
}

/// What `/ServiceProviderConfig` says the server supports (RFC 7643 §5, RFC 9865 §4).
#[derive(Debug, Clone, Copy)]
struct Features {
    filter: bool,
    cursor: bool,
}

/// A group as `/Groups` lists it: id, name, and its members as (id, is a group).
pub(super) type ScimGroup = (String, String, Vec<(String, bool)>);

/// A listing read to its end, or as far as it went and why it stopped.
struct Paged {
    read: usize,
    /// `totalResults` of the last page, where the server said it.
    total: Option<usize>,
    /// `totalResults` changed between pages: with index paging, a resource added or removed
    /// meanwhile shifts the pages, and one may have been skipped.
    shifted: Option<(usize, usize)>,
    error: Option<String>,
}

impl ScimConnector {
    pub fn new(settings: ScimSource, http: Http, group_rules: GroupRules) -> Self {
        ScimConnector { settings, http, token: None, group_rules, features: None }
    }

    fn fail(&self, method: &'static str, url: &str, detail: String) -> HttpError {
        HttpError { provider: "scim", method, endpoint: endpoint(url), status: None, code: None, detail }
    }

    /// The Authorization header for the configured scheme; an OAuth token is kept until shortly
    /// before it expires.
    fn authorization(&mut self) -> Result<String, HttpError> {
        let basic = |user: &str, secret: &str| {
            format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}")))
        };
        let (token_url, client_id, client_secret, scope) = match &self.settings.auth {
            ScimAuth::Bearer { bearer_token } => return Ok(format!("Bearer {}", bearer_token.expose())),
            ScimAuth::Basic { username, password } => return Ok(basic(username, password.expose())),
            ScimAuth::ClientCredentials { token_url, client_id, client_secret, scope } => {
                (token_url.clone(), client_id.clone(), client_secret.clone(), scope.clone())
            }
        };
        if let Some((token, until)) = &self.token {
            if Instant::now() < *until {
                return Ok(format!("Bearer {token}"));
            }
        }
        let mut form = vec![("grant_type", "client_credentials".to_string())];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        // RFC 6749 §2.3.1: the client authenticates with HTTP Basic, which servers must support.
        let req = Request::post_form(token_url.clone(), form)
            .header("Authorization", basic(&query_value(&client_id), &query_value(client_secret.expose())));
        let resp = self.http.send(&req).map_err(|mut e| {
            e.detail = format!("check token_url, client_id and client_secret; {}", e.detail);
            e
        })?;
        let v = resp.json().map_err(|d| self.fail("POST", &token_url, d))?;
        let token = v
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| self.fail("POST", &token_url, "the token answer has no access_token".into()))?;
        let lifetime = v.get("expires_in").and_then(Value::as_u64).unwrap_or(3600);
        self.token = Some((token.to_string(), Instant::now() + Duration::from_secs(lifetime - 60.min(lifetime / 2))));
        Ok(format!("Bearer {token}"))
    }

    fn get(&mut self, url: &str) -> Result<Response, HttpError> {
        let auth = self.authorization()?;
        let req = Request::get(url.to_string())
            .header("Authorization", auth)
            .header("Accept", "application/scim+json, application/json".into());
        self.http.send(&req).map_err(|mut e| {
            match e.status {
                Some(401) => {
                    self.token = None;
                    e.detail = format!("check the credentials; {}", e.detail);
                }
                Some(403) => e.detail = format!("the credentials may not read this; {}", e.detail),
                _ => {}
            }
            e
        })
    }

    fn get_json(&mut self, url: &str) -> Result<Value, HttpError> {
        let resp = self.get(url)?;
        resp.json().map_err(|d| HttpError { status: Some(resp.status), ..self.fail("GET", url, d) })
    }

    /// The server's features, read once. A server without `/ServiceProviderConfig` (404) is
    /// read by index, without filters.
    fn features(&mut self) -> Result<Features, HttpError> {
        if let Some(f) = self.features {
            return Ok(f);
        }
        let url = format!("{}/ServiceProviderConfig", self.settings.base_url);
        let v = match self.get_json(&url) {
            Ok(v) => v,
            Err(e) if e.status == Some(404) => Value::Null,
            Err(e) => return Err(e),
        };
        let flag = |p: &str| v.pointer(p).is_some_and(|b| b == &Value::Bool(true) || b == "true");
        let f = Features { filter: flag("/filter/supported"), cursor: flag("/pagination/cursor") };
        self.features = Some(f);
        Ok(f)
    }

    fn by_cursor(&mut self) -> Result<bool, HttpError> {
        Ok(match self.settings.paging {
            ScimPaging::Index => false,
            ScimPaging::Cursor => true,
            ScimPaging::Auto => self.features()?.cursor,
        })
    }

    /// Every resource of `/<resource>` (with `query` added), page by page, each handed to
    /// `each`. Stops at the first failed request, saying how far it got.
    fn list(&mut self, resource: &str, query: &str, each: &mut dyn FnMut(Value)) -> Paged {
        let cursor = match self.by_cursor() {
            Ok(c) => c,
            Err(e) => return Paged { read: 0, total: None, shifted: None, error: Some(e.to_string()) },
        };
        let base = format!("{}/{resource}?count={}{query}", self.settings.base_url, self.settings.page_size);
        let mut paged = Paged { read: 0, total: None, shifted: None, error: None };
        // Index paging starts at 1 (RFC 7644 §3.4.2.4); cursor paging with an empty cursor.
        let mut position = if cursor { String::new() } else { "1".to_string() };
        for _ in 0..MAX_PAGES {
            let url = if cursor {
                format!("{base}&cursor={}", query_value(&position))
            } else {
                format!("{base}&startIndex={position}")
            };
            let page = match self.get_json(&url) {
                Ok(v) => v,
                Err(e) => {
                    paged.error = Some(e.to_string());
                    return paged;
                }
            };
            let total = page.get("totalResults").and_then(Value::as_u64).map(|t| t as usize);
            // `Resources` may be left out of an empty page (RFC 7644 §3.4.2: required when
            // totalResults is not zero).
            let items = match page.get("Resources") {
                Some(Value::Array(items)) => items.clone(),
                None if page.is_object() => Vec::new(),
                _ => {
                    paged.error = Some(format!("scim: GET {}: the page is not a SCIM ListResponse", endpoint(&url)));
                    return paged;
                }
            };
            if let (Some(before), Some(now)) = (paged.total, total) {
                if before != now && paged.shifted.is_none() {
                    paged.shifted = Some((before, now));
                }
            }
            paged.total = total.or(paged.total);
            let got = items.len();
            paged.read += got;
            items.into_iter().for_each(&mut *each);
            if cursor {
                match page.get("nextCursor").and_then(Value::as_str).filter(|c| !c.is_empty()) {
                    Some(next) if next == position => {
                        paged.error =
                            Some(format!("scim: GET {}: the server answered the same cursor again", endpoint(&url)));
                        return paged;
                    }
                    Some(next) => position = next.to_string(),
                    None => return paged,
                }
            } else {
                // A server may answer fewer than `count` (its own page size): the next page
                // starts after what came, and an empty page ends the listing.
                let next = position.parse::<usize>().unwrap_or(1) + got;
                if got == 0 || total.is_some_and(|t| next > t) {
                    return paged;
                }
                position = next.to_string();
            }
        }
        paged.error = Some(format!("scim: /{resource} did not end after {MAX_PAGES} pages"));
        paged
    }

    /// Group names per user id, from `/Groups` and their members.
    fn memberships(&mut self) -> Result<HashMap<String, Vec<String>>, SourceError> {
        let mut groups: Vec<ScimGroup> = Vec::new();
        let paged = self.list("Groups", "", &mut |g| groups.extend(parse_group(&g)));
        if let Some(e) = paged.error {
            return Err(SourceError::Unreadable(format!("the groups could not all be read: {e}")));
        }
        Ok(members_by_user(&groups, self.settings.groups, &self.group_rules))
    }

    fn user(&self, v: Value) -> Result<SourceUser, RowError> {
        source_user(v, self.settings.groups, self.settings.groups_from == ScimGroupsFrom::Users)
    }

    fn groups_read(&self) -> bool {
        self.settings.groups != GroupMembership::None
    }

    /// Users (with `query`) and, where they come from `/Groups`, their memberships: those first,
    /// so that each user goes on, with its groups, as soon as its page is read (the listing is
    /// never held as records).
    fn read_each(&mut self, query: &str, each: &mut dyn FnMut(SourceUser)) -> Result<Listing, SourceError> {
        let groups = if self.groups_read() && self.settings.groups_from == ScimGroupsFrom::Groups {
            Some(self.memberships()?)
        } else {
            None
        };
        let mut listing = Listing { complete: true, ..Listing::default() };
        let (kind, from_users) = (self.settings.groups, self.settings.groups_from == ScimGroupsFrom::Users);
        let paged = self.list("Users", query, &mut |v| match source_user(v, kind, from_users) {
            Ok(mut user) => {
                if let Some(g) = groups.as_ref().and_then(|g| g.get(&user.id)) {
                    user.groups = g.clone();
                }
                each(user);
            }
            Err(e) => {
                listing.incomplete(e);
            }
        });
        match (&paged.error, paged.read) {
            (Some(e), 0) => return Err(SourceError::Unreadable(e.clone())),
            (Some(e), n) => {
                listing.incomplete(RowError {
                    idp_id: None,
                    location: "scim: /Users".into(),
                    message: format!("the user listing stopped after {n} users: {e}"),
                });
            }
            (None, n) if paged.shifted.is_some() => {
                let (before, now) = paged.shifted.unwrap_or_default();
                listing.incomplete(RowError {
                    idp_id: None,
                    location: "scim: /Users".into(),
                    message: format!(
                        "the number of users changed while paging ({before} then {now}; {n} listed): users may have \
                         been skipped, so nobody is taken for gone in this run"
                    ),
                });
            }
            (None, n) if paged.total.is_some_and(|t| n < t) => {
                // Users added or removed while paging shift the pages; nobody is proven absent.
                listing.incomplete(RowError {
                    idp_id: None,
                    location: "scim: /Users".into(),
                    message: format!("the server announced {} users but listed {n}", paged.total.unwrap_or(0)),
                });
            }
            (None, _) => {}
        }
        Ok(listing)
    }
}

/// A group resource's id, name and members, or `None` without an id or a name.
pub(super) fn parse_group(g: &Value) -> Option<ScimGroup> {
    let id = g.get("id").and_then(Value::as_str)?.to_string();
    let name = g.get("displayName").and_then(Value::as_str)?.to_string();
    let members = g.get("members").and_then(Value::as_array).into_iter().flatten();
    let members = members
        .filter_map(|m| {
            let value = m.get("value").and_then(Value::as_str)?.to_string();
            let is_group = m.get("type").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case("group"));
            Some((value, is_group))
        })
        .collect();
    Some((id, name, members))
}

/// Group names per user id: each group's user members, and with `Transitive` those of the groups
/// nested in it (a cycle of groups ends where it started).
pub(super) fn members_by_user(
    groups: &[ScimGroup],
    membership: GroupMembership,
    rules: &GroupRules,
) -> HashMap<String, Vec<String>> {
    let ids: HashSet<&str> = groups.iter().map(|(id, _, _)| id.as_str()).collect();
    let index: HashMap<&str, usize> = groups.iter().enumerate().map(|(i, (id, _, _))| (id.as_str(), i)).collect();
    let mut by_user: HashMap<String, Vec<String>> = HashMap::new();
    if membership == GroupMembership::None {
        return by_user;
    }
    for (id, name, _) in groups {
        if !group_matters(rules, name) {
            continue;
        }
        let mut seen: HashSet<&str> = HashSet::from([id.as_str()]);
        let mut todo = vec![index[id.as_str()]];
        let mut users: HashSet<&str> = HashSet::new();
        while let Some(i) = todo.pop() {
            for (value, is_group) in &groups[i].2 {
                if *is_group || ids.contains(value.as_str()) {
                    if membership == GroupMembership::Transitive && seen.insert(value) {
                        todo.extend(index.get(value.as_str()));
                    }
                } else {
                    users.insert(value);
                }
            }
        }
        for u in users {
            by_user.entry(u.to_string()).or_default().push(name.clone());
        }
    }
    by_user
}

/// One SCIM user resource as a source record. `groups_attribute`: memberships come from the
/// user's `groups` (indirect ones only with transitive membership).
pub(super) fn source_user(
    v: Value,
    membership: GroupMembership,
    groups_attribute: bool,
) -> Result<SourceUser, RowError> {
    let Value::Object(mut obj) = v else {
        return Err(RowError {
            idp_id: None,
            location: "scim: /Users".into(),
            message: "a resource that is not an object".into(),
        });
    };
    let Some(id) = obj.get("id").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string) else {
        return Err(RowError { idp_id: None, location: "scim: /Users".into(), message: "a user without an id".into() });
    };
    // `active` is a boolean (RFC 7643 §4.1.1); some servers send it as a string. A user without
    // it is active.
    let active = match obj.get("active") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => !s.eq_ignore_ascii_case("false"),
        _ => true,
    };
    let manager =
        obj.get(ENTERPRISE).and_then(|e| e.pointer("/manager/value")).and_then(Value::as_str).map(str::to_string);
    let groups = if groups_attribute && membership != GroupMembership::None {
        let all = obj.get("groups").and_then(Value::as_array).into_iter().flatten();
        all.filter(|g| {
            let indirect = g.get("type").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case("indirect"));
            membership == GroupMembership::Transitive || !indirect
        })
        .filter_map(|g| g.get("display").and_then(Value::as_str).map(str::to_string))
        .collect()
    } else {
        Vec::new()
    };
    for (name, list) in [("email", "emails"), ("phone", "phoneNumbers")] {
        if let Some(value) = primary(obj.get(list)) {
            obj.insert(name.into(), Value::String(value));
        }
    }
    let extensions: Vec<(String, Value)> = obj
        .iter()
        .filter(|(k, v)| k.starts_with("urn:") && v.is_object())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (urn, value) in extensions {
        flatten(&mut obj, &urn, "", &value);
        if urn == ENTERPRISE {
            obj.insert("enterprise".into(), value);
        }
    }
    Ok(SourceUser {
        location: format!("scim user {id}"),
        id,
        attributes: Attributes::from(obj),
        active,
        groups,
        manager,
        photo_etag: None,
        version: None,
    })
}

/// The value of a multi-valued attribute to use: the primary one (RFC 7643 §2.4), else the
/// `work` one, else the first.
fn primary(list: Option<&Value>) -> Option<String> {
    let items = list?.as_array()?;
    let value = |i: &Value| i.get("value").and_then(Value::as_str).map(str::to_string);
    let flag = |i: &&Value| i.get("primary").is_some_and(|p| p == &Value::Bool(true) || p == "true");
    let work = |i: &&Value| i.get("type").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case("work"));
    items.iter().find(flag).or_else(|| items.iter().find(work)).or(items.first()).and_then(value)
}

/// An extension's attributes under their fully qualified names (`urn:...:User:manager.value`).
fn flatten(out: &mut Map<String, Value>, urn: &str, prefix: &str, v: &Value) {
    let Some(obj) = v.as_object() else { return };
    for (k, v) in obj {
        let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match v {
            Value::Object(_) => flatten(out, urn, &path, v),
            _ => {
                out.insert(format!("{urn}:{path}"), v.clone());
            }
        }
    }
}

/// `meta.lastModified` of the newest user, as RFC 3339.
fn newest(users: &[SourceUser]) -> Option<chrono::DateTime<chrono::Utc>> {
    users
        .iter()
        .filter_map(|u| u.attributes.get("meta")?.get("lastModified")?.as_str().map(str::to_string))
        .filter_map(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
        .max()
}

/// Seconds of overlap between incremental rounds: clocks and commits are not exact.
const OVERLAP_SECONDS: i64 = 60;

impl Connector for ScimConnector {
    fn fetch(&mut self) -> Result<Listing, SourceError> {
        super::rows::collected(|each| self.fetch_each(each))
    }

    fn fetch_each(&mut self, each: &mut dyn FnMut(SourceUser)) -> Result<Listing, SourceError> {
        self.read_each("", each)
    }

    /// Users modified since the last round (`filter=meta.lastModified gt "..."`, RFC 7644
    /// §3.4.2.2), where the server filters; otherwise every run is full. Membership changes do
    /// not change a user's `lastModified`: they are read at full runs, and so are removals.
    fn delta(&mut self, token: Option<&str>) -> Result<DeltaListing, SourceError> {
        let features = self.features().map_err(|e| SourceError::Unreadable(e.to_string()))?;
        if !features.filter {
            return Err(SourceError::NoIncremental("scim"));
        }
        let Some(since) = token else {
            let listing = self.fetch()?;
            let next_token = newest(&listing.users).map(|t| t.to_rfc3339()).unwrap_or_default();
            let groups_read = self.groups_read();
            return Ok(DeltaListing { listing, removed: Vec::new(), next_token, full: true, groups_read });
        };
        let from = chrono::DateTime::parse_from_rfc3339(since)
            .map_err(|_| SourceError::DeltaExpired(format!("scim: the stored watermark '{since}' is not a timestamp")))?
            .with_timezone(&chrono::Utc)
            - chrono::Duration::seconds(OVERLAP_SECONDS);
        let filter = format!("meta.lastModified gt \"{}\"", from.format("%Y-%m-%dT%H:%M:%SZ"));
        let groups_from_users = self.settings.groups_from == ScimGroupsFrom::Users;
        let mut listing = Listing { complete: true, ..Listing::default() };
        let mut values = Vec::new();
        let paged = self.list("Users", &format!("&filter={}", query_value(&filter)), &mut |v| values.push(v));
        if let Some(e) = paged.error {
            return Err(SourceError::Unreadable(e));
        }
        for v in values {
            match self.user(v) {
                Ok(u) => listing.users.push(u),
                Err(e) => listing.row_errors.push(e),
            }
        }
        let newest = newest(&listing.users).map(|t| t.to_rfc3339());
        let next_token = newest.filter(|n| n.as_str() > since).unwrap_or_else(|| since.to_string());
        let groups_read = groups_from_users && self.groups_read();
        Ok(DeltaListing { listing, removed: Vec::new(), next_token, full: false, groups_read })
    }

    /// `GET /Users/{id}`, for a login; memberships from `/Groups` filtered by member where the
    /// server filters (otherwise the engine reads everything).
    fn fetch_one(&mut self, id: &str) -> Result<Option<Listing>, SourceError> {
        let base = self.settings.base_url.clone();
        let url = format!("{base}/Users/{}", query_value(id));
        let v = match self.get_json(&url) {
            Ok(v) => v,
            Err(e) if e.status == Some(404) => return Ok(Some(Listing { complete: true, ..Listing::default() })),
            Err(e) => return Err(SourceError::Unreadable(e.to_string())),
        };
        let mut user =
            self.user(v).map_err(|e| SourceError::Unreadable(format!("scim: GET /Users/{id}: {}", e.message)))?;
        if self.groups_read() && self.settings.groups_from == ScimGroupsFrom::Groups {
            let features = self.features().map_err(|e| SourceError::Unreadable(e.to_string()))?;
            if !features.filter || self.settings.groups == GroupMembership::Transitive {
                return Ok(None);
            }
            let filter = format!("members.value eq \"{}\"", id.replace('\\', "\\\\").replace('"', "\\\""));
            let mut names = Vec::new();
            let paged = self.list("Groups", &format!("&filter={}", query_value(&filter)), &mut |g| {
                names.extend(g.get("displayName").and_then(Value::as_str).map(str::to_string))
            });
            if let Some(e) = paged.error {
                return Err(SourceError::Unreadable(e));
            }
            user.groups = names.into_iter().filter(|n| group_matters(&self.group_rules, n)).collect();
        }
        Ok(Some(Listing { users: vec![user], complete: true, ..Listing::default() }))
    }

    fn check(&mut self) -> Vec<CheckStep> {
        let base = self.settings.base_url.clone();
        let features = self.features().map(|f| {
            let paging = if f.cursor { "cursor and index paging" } else { "index paging" };
            let filter = if f.filter { "filters (incremental runs)" } else { "no filters (every run is full)" };
            format!("the server announces {paging}, {filter}")
        });
        let mut steps = vec![CheckStep::new("read ServiceProviderConfig", features.map_err(|e| e.to_string()))];
        if !steps[0].ok {
            return steps;
        }
        for (step, resource) in [("read users", "Users"), ("read groups", "Groups")] {
            if resource == "Groups" && !self.groups_read() {
                continue;
            }
            let url = format!("{base}/{resource}?startIndex=1&count=1");
            let result = self.get_json(&url).map_err(|e| e.to_string()).and_then(|v| {
                match v.get("totalResults").and_then(Value::as_u64) {
                    Some(n) => Ok(format!("{n} {} on the server", resource.to_lowercase())),
                    None => Err(format!("scim: GET /{resource}: the answer is not a SCIM ListResponse")),
                }
            });
            let ok = result.is_ok();
            steps.push(CheckStep::new(step, result));
            if !ok {
                break;
            }
        }
        steps
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_user_resource_becomes_a_source_user() {
        let mut v = json!({
            "id": "u1", "userName": "ann", "active": "False",
            "emails": [{ "value": "a@home.example", "type": "home" }, { "value": "a@work.example", "type": "work" }],
            "phoneNumbers": [{ "value": "+1 1", "type": "work" }, { "value": "+1 2", "primary": true }],
            "groups": [{ "value": "g1", "display": "Staff" }, { "value": "g2", "display": "All", "type": "indirect" }]
        });
        v[ENTERPRISE] = json!({ "department": "Eng", "manager": { "value": "u0" } });
        let u = source_user(v.clone(), GroupMembership::Direct, true).unwrap();
        assert!(!u.active, "a string 'False' is false");
        assert_eq!(u.manager.as_deref(), Some("u0"));
        assert_eq!(u.groups, vec!["Staff"]);
        use crate::model::AttrValue;
        let text = |v: Option<&AttrValue>| v.and_then(AttrValue::as_str).map(str::to_string);
        assert_eq!(text(u.attributes.get("email")).as_deref(), Some("a@work.example"));
        assert_eq!(text(u.attributes.get("phone")).as_deref(), Some("+1 2"));
        assert_eq!(text(u.attributes.get(&format!("{ENTERPRISE}:manager.value"))).as_deref(), Some("u0"));
        assert_eq!(text(u.attributes.get("enterprise").and_then(|e| e.get("department"))).as_deref(), Some("Eng"));
        let all = source_user(v, GroupMembership::Transitive, true).unwrap();
        assert_eq!(all.groups, vec!["Staff", "All"]);
        assert!(source_user(json!({ "userName": "x" }), GroupMembership::Direct, false).is_err());
    }
}
