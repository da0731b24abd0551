//! Keycloak through its Admin REST API, as a confidential client's service account
//! (client-credentials token from the realm's OpenID Connect token endpoint): users paged by
//! `first`/`max` (checked against `/users/count`, so a listing that shifted while paging proves
//! nobody gone), `enabled` as active, multi-valued `attributes`, groups with their sub-groups
//! (inline in older servers, `/groups/{id}/children` since Keycloak 23) and members, realm roles
//! as an optional group source.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::http::{endpoint, query_value, Http, HttpError, Request};
use super::{CheckStep, Connector, Listing, RowError, SourceError};
use crate::config::{GroupMembership, GroupRules, KeycloakGroupNames, KeycloakSource};
use crate::mapping::group_matters;
use crate::model::{Attributes, SourceUser};

/// More pages than this is a server that never ends its listing.
const MAX_PAGES: usize = 1_000_000;

pub(super) struct KeycloakConnector {
    settings: KeycloakSource,
    http: Http,
    token: Option<(String, Instant)>,
    rules: GroupRules,
}

/// A group and the groups under it, as one tree.
struct Group {
    id: String,
    name: String,
    path: String,
    children: Vec<Group>,
}

impl KeycloakConnector {
    pub fn new(settings: KeycloakSource, http: Http, rules: GroupRules) -> Self {
        KeycloakConnector { settings, http, token: None, rules }
    }

    fn admin(&self) -> String {
        format!("{}/admin/realms/{}", self.settings.base_url, query_value(&self.settings.realm))
    }

    fn fail(&self, method: &'static str, url: &str, status: Option<u16>, detail: String) -> HttpError {
        HttpError { provider: "keycloak", method, endpoint: endpoint(url), status, code: None, detail }
    }

