//! Entra incremental rounds. The first round lists every user (`/users/delta`), reads the
//! memberships in full and opens a `/groups/delta` too; the token keeps both delta links. A later
//! round asks both links in one `$batch` (nothing changed: one request), then completes every
//! user it has to touch — changed, or whose membership changed — with their record and their
//! groups (`memberOf`), 10 users per `$batch`. A group that was added, renamed or deleted makes
//! the round a full one: its members' group lists cannot be known from the delta alone.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::entra::{expired, source_user, EntraConnector, BATCH};
use super::http::HttpError;
use super::{DeltaListing, Listing, SourceError};
use crate::config::GroupMembership;
use crate::model::SourceUser;

#[derive(Serialize, Deserialize)]
struct Token {
    users: String,
    #[serde(default)]
    groups: Option<String>,
}

fn unreadable(e: HttpError) -> SourceError {
    SourceError::Unreadable(e.to_string())
}

impl EntraConnector {
    pub(super) fn delta_round(&mut self, token: Option<&str>) -> Result<DeltaListing, SourceError> {
        match token {
            None => self.first_round(),
            Some(t) => match serde_json::from_str::<Token>(t) {
                Ok(t) => self.next_round(t),
                Err(_) => Err(SourceError::DeltaExpired("the stored delta token has an older format".into())),
            },
        }
    }

    fn groups_enabled(&self) -> bool {
        self.settings.groups != GroupMembership::None
    }

    /// A delta link as `$batch` wants it: relative to `/v1.0`.
    fn relative(&self, link: &str) -> String {
        let base = format!("{}/v1.0", self.settings.graph_url);
        link.strip_prefix(&base).map(str::to_string).unwrap_or_else(|| link.to_string())
    }

    /// The items of a delta collection from its first page on, following `@odata.nextLink`;
    /// returns them and the closing `@odata.deltaLink`.
    fn drain(&mut self, mut page: Value, first_url: &str) -> Result<(Vec<Value>, String), SourceError> {
        let mut items = Vec::new();
        loop {
            if let Some(values) = page.get_mut("value").and_then(Value::as_array_mut) {
                items.append(values);
            }
            if let Some(next) = page.get("@odata.nextLink").and_then(Value::as_str).map(str::to_string) {
                page = self.get(&next).map_err(unreadable)?;
            } else if let Some(link) = page.get("@odata.deltaLink").and_then(Value::as_str) {
                return Ok((items, link.to_string()));
            } else {
                return Err(SourceError::Unreadable(format!(
                    "entra: GET {}: a delta page ends with neither nextLink nor deltaLink",
                    super::http::endpoint(first_url)
                )));
            }
        }
    }

    /// `/users/delta` selects what the mapping reads. Delta does not expand: a selected `manager`
    /// comes back as `manager@delta` with the manager's id only, so the fields the mapping reads
    /// of managers are selected too, to resolve managers from the listing itself.
    fn delta_users_url(&self) -> String {
        let mut select: BTreeSet<&str> = self.attributes.iter().map(String::as_str).collect();
        if !self.manager_fields.is_empty() {
            select.extend(self.manager_fields.iter().map(String::as_str));
            select.insert("manager");
        }
        let select: Vec<&str> = select.into_iter().collect();
        format!("{}/v1.0/users/delta?$select={}", self.settings.graph_url, select.join(","))
    }

