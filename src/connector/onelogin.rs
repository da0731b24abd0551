//! OneLogin through API v2: a client-credentials token (`/auth/oauth2/v2/token`), users 50 a
//! page following the `After-Cursor` header, roles (`/api/2/roles`) and the group
//! (`/api/1/groups`) as group sources, `status`/`state` to active, and the account's hourly API
//! budget paced by the `X-RateLimit-*` headers, so that a sync never takes more than its share.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;

use super::http::{endpoint, query_value, Http, HttpError, Request, Response};
use super::{CheckStep, Connector, Listing, RowError, SourceError};
use crate::config::{OneLoginGroups, OneLoginSource};
use crate::mapping::group_matters;
use crate::model::{AttrValue, Attributes, SourceUser};

/// Users per page: the most API v2's List Users returns.
const PAGE: u32 = 50;
const MAX_PAGES: usize = 1_000_000;

pub(super) struct OneLoginConnector {
    settings: OneLoginSource,
    http: Http,
    token: Option<(String, Instant)>,
    rules: crate::config::GroupRules,
    budget: Budget,
}

/// The account's API budget as the last answer stated it, and this run's use of it.
#[derive(Debug, Default, Clone, Copy)]
struct Budget {
    limit: Option<u64>,
    remaining: Option<u64>,
    reset_seconds: Option<u64>,
    used: u64,
    waited: Duration,
}

impl OneLoginConnector {
    pub fn new(settings: OneLoginSource, http: Http, rules: crate::config::GroupRules) -> Self {
        OneLoginConnector { settings, http, token: None, rules, budget: Budget::default() }
    }

    fn fail(&self, method: &'static str, url: &str, status: Option<u16>, detail: String) -> HttpError {
        HttpError { provider: "onelogin", method, endpoint: endpoint(url), status, code: None, detail }
    }

