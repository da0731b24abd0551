//! Entra incremental rounds. The first round takes the users' delta link as it stands
//! (`$deltatoken=latest`), then lists memberships and users as a full run does, streamed, and
//! opens a `/groups/delta` too; the token keeps both delta links. A later
//! round asks both links in one `$batch` (nothing changed: one request), then completes every
//! user it has to touch — changed, or whose membership changed — with their record and their
//! groups (`memberOf`), 10 users per `$batch`. A group that was added, renamed or deleted makes
//! the round a full one: its members' group lists cannot be known from the delta alone.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::entra::{expired, source_user, unreadable, EntraConnector, GroupNames, BATCH};
use super::entra_batch::{Answers, SubRequest};
use super::http::HttpError;
use super::{DeltaListing, Listing, SourceError};
use crate::config::GroupMembership;
use crate::mapping::group_matters;
use crate::model::SourceUser;

#[derive(Serialize, Deserialize)]
struct Token {
    users: String,
    #[serde(default)]
    groups: Option<String>,
    /// The groups' names when the groups delta was last read, so that a changed group entry
    /// that repeats its unchanged `displayName` is not taken for a rename. Graph documents that
    /// an updated instance carries "at least the properties that have been updated, but
    /// additional properties may be included" (learn.microsoft.com/graph/delta-query-overview).
    /// Missing in tokens stored before it existed: then any name counts as a change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    names: Option<GroupNames>,
}

/// What a groups delta round says about memberships.
enum GroupChanges {
    /// Users whose memberships changed.
    Members(BTreeSet<String>),
    /// A change that needs every membership read again, and why.
    Everything(String),
}