    /// A bearer token of the client's service account, kept until shortly before it expires.
    fn authorization(&mut self) -> Result<String, HttpError> {
        if let Some((token, until)) = &self.token {
            if Instant::now() < *until {
                return Ok(format!("Bearer {token}"));
            }
        }
        let realm = self.settings.token_realm.as_deref().unwrap_or(&self.settings.realm);
        let url = format!("{}/realms/{}/protocol/openid-connect/token", self.settings.base_url, query_value(realm));
        let form = vec![
            ("grant_type", "client_credentials".to_string()),
            ("client_id", self.settings.client_id.clone()),
            ("client_secret", self.settings.client_secret.expose().to_string()),
        ];
        let resp = self.http.send(&Request::post_form(url.clone(), form)).map_err(|mut e| {
            e.detail = format!(
                "check client_id and client_secret, and that the client has service accounts enabled; {}",
                e.detail
            );
            e
        })?;
        let v = resp.json().map_err(|d| self.fail("POST", &url, Some(resp.status), d))?;
        let token = v
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| self.fail("POST", &url, Some(resp.status), "the token answer has no access_token".into()))?;
        let lifetime = v.get("expires_in").and_then(Value::as_u64).unwrap_or(60);
        self.token = Some((token.to_string(), Instant::now() + Duration::from_secs(lifetime - 10.min(lifetime / 2))));
        Ok(format!("Bearer {token}"))
    }

    fn get(&mut self, url: &str) -> Result<Value, HttpError> {
        let auth = self.authorization()?;
        let req =
            Request::get(url.to_string()).header("Authorization", auth).header("Accept", "application/json".into());
        let resp = self.http.send(&req).map_err(|mut e| {
            match e.status {
                Some(401) => self.token = None,
                Some(403) => {
                    e.detail = format!(
                        "give the client's service account the realm-management roles view-users and query-groups; {}",
                        e.detail
                    )
                }
                _ => {}
            }
            e
        })?;
        resp.json().map_err(|d| self.fail("GET", url, Some(resp.status), d))
    }

    /// Every item of a `first`/`max` paged list, each handed to `each`; the error that stopped
    /// it, if one did, after what was read.
    fn paged(&mut self, url: &str, each: &mut dyn FnMut(Value)) -> Result<usize, (usize, HttpError)> {
        let max = self.settings.page_size as usize;
        let sep = if url.contains('?') { '&' } else { '?' };
        let mut read = 0;
        for _ in 0..MAX_PAGES {
            let page_url = format!("{url}{sep}first={read}&max={max}");
            let items = match self.get(&page_url) {
                Ok(Value::Array(items)) => items,
                Ok(_) => {
                    return Err((read, self.fail("GET", &page_url, Some(200), "the answer is not a JSON list".into())))
                }
                Err(e) => return Err((read, e)),
            };
            let got = items.len();
            read += got;
            items.into_iter().for_each(&mut *each);
            // A page shorter than `max` is the last (Keycloak answers `max` while there are more).
            if got < max {
                return Ok(read);
            }
        }
        Err((read, self.fail("GET", url, None, format!("did not end after {MAX_PAGES} pages"))))
    }

    /// The realm's group trees: sub-groups inline (older servers) or from `/children`.
    fn groups(&mut self) -> Result<Vec<Group>, HttpError> {
        let mut tops = Vec::new();
        let url = format!("{}/groups?briefRepresentation=true", self.admin());
        self.paged(&url, &mut |g| tops.push(g)).map_err(|(_, e)| e)?;
        tops.into_iter().map(|g| self.tree(g, "")).collect()
    }

    fn tree(&mut self, g: Value, parent: &str) -> Result<Group, HttpError> {
        let id = g.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
        let name = g.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
        let path =
            g.get("path").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| format!("{parent}/{name}"));
        let inline: Vec<Value> = g.get("subGroups").and_then(Value::as_array).cloned().unwrap_or_default();
        let count = g.get("subGroupCount").and_then(Value::as_u64).unwrap_or(0);
        let subs = if inline.is_empty() && count > 0 {
            let mut found = Vec::new();
            let url = format!("{}/groups/{}/children?briefRepresentation=true", self.admin(), query_value(&id));
            self.paged(&url, &mut |c| found.push(c)).map_err(|(_, e)| e)?;
            found
        } else {
            inline
        };
        let children = subs.into_iter().map(|c| self.tree(c, &path)).collect::<Result<_, _>>()?;
        Ok(Group { id, name, path, children })
    }

    fn shown(&self, g: &Group) -> String {
        match self.settings.group_names {
            KeycloakGroupNames::Name => g.name.clone(),
            KeycloakGroupNames::Path => g.path.clone(),
        }
    }

    /// Group names per user id. A member of a sub-group is, with `transitive`, also a member of
    /// the groups above it (Keycloak's own inheritance runs that way).
    fn memberships(&mut self) -> Result<HashMap<String, Vec<String>>, HttpError> {
        let mut by_user: HashMap<String, Vec<String>> = HashMap::new();
        if self.settings.groups != GroupMembership::None {
            let trees = self.groups()?;
            let mut stack: Vec<(&Group, Vec<String>)> = trees.iter().map(|g| (g, Vec::new())).collect();
            while let Some((g, above)) = stack.pop() {
                let name = self.shown(g);
                let mut names = vec![name.clone()];
                if self.settings.groups == GroupMembership::Transitive {
                    names.extend(above.iter().cloned());
                }
                names.retain(|n| group_matters(&self.rules, n));
                if !names.is_empty() {
                    let url =
                        format!("{}/groups/{}/members?briefRepresentation=true", self.admin(), query_value(&g.id));
                    let mut ids = Vec::new();
                    self.paged(&url, &mut |m| ids.extend(m.get("id").and_then(Value::as_str).map(str::to_string)))
                        .map_err(|(_, e)| e)?;
                    for id in ids {
                        by_user.entry(id).or_default().extend(names.iter().cloned());
                    }
                }
                let mut next = above.clone();
                next.push(name);
                stack.extend(g.children.iter().map(|c| (c, next.clone())));
            }
        }
        if self.settings.roles {
            let mut roles = Vec::new();
            self.paged(&format!("{}/roles?briefRepresentation=true", self.admin()), &mut |r| {
                roles.extend(r.get("name").and_then(Value::as_str).map(str::to_string))
            })
            .map_err(|(_, e)| e)?;
            roles.retain(|r| group_matters(&self.rules, r));
            for role in roles {
                let url = format!("{}/roles/{}/users?briefRepresentation=true", self.admin(), query_value(&role));
                let mut ids = Vec::new();
                self.paged(&url, &mut |m| ids.extend(m.get("id").and_then(Value::as_str).map(str::to_string)))
                    .map_err(|(_, e)| e)?;
                for id in ids {
                    by_user.entry(id).or_default().push(role.clone());
                }
            }
        }
        for names in by_user.values_mut() {
            names.sort();
            names.dedup();
        }
        Ok(by_user)
    }

    fn user(&self, v: Value) -> Result<SourceUser, RowError> {
        source_user(v, self.settings.manager_attribute.as_deref())
    }
}

/// One `UserRepresentation` as a source record: `enabled` is active; the manager, where
/// configured, is the first value of that attribute.
pub(super) fn source_user(v: Value, manager_attribute: Option<&str>) -> Result<SourceUser, RowError> {
    let Value::Object(obj) = v else {
        return Err(RowError {
            idp_id: None,
            location: "keycloak: /users".into(),
            message: "a user that is not an object".into(),
        });
    };
    let Some(id) = obj.get("id").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string) else {
        return Err(RowError {
            idp_id: None,
            location: "keycloak: /users".into(),
            message: "a user without an id".into(),
        });
    };
    let active = obj.get("enabled").and_then(Value::as_bool).unwrap_or(false);
    let manager = manager_attribute
        .and_then(|a| obj.get("attributes")?.get(a)?.as_array()?.first()?.as_str().map(str::to_string));
    Ok(SourceUser {
        location: format!("keycloak user {id}"),
        id,
        attributes: Attributes::from(obj),
        active,
        groups: Vec::new(),
        manager,
        photo_etag: None,
        version: None,
    })
}

