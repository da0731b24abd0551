//! The declarative `rest` connector: any HTTP API that lists users, described in the
//! configuration (config/rest.rs) instead of written as code — authentication, the list
//! request, its paging, and JSON Pointers to the records and their fields.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::{Map, Value};

use super::http::{endpoint, query_value, Http, HttpError, Request, Response};
use super::{CheckStep, Connector, Listing, RowError, SourceError};
use crate::config::{GroupRules, OauthClientAuth, RestAuth, RestList, RestPaging, RestSource};
use crate::mapping::group_matters;
use crate::model::{Attributes, SourceUser};

const MAX_PAGES: usize = 1_000_000;

pub(super) struct RestConnector {
    settings: RestSource,
    http: Http,
    token: Option<(String, Instant)>,
    rules: GroupRules,
}

/// The values a JSON Pointer reaches, where `*` stands for every item of a list.
pub fn select<'v>(v: &'v Value, pointer: &str) -> Vec<&'v Value> {
    if pointer.is_empty() {
        return vec![v];
    }
    let mut current = vec![v];
    for raw in pointer.split('/').skip(1) {
        let token = raw.replace("~1", "/").replace("~0", "~");
        current = current
            .into_iter()
            .flat_map(|c| match (c, token.as_str()) {
                (Value::Array(items), "*") => items.iter().collect::<Vec<_>>(),
                (Value::Array(items), t) => t.parse::<usize>().ok().and_then(|i| items.get(i)).into_iter().collect(),
                (Value::Object(m), t) => m.get(t).into_iter().collect(),
                _ => Vec::new(),
            })
            .collect();
    }
    current
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl RestConnector {
    pub fn new(settings: RestSource, http: Http, rules: GroupRules) -> Self {
        RestConnector { settings, http, token: None, rules }
    }

    fn fail(&self, method: &'static str, url: &str, status: Option<u16>, detail: String) -> HttpError {
        HttpError { provider: "rest", method, endpoint: endpoint(url), status, code: None, detail }
    }

    /// The header that authenticates a request, if any.
    fn authorization(&mut self) -> Result<Option<(std::borrow::Cow<'static, str>, String)>, HttpError> {
        let basic = |u: &str, p: &str| {
            format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}")))
        };
        let (token_url, client_id, client_secret, scope, client_auth) = match &self.settings.auth {
            RestAuth::None => return Ok(None),
            RestAuth::Bearer { token } => {
                return Ok(Some(("Authorization".into(), format!("Bearer {}", token.expose()))))
            }
            RestAuth::Basic { username, password } => {
                return Ok(Some(("Authorization".into(), basic(username, password.expose()))))
            }
            RestAuth::Header { name, prefix, value } => {
                return Ok(Some((name.clone().into(), format!("{prefix}{}", value.expose()))));
            }
            RestAuth::Oauth { token_url, client_id, client_secret, scope, client_auth } => {
                (token_url.clone(), client_id.clone(), client_secret.clone(), scope.clone(), *client_auth)
            }
        };
        if let Some((token, until)) = &self.token {
            if Instant::now() < *until {
                return Ok(Some(("Authorization".into(), format!("Bearer {token}"))));
            }
        }
        let mut form = vec![("grant_type", "client_credentials".to_string())];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        let mut req = match client_auth {
            OauthClientAuth::Body => {
                form.push(("client_id", client_id.clone()));
                form.push(("client_secret", client_secret.expose().to_string()));
                Request::post_form(token_url.clone(), form)
            }
            OauthClientAuth::Basic => Request::post_form(token_url.clone(), form),
        };
        if client_auth == OauthClientAuth::Basic {
            req = req.header("Authorization", basic(&query_value(&client_id), &query_value(client_secret.expose())));
        }
        let resp = self.http.send(&req).map_err(|mut e| {
            e.detail = format!("check auth.token_url, auth.client_id and auth.client_secret; {}", e.detail);
            e
        })?;
        let v = resp.json().map_err(|d| self.fail("POST", &token_url, Some(resp.status), d))?;
        let token = v.get("access_token").and_then(Value::as_str).ok_or_else(|| {
            self.fail("POST", &token_url, Some(resp.status), "the token answer has no access_token".into())
        })?;
        let lifetime = v.get("expires_in").and_then(Value::as_u64).unwrap_or(300);
        self.token = Some((token.to_string(), Instant::now() + Duration::from_secs(lifetime - 30.min(lifetime / 2))));
        Ok(Some(("Authorization".into(), format!("Bearer {token}"))))
    }

    fn get(&mut self, url: &str) -> Result<Response, HttpError> {
        let mut req = Request::get(url.to_string()).header("Accept", "application/json".into());
        if let Some((name, value)) = self.authorization()? {
            req = req.header(name, value);
        }
        let resp = self.http.send(&req).inspect_err(|e| {
            if e.status == Some(401) {
                self.token = None;
            }
        })?;
        self.pace(&resp);
        Ok(resp)
    }

    /// At zero remaining requests, waits for the stated reset (at most ten minutes).
    fn pace(&self, resp: &Response) {
        let rl = &self.settings.rate_limit;
        let num =
            |h: &Option<String>| h.as_deref().and_then(|h| resp.header(h)).and_then(|v| v.trim().parse::<u64>().ok());
        if num(&rl.remaining_header) != Some(0) {
            return;
        }
        let Some(reset) = num(&rl.reset_header) else { return };
        let seconds = if rl.reset_is_epoch {
            let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
            reset.saturating_sub(now)
        } else {
            reset
        };
        std::thread::sleep(Duration::from_secs(seconds.clamp(1, 600)));
    }

    fn page_url(&self, n: usize) -> String {
        let base = format!("{}{}", self.settings.base_url, self.settings.users.path);
        let sep = if base.contains('?') { '&' } else { '?' };
        match &self.settings.paging {
            RestPaging::Offset { offset_param, limit_param, limit, start } => {
                let offset = *start as usize + n * *limit as usize;
                format!("{base}{sep}{offset_param}={offset}&{limit_param}={limit}")
            }
            RestPaging::Page { page_param, size_param, size, first } => {
                format!("{base}{sep}{page_param}={}&{size_param}={size}", *first as usize + n)
            }
            _ => base,
        }
    }

    /// Every record, page by page, each to `each`; the error that stopped the listing, after
    /// what was read.
    fn records(&mut self, each: &mut dyn FnMut(Value)) -> Result<usize, (usize, HttpError)> {
        let mut url = self.page_url(0);
        let mut read = 0;
        for n in 0..MAX_PAGES {
            let resp = self.get(&url).map_err(|e| (read, e))?;
            let body = resp.json().map_err(|d| (read, self.fail("GET", &url, Some(resp.status), d)))?;
            let found = select(&body, &self.settings.users.records);
            let items: Vec<Value> = match found.first() {
                Some(Value::Array(items)) => items.clone(),
                None if !self.settings.users.records.is_empty() => Vec::new(),
                _ => {
                    let detail = format!("no list of records at '{}'", self.settings.users.records);
                    return Err((read, self.fail("GET", &url, Some(resp.status), detail)));
                }
            };
            let got = items.len();
            read += got;
            items.into_iter().for_each(&mut *each);
            let next = match &self.settings.paging {
                RestPaging::None => None,
                RestPaging::LinkHeader => resp.header_values("Link").find_map(next_link),
                RestPaging::NextUrl { pointer } => select(&body, pointer).first().and_then(|v| text(v)),
                RestPaging::Cursor { pointer, param } => {
                    select(&body, pointer).first().and_then(|v| text(v)).map(|c| {
                        let base = self.page_url(0);
                        let sep = if base.contains('?') { '&' } else { '?' };
                        format!("{base}{sep}{param}={}", query_value(&c))
                    })
                }
                RestPaging::Offset { limit, .. } => (got >= *limit as usize).then(|| self.page_url(n + 1)),
                RestPaging::Page { size, .. } => (got >= *size as usize).then(|| self.page_url(n + 1)),
            };
            match next {
                Some(u) if u == url => {
                    return Err((read, self.fail("GET", &url, None, "the next page is this page again".into())))
                }
                Some(u) => url = u,
                None => return Ok(read),
            }
        }
        Err((read, self.fail("GET", &url, None, format!("did not end after {MAX_PAGES} pages"))))
    }

    /// One record as a source user (a free function of the settings, so that it runs while
    /// the pages are read).
    fn user(list: &RestList, rules: &GroupRules, record: Value) -> Result<SourceUser, RowError> {
        let location = |id: &str| format!("rest: {} record {id}", list.path);
        let Some(id) = select(&record, &list.id).first().and_then(|v| text(v)) else {
            return Err(RowError {
                idp_id: None,
                location: format!("rest: {}", list.path),
                message: format!("a record without an id at '{}'", list.id),
            });
        };
        let active = match &list.active {
            None => true,
            Some(p) => match select(&record, p).first() {
                Some(Value::Bool(b)) => *b,
                Some(v) => !text(v).is_some_and(|t| list.inactive_values.iter().any(|x| x.eq_ignore_ascii_case(&t))),
                None => true,
            },
        };
        let manager = list.manager.as_ref().and_then(|p| select(&record, p).first().and_then(|v| text(v)));
        let groups: Vec<String> = match &list.groups {
            Some(p) => select(&record, p).into_iter().filter_map(text).filter(|g| group_matters(rules, g)).collect(),
            None => Vec::new(),
        };
        let attributes = if list.fields.is_empty() {
            match record {
                Value::Object(m) => Attributes::from(m),
                other => Attributes::from(Map::from_iter([("value".to_string(), other)])),
            }
        } else {
            let mut m = Map::new();
            for (name, p) in &list.fields {
                let found = select(&record, p);
                let value = match found.as_slice() {
                    [] => continue,
                    [one] => (*one).clone(),
                    many => Value::Array(many.iter().map(|v| (*v).clone()).collect()),
                };
                m.insert(name.clone(), value);
            }
            Attributes::from(m)
        };
        Ok(SourceUser {
            location: location(&id),
            id,
            attributes,
            active,
            groups,
            manager,
            photo_etag: None,
            version: None,
        })
    }
}