impl EntraConnector {
    pub(super) fn delta_round(&mut self, token: Option<&str>) -> Result<DeltaListing, SourceError> {
        match token {
            None => {
                let mut users = Vec::new();
                let mut round = self.first_round(&mut |u| users.push(u))?;
                round.listing.users = users;
                Ok(round)
            }
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

    /// The first round, "sync from now": the users' delta link is asked for first
    /// (`$deltatoken=latest` answers a delta link and no users; learn.microsoft.com/graph/
    /// delta-query-overview: "Microsoft Entra ID resources (such as users and groups) support
    /// sync from now scenarios"), then memberships and users are listed as a full run lists
    /// them, each user handed over as it is read. A change made while the listing is read is
    /// reported again by the next round, where applying it again changes nothing; reading the
    /// `/users/delta` chain instead would hold every record until its last page, since delta
    /// names a manager by id only.
    pub(super) fn first_round(&mut self, each: &mut dyn FnMut(SourceUser)) -> Result<DeltaListing, SourceError> {
        let users_link = self.latest_link(&self.delta_users_url()).map_err(unreadable)?;
        let (mut memberships, chain) = self.memberships(true).map_err(unreadable)?;
        let listing = self.list_each(&mut memberships, each)?;
        let (groups, names) = match chain {
            Some(c) => (Some(c.link), Some(c.names)),
            None => (None, None),
        };
        let token = serde_json::to_string(&Token { users: users_link, groups, names }).expect("serialises");
        Ok(DeltaListing { listing, removed: Vec::new(), next_token: token, full: true, groups_read: true })
    }

    fn next_round(&mut self, token: Token) -> Result<DeltaListing, SourceError> {
        let mut requests = vec![SubRequest::get("users", self.relative(&token.users))];
        if let Some(groups) = &token.groups {
            requests.push(SubRequest::get("groups", self.relative(groups)));
        }
        let mut answers: Answers = self.batch(requests).map_err(unreadable)?;
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
        let mut names = token.names;
        let mut membership_changed = BTreeSet::new();
        if let (Some(page), Some(link)) = (groups_page, &token.groups) {
            let (groups, next) = self.drain(page, link)?;
            match self.group_changes(&groups, &mut names) {
                GroupChanges::Members(users) => membership_changed = users,
                GroupChanges::Everything(why) => {
                    return Err(SourceError::DeltaExpired(format!("{why}, which needs every membership")))
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
        let token = Token { users: users_link, groups: groups_link, names };
        let token = serde_json::to_string(&token).expect("serialises");
        let listing = Listing { users, complete: true, ..Listing::default() };
        Ok(DeltaListing { listing, removed, next_token: token, full: false, groups_read: self.groups_enabled() })
    }

    /// The users whose memberships a groups delta round changed, keeping `names` up to date.
    /// A group entry is a membership change unless it was deleted, renamed (its `displayName`
    /// differs from the one last seen, and either name is one the rules read), or it changed
    /// which groups nest in which while membership is transitive: those need every membership.
    /// A new group needs nothing more: its first entry lists all its members.
    fn group_changes(&self, groups: &[Value], names: &mut Option<GroupNames>) -> GroupChanges {
        let transitive = self.settings.groups == GroupMembership::Transitive;
        let mut users = BTreeSet::new();
        for g in groups {
            let Some(id) = text(g, "id") else { continue };
            if g.get("@removed").is_some() {
                return GroupChanges::Everything(format!("group {id} was deleted"));
            }
            if let Some(name) = text(g, "displayName") {
                let Some(known) = names.as_mut() else {
                    return GroupChanges::Everything("a group was added or renamed".into());
                };
                match known.insert(id.clone(), name.clone()) {
                    Some(old) if old != name && self.name_matters(&old, &name) => {
                        return GroupChanges::Everything(format!("group '{old}' was renamed '{name}'"));
                    }
                    _ => {}
                }
            }
            for m in g.get("members@delta").and_then(Value::as_array).into_iter().flatten() {
                let kind = m.get("@odata.type").and_then(Value::as_str);
                if kind.is_some_and(|t| t.ends_with(".group")) && transitive {
                    return GroupChanges::Everything(format!("a group nested in group {id} changed"));
                }
                if kind.is_none_or(|t| t.ends_with(".user")) {
                    users.extend(text(m, "id"));
                }
            }
        }
        GroupChanges::Members(users)
    }

    /// Whether a rename from `old` to `new` can change what is synced.
    fn name_matters(&self, old: &str, new: &str) -> bool {
        group_matters(&self.group_rules, old) || group_matters(&self.group_rules, new)
    }

    /// One user, complete with groups (and photo etag); empty when the id is unknown.
    pub(super) fn one_user(&mut self, id: &str) -> Result<Vec<SourceUser>, SourceError> {
        self.some_users(&[id.to_string()])
    }

    /// Users by id, complete with groups (and photo etags); ids Graph no longer knows are left out.
    pub(super) fn some_users(&mut self, ids: &[String]) -> Result<Vec<SourceUser>, SourceError> {
        let ids: BTreeSet<String> = ids.iter().cloned().collect();
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
        let removed: HashSet<&str> = removed.iter().map(String::as_str).collect();
        let records: BTreeSet<String> = membership_changed
            .iter()
            .filter(|id| !known.contains(*id) && !removed.contains(id.as_str()))
            .cloned()
            .collect();
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
        // Two sub-requests for a user whose record is needed, one otherwise: 10 users a batch,
        // `http.concurrency` batches in flight, a bounded number of them in memory at once.
        for group in everyone.chunks(BATCH / 2 * 200) {
            let requests: Vec<Vec<SubRequest>> = group
                .chunks(BATCH / 2)
                .map(|chunk| {
                    let mut requests = Vec::new();
                    for id in chunk {
                        let url = format!("/users/{id}/{member_of}?$select=id,displayName");
                        if groups_enabled {
                            requests.push(SubRequest::get(format!("g{id}"), url));
                        }
                        if records.contains(id) {
                            let url = select.replacen("{id}", id, 1);
                            requests.push(SubRequest::get(format!("u{id}"), url));
                        }
                    }
                    requests
                })
                .collect();
            let answers: Answers = self.batches(requests).map_err(unreadable)?.into_iter().flatten().collect();
            for id in group {
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

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
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