impl Connector for KeycloakConnector {
    fn fetch(&mut self) -> Result<Listing, SourceError> {
        super::rows::collected(|each| self.fetch_each(each))
    }

    /// Memberships first, so that each user goes on, with its groups, as soon as its page is
    /// read: the listing is never held as records. The count is taken just before the listing.
    fn fetch_each(&mut self, each: &mut dyn FnMut(SourceUser)) -> Result<Listing, SourceError> {
        let groups = self.memberships().map_err(|e| SourceError::Unreadable(e.to_string()))?;
        let mut listing = Listing { complete: true, ..Listing::default() };
        let count_url = format!("{}/users/count", self.admin());
        let before = self.get(&count_url).map_err(|e| SourceError::Unreadable(e.to_string()))?.as_u64();
        let url = format!("{}/users?briefRepresentation=false", self.admin());
        let manager = self.settings.manager_attribute.clone();
        let read = self.paged(&url, &mut |v| match source_user(v, manager.as_deref()) {
            Ok(mut u) => {
                u.groups = groups.get(&u.id).cloned().unwrap_or_default();
                each(u);
            }
            Err(e) => {
                listing.incomplete(e);
            }
        });
        match read {
            Ok(read) => {
                // Users added or removed while paging shift the pages: nobody is proven absent.
                if before.is_some_and(|n| n as usize != read) {
                    listing.incomplete(RowError {
                        idp_id: None,
                        location: "keycloak: /users".into(),
                        message: format!(
                            "the realm counted {} users but listed {read}: users changed while paging, so nobody is taken for gone in this run",
                            before.unwrap_or(0)
                        ),
                    });
                }
            }
            Err((0, e)) => return Err(SourceError::Unreadable(e.to_string())),
            Err((read, e)) => {
                listing.incomplete(RowError {
                    idp_id: None,
                    location: format!("keycloak: GET {}", e.endpoint),
                    message: format!("the user listing stopped after {read} users: {e}"),
                });
            }
        }
        Ok(listing)
    }

    /// `GET /users/{id}` and `/users/{id}/groups`, for a login; with roles as groups or
    /// transitive membership the engine reads everything instead.
    fn fetch_one(&mut self, id: &str) -> Result<Option<Listing>, SourceError> {
        if self.settings.roles || self.settings.groups == GroupMembership::Transitive {
            return Ok(None);
        }
        let url = format!("{}/users/{}", self.admin(), query_value(id));
        let v = match self.get(&url) {
            Ok(v) => v,
            Err(e) if e.status == Some(404) => return Ok(Some(Listing { complete: true, ..Listing::default() })),
            Err(e) => return Err(SourceError::Unreadable(e.to_string())),
        };
        let mut user = self.user(v).map_err(|e| SourceError::Unreadable(format!("keycloak: {}", e.message)))?;
        if self.settings.groups != GroupMembership::None {
            let mut names = Vec::new();
            let by_path = self.settings.group_names == KeycloakGroupNames::Path;
            let url = format!("{}/users/{}/groups?briefRepresentation=true", self.admin(), query_value(id));
            self.paged(&url, &mut |g| {
                let key = if by_path { "path" } else { "name" };
                names.extend(g.get(key).and_then(Value::as_str).map(str::to_string))
            })
            .map_err(|(_, e)| SourceError::Unreadable(e.to_string()))?;
            user.groups = names.into_iter().filter(|n| group_matters(&self.rules, n)).collect();
        }
        Ok(Some(Listing { users: vec![user], complete: true, ..Listing::default() }))
    }

    fn check(&mut self) -> Vec<CheckStep> {
        let mut steps = vec![CheckStep::new(
            "get a token",
            self.authorization().map(|_| "the client's service account has a token".into()).map_err(|e| e.to_string()),
        )];
        if !steps[0].ok {
            return steps;
        }
        let count = format!("{}/users/count", self.admin());
        steps.push(CheckStep::new(
            "read users",
            self.get(&count)
                .map(|n| format!("{} users in realm {}", n, self.settings.realm))
                .map_err(|e| e.to_string()),
        ));
        if steps[1].ok && self.settings.groups != GroupMembership::None {
            let url = format!("{}/groups?first=0&max=1", self.admin());
            steps.push(CheckStep::new(
                "read groups",
                self.get(&url).map(|_| "the service account may read groups".into()).map_err(|e| e.to_string()),
            ));
        }
        steps
    }
}