/// The `rel="next"` URL among `Link` header values (RFC 8288).
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let is_next = params.split(';').any(|p| p.trim().replace(' ', "").eq_ignore_ascii_case("rel=\"next\""));
        is_next.then(|| url.trim().trim_start_matches('<').trim_end_matches('>').to_string())
    })
}

impl Connector for RestConnector {
    fn fetch(&mut self) -> Result<Listing, SourceError> {
        super::rows::collected(|each| self.fetch_each(each))
    }

    /// Each record goes on as a user as soon as its page is read: the listing is never held.
    fn fetch_each(&mut self, each: &mut dyn FnMut(SourceUser)) -> Result<Listing, SourceError> {
        let mut listing = Listing { complete: true, ..Listing::default() };
        let (list, rules) = (self.settings.users.clone(), self.rules.clone());
        let read = self.records(&mut |r| match Self::user(&list, &rules, r) {
            Ok(u) => each(u),
            Err(e) => {
                listing.incomplete(e);
            }
        });
        match read {
            Ok(_) => {}
            Err((0, e)) => return Err(SourceError::Unreadable(e.to_string())),
            Err((read, e)) => {
                listing.incomplete(RowError {
                    idp_id: None,
                    location: format!("rest: GET {}", e.endpoint),
                    message: format!("the listing stopped after {read} records: {e}"),
                });
            }
        }
        Ok(listing)
    }