    /// Replaces each `manager@delta` reference by the manager's fields: from the listing when
    /// the manager is in it, otherwise read, 20 per `$batch`.
    fn resolve_managers(&mut self, mut items: Vec<Value>) -> Result<Vec<Value>, SourceError> {
        if self.manager_fields.is_empty() {
            return Ok(items);
        }
        let reference = |v: &Value| -> Option<String> {
            let refs = v.get("manager@delta")?.as_array()?;
            let current = refs.iter().find(|m| m.get("@removed").is_none())?;
            current.get("id")?.as_str().map(str::to_string)
        };
        let wanted: Vec<(usize, String)> =
            items.iter().enumerate().filter_map(|(i, v)| reference(v).map(|m| (i, m))).collect();
        let position: HashMap<String, usize> = items
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.get("id").and_then(Value::as_str).map(|id| (id.to_string(), i)))
            .collect();
        let fields: Vec<String> = self.manager_fields.iter().cloned().chain(["id".to_string()]).collect();
        let project = |v: &Value| -> Value {
            let mut m = serde_json::Map::new();
            for field in &fields {
                if let Some(x) = v.get(field) {
                    m.insert(field.to_string(), x.clone());
                }
            }
            Value::Object(m)
        };
        let mut managers: HashMap<String, Value> = HashMap::new();
        let mut outside = BTreeSet::new();
        for (_, m) in &wanted {
            match position.get(m) {
                Some(&j) => {
                    managers.insert(m.clone(), project(&items[j]));
                }
                None => {
                    outside.insert(m.clone());
                }
            }
        }
        let outside: Vec<String> = outside.into_iter().collect();
        let batches: Vec<Vec<Value>> = outside
            .chunks(BATCH)
            .map(|chunk| {
                let url = |id: &String| format!("/users/{id}?$select={}", fields.join(","));
                chunk.iter().map(|id| json!({ "id": id, "method": "GET", "url": url(id) })).collect()
            })
            .collect();
        for answers in self.batches(batches).map_err(unreadable)? {
            for (id, (status, body)) in answers {
                if status == 200 {
                    managers.insert(id, project(&body));
                }
            }
        }
        for (i, m) in wanted {
            if let (Some(manager), Value::Object(obj)) = (managers.get(&m), &mut items[i]) {
                obj.insert("manager".into(), manager.clone());
            }
        }
        for item in &mut items {
            if let Value::Object(obj) = item {
                obj.remove("manager@delta");
            }
        }
        Ok(items)
    }

    fn first_round(&mut self) -> Result<DeltaListing, SourceError> {
        let url = self.delta_users_url();
        let page = self.get(&url).map_err(unreadable)?;
        let (items, users_link) = self.drain(page, &url)?;
        let items = self.resolve_managers(items)?;
        let mut users: Vec<SourceUser> =
            items.into_iter().filter(|v| v.get("@removed").is_none()).filter_map(source_user).collect();
        let groups_link = if self.groups_enabled() {
            let (mut memberships, link) = self.memberships().map_err(unreadable)?;
            for user in &mut users {
                if let Some(g) = memberships.remove(&user.id) {
                    user.groups = g;
                }
            }
            match link {
                Some(link) => Some(link),
                None => {
                    // Read group by group: open the groups delta only for its link.
                    let url = format!("{}/v1.0/groups/delta?$select=displayName,members", self.settings.graph_url);
                    let page = self.get(&url).map_err(unreadable)?;
                    Some(self.drain(page, &url)?.1)
                }
            }
        } else {
            None
        };
        if self.photos {
            self.photo_etags(&mut users).map_err(unreadable)?;
        }
        let token = serde_json::to_string(&Token { users: users_link, groups: groups_link }).expect("serialises");
        let listing = Listing { users, complete: true, ..Listing::default() };
        Ok(DeltaListing { listing, removed: Vec::new(), next_token: token, full: true, groups_read: true })
    }

    fn next_round(&mut self, token: Token) -> Result<DeltaListing, SourceError> {
        let mut requests = vec![json!({ "id": "users", "method": "GET", "url": self.relative(&token.users) })];
        if let Some(groups) = &token.groups {
            requests.push(json!({ "id": "groups", "method": "GET", "url": self.relative(groups) }));
        }
        let mut answers = self.batch(requests).map_err(unreadable)?;
        let mut page_of = |id: &str, link: &str| -> Result<Value, SourceError> {
            match answers.remove(id) {
                Some((200, body)) => Ok(body),
                Some((status, body)) => {
                    let code = body.pointer("/error/code").and_then(Value::as_str).map(str::to_string);
                    let e = HttpError {
                        provider: "entra",
                        method: "GET",
                        endpoint: super::http::endpoint(link),
                        status: Some(status),
                        code,
                        detail: String::new(),
                    };
                    Err(if expired(&e) {
                        SourceError::DeltaExpired(format!("the stored delta token expired ({e})"))
                    } else {
                        unreadable(e)
                    })
                }
                None => Err(SourceError::Unreadable(format!("entra: $batch: no answer for the {id} delta"))),
            }
        };
        let users_page = page_of("users", &token.users)?;
        let groups_page = match &token.groups {
            Some(link) => Some(page_of("groups", link)?),
            None => None,
        };
        let (items, users_link) = self.drain(users_page, &token.users)?;
        let mut removed = Vec::new();
        let mut changed: Vec<SourceUser> = Vec::new();
        for v in items {
            if v.get("@removed").is_some() {
                removed.extend(v.get("id").and_then(Value::as_str).map(str::to_string));
            } else if let Some(u) = source_user(v) {
                changed.push(u);
            }
        }
        let mut groups_link = None;
        let mut membership_changed = BTreeSet::new();
        if let (Some(page), Some(link)) = (groups_page, &token.groups) {
            let (groups, next) = self.drain(page, link)?;
            for g in groups {
                if g.get("@removed").is_some() || g.get("displayName").is_some() {
                    return Err(SourceError::DeltaExpired(
                        "a group was added, renamed or deleted, which needs every membership".into(),
                    ));
                }
                for m in g.get("members@delta").and_then(Value::as_array).into_iter().flatten() {
                    let is_user = m.get("@odata.type").and_then(Value::as_str).is_none_or(|t| t.ends_with(".user"));
                    if let (true, Some(id)) = (is_user, m.get("id").and_then(Value::as_str)) {
                        membership_changed.insert(id.to_string());
                    }
                }
            }
            groups_link = Some(next);
        }
        // A delta answer may carry only what changed, and never expands the manager: every
        // touched user's record is read again in full, with their groups.
        membership_changed.extend(changed.into_iter().map(|u| u.id));
        let mut users = self.complete_users(Vec::new(), &membership_changed, &removed)?;
        if self.photos {
            self.photo_etags(&mut users).map_err(unreadable)?;
        }
        let token = serde_json::to_string(&Token { users: users_link, groups: groups_link }).expect("serialises");
        let listing = Listing { users, complete: true, ..Listing::default() };
        Ok(DeltaListing { listing, removed, next_token: token, full: false, groups_read: self.groups_enabled() })
    }

    /// One user, complete with groups (and photo etag); empty when the id is unknown.
    pub(super) fn one_user(&mut self, id: &str) -> Result<Vec<SourceUser>, SourceError> {
        let ids = BTreeSet::from([id.to_string()]);
        let mut users = self.complete_users(Vec::new(), &ids, &[])?;
        if self.photos {
            self.photo_etags(&mut users).map_err(unreadable)?;
        }
        Ok(users)
    }

    /// The users a round touches, each with a full record and (when groups are read) all their
    /// groups: the changed ones, plus those whose only change is a membership.
    fn complete_users(
        &mut self,
        mut users: Vec<SourceUser>,
        membership_changed: &BTreeSet<String>,
        removed: &[String],
    ) -> Result<Vec<SourceUser>, SourceError> {
        let known: BTreeSet<String> = users.iter().map(|u| u.id.clone()).collect();
        let records: Vec<String> =
            membership_changed.iter().filter(|id| !known.contains(*id) && !removed.contains(id)).cloned().collect();
        let groups_enabled = self.groups_enabled();
        if !groups_enabled && records.is_empty() {
            return Ok(users);
        }
        let member_of = match self.settings.groups {
            GroupMembership::Transitive => "transitiveMemberOf",
            _ => "memberOf",
        };
        let select = self.user_query("users/{id}", "");
        let select = self.relative(&select);
        let mut groups: HashMap<String, Vec<String>> = HashMap::new();
        let mut fetched: Vec<SourceUser> = Vec::new();
        let everyone: Vec<String> = known.iter().cloned().chain(records.iter().cloned()).collect();
        // Two sub-requests for a user whose record is needed, one otherwise: 10 users a batch.
        for chunk in everyone.chunks(BATCH / 2) {
            let mut requests = Vec::new();
            for id in chunk {
                let url = format!("/users/{id}/{member_of}?$select=id,displayName");
                if groups_enabled {
                    requests.push(json!({ "id": format!("g{id}"), "method": "GET", "url": url }));
                }
                if records.contains(id) {
                    let url = select.replacen("{id}", id, 1);
                    requests.push(json!({ "id": format!("u{id}"), "method": "GET", "url": url }));
                }
            }
            let answers = self.batch(requests).map_err(unreadable)?;
            for id in chunk {
                if !groups_enabled {
                    groups.insert(id.clone(), Vec::new());
                } else {
                    match answers.get(&format!("g{id}")) {
                        Some((200, body)) => {
                            let mut names = group_names(body);
                            let mut next = body.get("@odata.nextLink").and_then(Value::as_str).map(str::to_string);
                            while let Some(url) = next.take() {
                                let page = self.get(&url).map_err(unreadable)?;
                                names.extend(group_names(&page));
                                next = page.get("@odata.nextLink").and_then(Value::as_str).map(str::to_string);
                            }
                            groups.insert(id.clone(), names);
                        }
                        // Deleted since the delta was read: the next round reports the removal.
                        Some((404, _)) => {}
                        other => {
                            let status = other.map(|(s, _)| *s).unwrap_or(0);
                            return Err(SourceError::Unreadable(format!(
                            "entra: GET /v1.0/users/{{id}}/{member_of}: {status} while completing an incremental round"
                        )));
                        }
                    }
                }
                if let Some((200, body)) = answers.get(&format!("u{id}")) {
                    fetched.extend(source_user(body.clone()));
                }
            }
        }
        users.extend(fetched);
        // A user whose groups could not be read (deleted meanwhile) is not synced this round.
        users.retain(|u| groups.contains_key(&u.id));
        for u in &mut users {
            u.groups = groups.remove(&u.id).unwrap_or_default();
        }
        Ok(users)
    }
}

fn group_names(page: &Value) -> Vec<String> {
    page.get("value")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|g| g.get("@odata.type").and_then(Value::as_str) == Some("#microsoft.graph.group"))
        .filter_map(|g| g.get("displayName").and_then(Value::as_str).map(str::to_string))
        .collect()
}