    fn authorization(&mut self) -> Result<String, HttpError> {
        if let Some((token, until)) = &self.token {
            if Instant::now() < *until {
                return Ok(format!("Bearer {token}"));
            }
        }
        let url = format!("{}/auth/oauth2/v2/token", self.settings.base_url);
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            self.settings.client_id,
            self.settings.client_secret.expose()
        ));
        let req = Request::post_json(url.clone(), r#"{"grant_type":"client_credentials"}"#.to_string())
            .header("Authorization", format!("Basic {basic}"));
        self.pace();
        let resp = self.http.send(&req).map_err(|mut e| {
            e.detail = format!("check client_id and client_secret (an API credential with Read users); {}", e.detail);
            e
        })?;
        self.note(&resp);
        let v = resp.json().map_err(|d| self.fail("POST", &url, Some(resp.status), d))?;
        let token = v
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| self.fail("POST", &url, Some(resp.status), "the token answer has no access_token".into()))?;
        let lifetime = v.get("expires_in").and_then(Value::as_u64).unwrap_or(3600);
        self.token = Some((token.to_string(), Instant::now() + Duration::from_secs(lifetime - 60.min(lifetime / 2))));
        Ok(format!("Bearer {token}"))
    }

    /// Records what an answer says of the budget.
    fn note(&mut self, resp: &Response) {
        let num = |name: &str| resp.header(name).and_then(|v| v.trim().parse::<u64>().ok());
        self.budget.used += 1;
        if let Some(l) = num("X-RateLimit-Limit") {
            self.budget.limit = Some(l);
        }
        if let Some(r) = num("X-RateLimit-Remaining") {
            self.budget.remaining = Some(r);
        }
        if let Some(s) = num("X-RateLimit-Reset") {
            self.budget.reset_seconds = Some(s);
        }
    }

    /// Before a request: when what is left of the hour's budget is down to what others must keep
    /// (`100 - api_budget_percent` of it), wait for the budget to be renewed.
    fn pace(&mut self) {
        let (Some(limit), Some(remaining)) = (self.budget.limit, self.budget.remaining) else { return };
        let keep = limit * u64::from(100 - self.settings.api_budget_percent) / 100;
        if remaining > keep {
            return;
        }
        // The reset is stated in whole seconds: one more makes sure the budget has renewed.
        let wait = Duration::from_secs(self.budget.reset_seconds.unwrap_or(60).clamp(1, 3600) + 1);
        tracing::info!(
            "onelogin: {remaining} of {limit} calls left this hour, {keep} kept for others; waiting {wait:?} for the budget to renew"
        );
        std::thread::sleep(wait);
        self.budget.waited += wait;
        self.budget.remaining = None;
    }

    fn get(&mut self, url: &str) -> Result<Response, HttpError> {
        let auth = self.authorization()?;
        let req =
            Request::get(url.to_string()).header("Authorization", auth).header("Accept", "application/json".into());
        self.pace();
        let resp = self.http.send(&req).map_err(|mut e| {
            self.budget.used += 1;
            if e.status == Some(401) {
                self.token = None;
            }
            if e.status == Some(403) {
                e.detail = format!("the API credential needs the Read users scope; {}", e.detail);
            }
            e
        })?;
        self.note(&resp);
        Ok(resp)
    }

    /// A v2 list, page by page (`After-Cursor`), each item to `each`; the error that stopped it,
    /// after what was read.
    fn list(&mut self, path: &str, each: &mut dyn FnMut(Value)) -> Result<usize, (usize, HttpError)> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let base = format!("{}{path}{sep}limit={PAGE}", self.settings.base_url);
        let mut url = base.clone();
        let mut read = 0;
        for _ in 0..MAX_PAGES {
            let resp = self.get(&url).map_err(|e| (read, e))?;
            let items = match resp.json() {
                Ok(Value::Array(items)) => items,
                _ => {
                    return Err((read, self.fail("GET", &url, Some(resp.status), "the page is not a JSON list".into())))
                }
            };
            read += items.len();
            items.into_iter().for_each(&mut *each);
            match resp.header("After-Cursor").map(str::trim).filter(|c| !c.is_empty()) {
                Some(cursor) => url = format!("{base}&cursor={}", query_value(cursor)),
                None => return Ok(read),
            }
        }
        Err((read, self.fail("GET", path, None, format!("did not end after {MAX_PAGES} pages"))))
    }

    /// Role names by id (`/api/2/roles`).
    fn roles(&mut self) -> Result<HashMap<u64, String>, HttpError> {
        let mut out = HashMap::new();
        self.list("/api/2/roles", &mut |r| {
            if let (Some(id), Some(name)) = (r.get("id").and_then(Value::as_u64), r.get("name").and_then(Value::as_str))
            {
                out.insert(id, name.to_string());
            }
        })
        .map_err(|(_, e)| e)?;
        Ok(out)
    }

    /// Group names by id (`/api/1/groups`, whose pages link on with `pagination.next_link`).
    fn groups(&mut self) -> Result<HashMap<u64, String>, HttpError> {
        let mut out = HashMap::new();
        let mut next = Some(format!("{}/api/1/groups", self.settings.base_url));
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            if pages > MAX_PAGES {
                return Err(self.fail("GET", &url, None, "the group listing did not end".into()));
            }
            let resp = self.get(&url)?;
            let v = resp.json().map_err(|d| self.fail("GET", &url, Some(resp.status), d))?;
            for g in v.get("data").and_then(Value::as_array).into_iter().flatten() {
                if let (Some(id), Some(name)) =
                    (g.get("id").and_then(Value::as_u64), g.get("name").and_then(Value::as_str))
                {
                    out.insert(id, name.to_string());
                }
            }
            next = v.pointer("/pagination/next_link").and_then(Value::as_str).map(str::to_string);
        }
        Ok(out)
    }

    fn budget_note(&self) -> String {
        let b = self.budget;
        let mut s = format!("OneLogin API budget: {} call(s) this run", b.used);
        if let (Some(limit), Some(remaining)) = (b.limit, b.remaining) {
            s.push_str(&format!(" of {limit} an hour; {remaining} left"));
        }
        s.push_str(&format!("; at most {}% used by usersync", self.settings.api_budget_percent));
        if !b.waited.is_zero() {
            s.push_str(&format!("; waited {}s for the budget to renew", b.waited.as_secs()));
        }
        s
    }
}

/// One OneLogin user as a source record. Inactive: `status` 2 (suspended), or `state` 2
/// (rejected) or 3 (unlicensed); an unactivated user (status 0) is provisioned before their
/// first login, as active.
pub(super) fn source_user(v: Value) -> Result<SourceUser, RowError> {
    let Value::Object(obj) = v else {
        return Err(RowError {
            idp_id: None,
            location: "onelogin: /api/2/users".into(),
            message: "a user that is not an object".into(),
        });
    };
    let Some(id) =
        obj.get("id").and_then(|i| i.as_u64().map(|n| n.to_string()).or_else(|| i.as_str().map(str::to_string)))
    else {
        return Err(RowError {
            idp_id: None,
            location: "onelogin: /api/2/users".into(),
            message: "a user without an id".into(),
        });
    };
    let num = |k: &str| obj.get(k).and_then(Value::as_u64);
    let active = num("status") != Some(2) && !matches!(num("state"), Some(2) | Some(3));
    let manager = obj.get("manager_user_id").and_then(|m| m.as_u64().map(|n| n.to_string()));
    Ok(SourceUser {
        location: format!("onelogin user {id}"),
        id,
        attributes: Attributes::from(obj),
        active,
        groups: Vec::new(),
        manager,
        photo_etag: None,
        version: None,
    })
}

/// Seconds of overlap between incremental rounds: a user changed while a round read is read again.
const OVERLAP_SECONDS: i64 = 60;