    fn check(&mut self) -> Vec<CheckStep> {
        let url = self.page_url(0);
        let result = self.get(&url).map_err(|e| e.to_string()).and_then(|resp| {
            let body = resp.json()?;
            match select(&body, &self.settings.users.records).first() {
                Some(Value::Array(items)) => Ok(format!("the first page holds {} records", items.len())),
                _ => Err(format!(
                    "rest: GET {}: no list of records at '{}'",
                    endpoint(&url),
                    self.settings.users.records
                )),
            }
        });
        vec![CheckStep::new("read the first page", result)]
    }
}

#[cfg(test)]
mod tests {
    use super::select;
    use serde_json::json;

    #[test]
    fn pointers_reach_fields_and_every_item_of_a_list() {
        let v = json!({ "a/b": 1, "profile": { "emails": [{ "value": "x" }, { "value": "y" }] }, "list": [1, 2] });
        assert_eq!(select(&v, "/a~1b"), vec![&json!(1)]);
        assert_eq!(select(&v, "/profile/emails/1/value"), vec![&json!("y")]);
        assert_eq!(select(&v, "/profile/emails/*/value"), vec![&json!("x"), &json!("y")]);
        assert_eq!(select(&v, ""), vec![&v]);
        assert!(select(&v, "/missing/x").is_empty());
    }
}