/// The newest `updated_at` among users, as RFC 3339.
fn newest(users: &[SourceUser]) -> Option<String> {
    users
        .iter()
        .filter_map(|u| u.attributes.get("updated_at").and_then(AttrValue::as_str))
        .filter_map(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .max()
        .map(|t| t.with_timezone(&chrono::Utc).to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

impl OneLoginConnector {
    /// Users (those `query` selects) with their roles and group.
    fn read(&mut self, query: &str) -> Result<Listing, SourceError> {
        super::rows::collected(|each| self.read_each(query, each))
    }

    /// `read`, roles and groups first so that each user goes on, with its groups, as soon as its
    /// page is read: the listing is never held as records.
    fn read_each(&mut self, query: &str, each: &mut dyn FnMut(SourceUser)) -> Result<Listing, SourceError> {
        self.budget = Budget { limit: self.budget.limit, remaining: self.budget.remaining, ..Budget::default() };
        let mut listing = Listing { complete: true, ..Listing::default() };
        let from = self.settings.groups_from;
        let roles = match from {
            OneLoginGroups::Roles | OneLoginGroups::Both => {
                self.roles().map_err(|e| SourceError::Unreadable(e.to_string()))?
            }
            _ => HashMap::new(),
        };
        let groups = match from {
            OneLoginGroups::Group | OneLoginGroups::Both => {
                self.groups().map_err(|e| SourceError::Unreadable(e.to_string()))?
            }
            _ => HashMap::new(),
        };
        let rules = self.rules.clone();
        let mut hand = |v: Value| {
            let role_ids: Vec<u64> =
                v.get("role_ids").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_u64).collect();
            let group_id = v.get("group_id").and_then(Value::as_u64);
            match source_user(v) {
                Ok(mut u) => {
                    let mut names: Vec<String> = role_ids.iter().filter_map(|r| roles.get(r).cloned()).collect();
                    names.extend(group_id.and_then(|g| groups.get(&g).cloned()));
                    names.retain(|n| group_matters(&rules, n));
                    u.groups = names;
                    each(u);
                }
                Err(e) => {
                    listing.incomplete(e);
                }
            }
        };
        match self.list(&format!("/api/2/users{query}"), &mut hand) {
            Ok(_) => {}
            Err((0, e)) => return Err(SourceError::Unreadable(e.to_string())),
            Err((read, e)) => {
                listing.incomplete(RowError {
                    idp_id: None,
                    location: format!("onelogin: GET {}", e.endpoint),
                    message: format!("the user listing stopped after {read} users: {e}"),
                });
            }
        }
        listing.notes.push(self.budget_note());
        Ok(listing)
    }
}

impl Connector for OneLoginConnector {
    fn fetch(&mut self) -> Result<Listing, SourceError> {
        self.read("")
    }

    fn fetch_each(&mut self, each: &mut dyn FnMut(SourceUser)) -> Result<Listing, SourceError> {
        self.read_each("", each)
    }

    /// The users updated since the last round (`updated_since`, as OneLogin's List Users advises
    /// for syncing), a minute of overlap included; deletions are read at full runs.
    fn delta(&mut self, token: Option<&str>) -> Result<super::DeltaListing, SourceError> {
        let groups_read = self.settings.groups_from != OneLoginGroups::None;
        let Some(since) = token else {
            let listing = self.read("")?;
            let next_token = newest(&listing.users).unwrap_or_default();
            return Ok(super::DeltaListing { listing, removed: Vec::new(), next_token, full: true, groups_read });
        };
        let from = chrono::DateTime::parse_from_rfc3339(since)
            .map_err(|_| {
                SourceError::DeltaExpired(format!("onelogin: the stored watermark '{since}' is not a timestamp"))
            })?
            .with_timezone(&chrono::Utc)
            - chrono::Duration::seconds(OVERLAP_SECONDS);
        let stamp = from.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let listing = self.read(&format!("?updated_since={}", query_value(&stamp)))?;
        let next_token = newest(&listing.users).filter(|n| n.as_str() > since).unwrap_or_else(|| since.to_string());
        Ok(super::DeltaListing { listing, removed: Vec::new(), next_token, full: false, groups_read })
    }

    fn check(&mut self) -> Vec<CheckStep> {
        let base = self.settings.base_url.clone();
        let mut steps = vec![CheckStep::new(
            "get a token",
            self.authorization().map(|_| "the API credential is valid".into()).map_err(|e| e.to_string()),
        )];
        if steps[0].ok {
            let url = format!("{base}/api/2/users?limit=1");
            steps.push(CheckStep::new(
                "read users",
                self.get(&url)
                    .map(|r| match r.header("Total-Count") {
                        Some(n) => format!("{n} users in the account"),
                        None => "the credential may read users".into(),
                    })
                    .map_err(|e| e.to_string()),
            ));
        }
        steps
    }
}
