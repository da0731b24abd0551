//! Entra ID through Microsoft Graph: client-credentials token, `/v1.0/users` with `$select` of
//! exactly what the mapping reads, `$top=999` pages followed through `@odata.nextLink`, the
//! manager by `$expand`, groups and their (direct or transitive) members.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::http::{Http, HttpError, Request};
use super::id_table::IdTable;
use super::{CheckStep, Connector, DeltaListing, Listing, RowError, SourceError};
use crate::config::{EntraSource, GroupMembership, GroupRules};
use crate::fastmap::FastMap;
use crate::mapping::group_matters;
use crate::model::{AttrValue, Attributes, SourceUser};

/// What a paged read produced.
struct Paged {
    items: Vec<Value>,
    error: Option<HttpError>,
}

impl Paged {
    /// Only a complete collection counts.
    fn complete(self) -> Result<Vec<Value>, HttpError> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.items),
        }
    }
}

/// Each user's groups, kept while the listing waits for its users: users and groups by number,
/// a pair of numbers per membership. A string per membership, then a map of user id strings to
/// lists, were most of what 2,000,000 memberships cost beside a 1,000,000-user directory.
#[derive(Default)]
pub(super) struct GroupsByUser {
    names: Vec<String>,
    position: FastMap<String, u32>,
    /// Each user's number; its top bit is set once the user's groups were taken.
    users: IdTable,
    /// (user number, group number) pairs, sorted and without repeats once a user is taken.
    pairs: Vec<(u32, u32)>,
    sorted: bool,
    /// Once sorted: where each user number's pairs start, and one more for the end. Two binary
    /// searches per user over every membership missed the cache a dozen times each.
    starts: Vec<u32>,
}

/// The bit of a user's number that says its groups were taken.
const TAKEN: u64 = 1 << 63;

impl GroupsByUser {
    /// The number of a user in the group named `name`, for `add_number`.
    fn group_number(&mut self, name: &str) -> u32 {
        match self.position.get(name) {
            Some(at) => *at,
            None => {
                let at = self.names.len() as u32;
                self.names.push(name.to_string());
                self.position.insert(name.to_string(), at);
                at
            }
        }
    }

    /// `user`'s number, given on first sight. `None` only past 4 GiB of ids: that user's groups
    /// are then not known, as if in none.
    fn number(&mut self, user: &str) -> Option<u32> {
        if let Some(n) = self.users.get(user) {
            return Some((n & !TAKEN) as u32);
        }
        let n = self.users.len() as u32;
        self.users.insert(user, u64::from(n)).ok()?;
        Some(n)
    }

    /// `add` for a user and group known by number.
    fn add_number(&mut self, user: u32, group: u32) {
        self.pairs.push((user, group));
        self.sorted = false;
    }

    /// The names of `user`'s groups, given up: each user is handed over once.
    pub(super) fn take(&mut self, user: &str) -> Option<Vec<String>> {
        if !self.sorted {
            self.pairs.sort_unstable();
            self.pairs.dedup();
            self.pairs.shrink_to_fit();
            self.starts.clear();
            self.starts.reserve_exact(self.users.len() + 1);
            let mut at = 0;
            for n in 0..=self.users.len() as u32 {
                while at < self.pairs.len() && self.pairs[at].0 < n {
                    at += 1;
                }
                self.starts.push(at as u32);
            }
            self.sorted = true;
        }
        let number = self.users.get_mut(user)?;
        if *number & TAKEN != 0 {
            return None;
        }
        *number |= TAKEN;
        let n = (*number & !TAKEN) as usize;
        // A user numbered after the sort has no pairs (a pair added since would have unsorted them).
        let start = |n: usize| self.starts.get(n).map_or(self.pairs.len(), |at| *at as usize);
        let (from, to) = (start(n), start(n + 1));
        Some(self.pairs[from..to].iter().filter_map(|(_, g)| self.names.get(*g as usize).cloned()).collect())
    }
}

/// Group display names by group id, as a groups delta round last saw them.
pub(super) type GroupNames = BTreeMap<String, String>;

/// Where a `/groups/delta` chain ended: its delta link and the names it saw.
pub(super) struct GroupsDelta {
    pub link: String,
    pub names: GroupNames,
}

/// Graph's largest page for users and groups.
const PAGE: u32 = 999;
/// Groups per page of a first `/groups/delta` round. Each group comes with all its members, so
/// a page of 999 groups held every membership of a 100,000-user tenant at once (tens of MB of
/// JSON); 100 groups a page keep a page to a few MB for a few more requests.
pub(super) const GROUPS_DELTA_PAGE: u32 = 100;

pub(super) struct EntraConnector {
    pub(super) settings: EntraSource,
    pub(super) http: Http,
    /// Attributes the mapping reads (first path segment), for `$select`.
    pub(super) attributes: BTreeSet<String>,
    /// Fields of `manager.*` the mapping reads, for `$expand=manager($select=...)`.
    pub(super) manager_fields: BTreeSet<String>,
    pub(super) photos: bool,
    pub(super) group_rules: GroupRules,
}

/// Tokens by (authority, tenant, client, secret hash, scope): reused across runs until shortly
/// before they expire, so an incremental run that finds nothing makes one Graph request.
static TOKENS: Mutex<Option<HashMap<u64, (String, Instant)>>> = Mutex::new(None);

impl EntraConnector {
    pub fn new(
        settings: EntraSource,
        http: Http,
        paths: &BTreeSet<String>,
        photos: bool,
        group_rules: GroupRules,
    ) -> Self {
        let mut attributes = BTreeSet::new();
        let mut manager_fields = BTreeSet::new();
        for path in paths {
            match path.split_once('.') {
                Some(("manager", field)) => {
                    manager_fields.insert(field.split('.').next().unwrap_or(field).to_string());
                }
                Some((first, _)) => {
                    attributes.insert(first.to_string());
                }
                None if path == "manager" => {
                    manager_fields.insert("id".into());
                }
                None => {
                    attributes.insert(path.clone());
                }
            }
        }
        attributes.insert("id".into());
        attributes.insert("accountEnabled".into());
        EntraConnector { settings, http, attributes, manager_fields, photos, group_rules }
    }

    fn token_key(&self) -> u64 {
        let s = &self.settings;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (&s.authority_url, &s.tenant_id, &s.client_id, s.client_secret.expose(), &s.graph_url).hash(&mut h);
        h.finish()
    }

    pub(super) fn forget_token(&self) {
        if let Some(map) = TOKENS.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            map.remove(&self.token_key());
        }
    }

    /// A bearer token, fetched again shortly before it expires.
    pub(super) fn token(&self) -> Result<String, HttpError> {
        let key = self.token_key();
        if let Some((token, until)) =
            TOKENS.lock().unwrap_or_else(|p| p.into_inner()).as_ref().and_then(|m| m.get(&key))
        {
            if Instant::now() < *until {
                return Ok(token.clone());
            }
        }
        let s = &self.settings;
        let url = format!("{}/{}/oauth2/v2.0/token", s.authority_url, s.tenant_id);
        let form = vec![
            ("grant_type", "client_credentials".to_string()),
            ("client_id", s.client_id.clone()),
            ("client_secret", s.client_secret.expose().to_string()),
            ("scope", format!("{}/.default", s.graph_url)),
        ];
        let req = Request::post_form(url, form);
        let resp = self.http.send(&req).map_err(|mut e| {
            if matches!(e.status, Some(400 | 401)) {
                e.detail = format!("check tenant_id, client_id and client_secret; {}", e.detail);
            }
            e
        })?;
        let v = resp.json().map_err(|detail| self.bad_response(&req, detail))?;
        let token = v.get("access_token").and_then(Value::as_str).map(str::to_string);
        let Some(token) = token else { return Err(self.bad_response(&req, "no access_token in the answer".into())) };
        let lifetime = v.get("expires_in").and_then(Value::as_u64).unwrap_or(3600);
        // Renew a minute early (or halfway through a very short lifetime).
        let margin = 60.min(lifetime / 2);
        let until = Instant::now() + Duration::from_secs(lifetime - margin);
        TOKENS
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert_with(HashMap::new)
            .insert(key, (token.clone(), until));
        Ok(token)
    }

    pub(super) fn bad_response(&self, req: &Request, detail: String) -> HttpError {
        HttpError {
            provider: "entra",
            method: req.method,
            endpoint: super::http::endpoint(&req.url),
            status: Some(200),
            code: None,
            detail,
        }
    }

    /// GET with the bearer token; a 401 (token revoked or expired early) is retried once with a new one.
    pub(super) fn get(&self, url: &str) -> Result<Value, HttpError> {
        self.get_as(url)
    }

    /// `get`, parsed straight into `T`.
    pub(super) fn get_as<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, HttpError> {
        self.get_page_as(url, PAGE)
    }

    /// `get_as`, asking for pages of at most `page` items (`Prefer: odata.maxpagesize`).
    fn get_page_as<T: serde::de::DeserializeOwned>(&self, url: &str, page: u32) -> Result<T, HttpError> {
        for attempt in 0..2 {
            let token = self.token()?;
            let req = Request::get(url.to_string())
                .header("Authorization", format!("Bearer {token}"))
                .header("Prefer", format!("odata.maxpagesize={page}"));
            match self.http.send_as(&req) {
                Ok(page) => return Ok(page),
                Err(e) if e.status == Some(401) && attempt == 0 => self.forget_token(),
                Err(mut e) => {
                    if e.status == Some(403) {
                        e.detail = permission_hint(&e.endpoint).to_string();
                    }
                    return Err(e);
                }
            }
        }
        unreachable!("the loop returns on its second attempt")
    }

    /// Every item of a paged collection, and the error that stopped it early, if one did.
    fn all(&self, first: String) -> Paged {
        let mut items = Vec::new();
        let mut next = Some(first);
        while let Some(url) = next.take() {
            let mut page = match self.get(&url) {
                Ok(p) => p,
                Err(e) => return Paged { items, error: Some(e) },
            };
            match page.get_mut("value").and_then(Value::as_array_mut) {
                Some(values) => items.append(values),
                None => {
                    let error = self.bad_response(&Request::get(url), "the page has no 'value' list".into());
                    return Paged { items, error: Some(error) };
                }
            }
            next = page.get("@odata.nextLink").and_then(Value::as_str).map(str::to_string);
        }
        Paged { items, error: None }
    }

    fn users_url(&self) -> String {
        self.user_query("users", &format!("&$top={PAGE}"))
    }

    /// `/users` or `/users/delta` with `$select` and the manager `$expand`.
    pub(super) fn user_query(&self, path: &str, extra: &str) -> String {
        let select: Vec<&str> = self.attributes.iter().map(String::as_str).collect();
        let mut url = format!("{}/v1.0/{path}?$select={}{extra}", self.settings.graph_url, select.join(","));
        if !self.manager_fields.is_empty() {
            let mut fields = self.manager_fields.clone();
            fields.insert("id".into());
            url.push_str(&format!("&$expand=manager($select={})", fields.into_iter().collect::<Vec<_>>().join(",")));
        }
        url
    }

    /// Group display names per user id and, when they were read from `/groups/delta`, where
    /// that chain ended.
    /// `open_delta`: a first incremental round, which needs the groups' delta link even when
    /// it reads members group by group; it is taken as it stands before they are read, so that
    /// a change made meanwhile comes again in the next round.
    pub(super) fn memberships(&mut self, open_delta: bool) -> Result<(GroupsByUser, Option<GroupsDelta>), HttpError> {
        if self.settings.groups == GroupMembership::None {
            return Ok((GroupsByUser::default(), None));
        }
        // With required groups and no include pattern only those groups count: their members are
        // read group by group. Otherwise any group may count, and one `/groups/delta` chain reads
        // every membership in ⌈groups/page⌉ requests instead of one request per group.
        if self.group_rules.include.is_empty() && !self.group_rules.required.is_empty() {
            let url = format!("{}/v1.0/groups/delta?$select=displayName,members", self.settings.graph_url);
            let link = if open_delta { Some(self.latest_link(&url)?) } else { None };
            let (by_user, names) = self.members_group_by_group()?;
            return Ok((by_user, link.map(|link| GroupsDelta { link, names })));
        }
        self.memberships_from_delta().map(|(m, chain)| (m, Some(chain)))
    }

    /// The delta link of a delta query as it stands, without reading its items
    /// (`$deltatoken=latest`: "sync from now", learn.microsoft.com/graph/delta-query-overview,
    /// documented for Entra ID users and groups).
    pub(super) fn latest_link(&self, delta_url: &str) -> Result<String, HttpError> {
        let url = format!("{delta_url}&$deltatoken=latest");
        let page: LatestPage = self.get_as(&url)?;
        page.delta_link.ok_or_else(|| self.bad_response(&Request::get(url), "the answer has no deltaLink".into()))
    }

    /// Members of the groups the rules require, and the names of every group listed.
    fn members_group_by_group(&mut self) -> Result<(GroupsByUser, GroupNames), HttpError> {
        let members = match self.settings.groups {
            GroupMembership::Transitive => "transitiveMembers",
            _ => "members",
        };
        let base = self.settings.graph_url.clone();
        let groups = self.all(format!("{base}/v1.0/groups?$select=id,displayName&$top={PAGE}")).complete()?;
        let mut by_user = GroupsByUser::default();
        let mut names = GroupNames::new();
        for g in groups {
            let (Some(id), Some(name)) =
                (g.get("id").and_then(Value::as_str), g.get("displayName").and_then(Value::as_str))
            else {
                continue;
            };
            names.insert(id.to_string(), name.to_string());
            if !group_matters(&self.group_rules, name) {
                continue;
            }
            let group = by_user.group_number(name);
            let mut next = Some(format!("{base}/v1.0/groups/{id}/{members}?$select=id&$top={PAGE}"));
            while let Some(url) = next.take() {
                let page: MembersPage = self.get_as(&url)?;
                let Some(members) = page.value else {
                    return Err(self.bad_response(&Request::get(url), "the page has no 'value' list".into()));
                };
                for uid in members.into_iter().filter_map(|m| m.id) {
                    if let Some(user) = by_user.number(&uid) {
                        by_user.add_number(user, group);
                    }
                }
                next = page.next_link;
            }
        }
        Ok((by_user, names))
    }

    /// Every group with its direct members from a first `/groups/delta` round; nested groups are
    /// flattened here when membership is transitive.
    fn memberships_from_delta(&mut self) -> Result<(GroupsByUser, GroupsDelta), HttpError> {
        let mut url = format!("{}/v1.0/groups/delta?$select=displayName,members", self.settings.graph_url);
        let mut names = GroupNames::new();
        let mut by_user = GroupsByUser::default();
        // Members by their number in `by_user`: no string per membership.
        let mut users_of: HashMap<String, Vec<u32>> = HashMap::new();
        let mut parents: HashMap<String, Vec<String>> = HashMap::new();
        let link = loop {
            let page: GroupsPage = self.get_page_as(&url, GROUPS_DELTA_PAGE)?;
            let Some(values) = page.value else {
                return Err(self.bad_response(&Request::get(url), "the page has no 'value' list".into()));
            };
            for g in values.into_iter().filter(|g| g.removed.is_none()) {
                let Some(gid) = g.id else { continue };
                if let Some(name) = g.display_name {
                    names.insert(gid.clone(), name);
                }
                // The group's user members gathered first, then filed under it once: not a copy
                // of its id and a look-up by it per membership.
                let mut users = Vec::new();
                for m in g.members.into_iter().flatten().filter(|m| m.removed.is_none()) {
                    let Some(mid) = m.id else { continue };
                    match m.kind {
                        Some(MemberKind::Group) => parents.entry(mid).or_default().push(gid.clone()),
                        // Devices, contacts and service principals are members too; not ours.
                        Some(MemberKind::Other) => {}
                        Some(MemberKind::User) | None => users.extend(by_user.number(&mid)),
                    }
                }
                if !users.is_empty() {
                    users_of.entry(gid).or_default().extend(users);
                }
            }
            if let Some(next) = page.next_link {
                url = next;
            } else if let Some(link) = page.delta_link {
                break link;
            } else {
                let detail = "a delta page ends with neither nextLink nor deltaLink".into();
                return Err(self.bad_response(&Request::get(url), detail));
            }
        };
        let transitive = self.settings.groups == GroupMembership::Transitive;
        for (gid, members) in users_of.drain() {
            // The group itself and, when transitive, every group it is nested in (cycles allowed).
            let mut reached = vec![gid.as_str()];
            let mut i = 0;
            while transitive && i < reached.len() {
                for p in parents.get(reached[i]).into_iter().flatten() {
                    if !reached.contains(&p.as_str()) {
                        reached.push(p);
                    }
                }
                i += 1;
            }
            let named: Vec<u32> = reached
                .iter()
                .filter_map(|g| names.get(*g))
                .filter(|n| group_matters(&self.group_rules, n))
                .map(|n| by_user.group_number(n))
                .collect();
            for uid in members {
                for n in &named {
                    by_user.add_number(uid, *n);
                }
            }
        }
        Ok((by_user, GroupsDelta { link, names }))
    }

    /// The pages of `/users` from `first` on, parsed into records, following `@odata.nextLink`;
    /// an error ends them.
    fn pages(&self, first: String) -> impl Iterator<Item = Result<Vec<Attributes>, HttpError>> + '_ {
        let mut next = Some(first);
        std::iter::from_fn(move || {
            let url = next.take()?;
            Some(self.get_as::<UsersPage>(&url).and_then(|page| {
                next = page.next_link;
                page.value.ok_or_else(|| self.bad_response(&Request::get(url), "the page has no 'value' list".into()))
            }))
        })
    }

    /// Hands over the users of `pages`, each with groups and (in whole batches of at least
    /// `group` users, until the last) photo metadata. A listing that stops after some pages is
    /// incomplete but still hands over what it read; one that stops before any fails.
    fn take_pages(
        &self,
        pages: impl Iterator<Item = Result<Vec<Attributes>, HttpError>>,
        group: usize,
        groups: &mut GroupsByUser,
        each: &mut dyn FnMut(SourceUser),
    ) -> Result<Listing, SourceError> {
        let mut listing = Listing { complete: true, ..Listing::default() };
        let (mut read, mut handed) = (0usize, 0usize);
        let mut pending: Vec<SourceUser> = Vec::new();
        for page in pages {
            let values = match page {
                Ok(values) => values,
                // Nothing read at all: the run fails before any write.
                Err(e) if read == 0 => return Err(unreadable(e)),
                Err(e) => {
                    listing.incomplete(RowError {
                        idp_id: None,
                        location: format!("entra: GET {}", e.endpoint),
                        message: format!("the user listing stopped after {read} users: {e}"),
                    });
                    break;
                }
            };
            pending.extend(values.into_iter().filter_map(source_record));
            read = pending.len() + handed;
            if pending.len() >= group.max(1) {
                // Whole photo batches only, until the last page: ⌈users/20⌉ batches in all.
                let ready = pending.len() - pending.len() % BATCH;
                let users: Vec<SourceUser> = pending.drain(..ready).collect();
                handed += self.hand_over(users, groups, each).map_err(unreadable)?;
            }
        }
        handed += self.hand_over(pending, groups, each).map_err(unreadable)?;
        debug_assert_eq!(handed, read);
        Ok(listing)
    }

    /// Completes users with their photo metadata and groups, and hands them over.
    fn hand_over(
        &self,
        mut users: Vec<SourceUser>,
        groups: &mut GroupsByUser,
        each: &mut dyn FnMut(SourceUser),
    ) -> Result<usize, HttpError> {
        if self.photos && !users.is_empty() {
            self.photo_etags(&mut users)?;
        }
        let n = users.len();
        for mut user in users {
            if let Some(g) = groups.take(&user.id) {
                user.groups = g;
            }
            each(user);
        }
        Ok(n)
    }
    /// The users a page at a time, each with its groups from `groups`. With photos, pages are
    /// read on a thread of their own, a few pages ahead, while the photo metadata of those read
    /// already is looked up here: the listing does not wait for photo batches, nor they for it.
    pub(super) fn list_each(
        &self,
        groups: &mut GroupsByUser,
        each: &mut dyn FnMut(SourceUser),
    ) -> Result<Listing, SourceError> {
        let this = self;
        let first = this.users_url();
        if !this.photos {
            return this.take_pages(this.pages(first), 0, groups, each);
        }
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel(PAGES_AHEAD);
            scope.spawn(move || {
                for page in this.pages(first) {
                    // The consumer stopped (it failed): so does the listing.
                    if tx.send(page).is_err() {
                        break;
                    }
                }
            });
            this.take_pages(rx.into_iter(), PHOTO_GROUP, groups, each)
        })
    }
}

fn permission_hint(endpoint: &str) -> &'static str {
    if endpoint.contains("/groups") {
        "grant the application permission GroupMember.Read.All, with admin consent"
    } else {
        "grant the application permission User.Read.All, with admin consent"
    }
}

/// Graph's limit of requests per `$batch`.
pub(super) const BATCH: usize = 20;

/// Pages the listing thread may read ahead of the photo look-ups (each at most 999 records).
const PAGES_AHEAD: usize = 4;

/// Users whose photo metadata is looked up together: 100 batches, so that sub-requests
/// throttled anywhere among them wait out one `Retry-After` together.
const PHOTO_GROUP: usize = 100 * BATCH;

pub(super) fn unreadable(e: HttpError) -> SourceError {
    SourceError::Unreadable(e.to_string())
}

pub(super) fn source_user(v: Value) -> Option<SourceUser> {
    let Value::Object(obj) = v else { return None };
    source_record(Attributes::from(obj))
}

pub(super) fn source_record(mut attributes: Attributes) -> Option<SourceUser> {
    let id = attributes.get("id").and_then(AttrValue::as_str)?.to_string();
    attributes.retain(|k, _| !k.starts_with("@odata"));
    let active = attributes.get("accountEnabled").and_then(AttrValue::as_bool).unwrap_or(true);
    let manager = attributes.get("manager").and_then(|m| m.get("id")).and_then(AttrValue::as_str).map(str::to_string);
    if let Some(AttrValue::Record(m)) = attributes.get_mut("manager") {
        m.retain(|k, _| !k.starts_with("@odata"));
    }
    Some(SourceUser {
        location: ["entra user ", &id].concat(),
        id,
        attributes,
        active,
        groups: Vec::new(),
        manager,
        photo_etag: None,
        version: None,
    })
}

/// A `/users` page's records as the listing reads them (the fuzzer's entry point).
pub(super) fn page_users(body: &[u8]) -> Vec<SourceUser> {
    let page = super::http::read_json::<UsersPage>(body).ok().and_then(|p| p.value).unwrap_or_default();
    page.into_iter().filter_map(source_record).collect()
}

/// The answer to `$deltatoken=latest`: a delta link, no items.
#[derive(serde::Deserialize)]
struct LatestPage {
    #[serde(rename = "@odata.deltaLink")]
    delta_link: Option<String>,
}

/// A page of `/users`, parsed straight into records.
#[derive(serde::Deserialize)]
struct UsersPage {
    value: Option<Vec<Attributes>>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
}

/// A page of a group's members (`/groups/{id}/members?$select=id`), read into the ids alone:
/// parsed as JSON values, each entry was a map of two strings.
#[derive(serde::Deserialize)]
struct MembersPage {
    value: Option<Vec<Member>>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
}

#[derive(serde::Deserialize)]
struct Member {
    id: Option<String>,
}

/// A page of `/groups/delta` with members, parsed into what the memberships need: as a JSON
/// value, each member entry cost several hundred bytes, and a first page holds every membership
/// of up to 999 groups (200,000 of them in a 100,000-user tenant).
#[derive(serde::Deserialize)]
struct GroupsPage {
    value: Option<Vec<GroupEntry>>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
    #[serde(rename = "@odata.deltaLink")]
    delta_link: Option<String>,
}

/// A group in a `/groups/delta` page: removed groups carry `@removed`, and members come as
/// `members@delta` with their `@odata.type` (Microsoft Graph, "group: delta").
#[derive(serde::Deserialize)]
struct GroupEntry {
    id: Option<String>,
    #[serde(rename = "displayName")]
    display_name: Option<String>,
    #[serde(rename = "members@delta")]
    members: Option<Vec<GroupMember>>,
    #[serde(rename = "@removed")]
    removed: Option<serde::de::IgnoredAny>,
}

#[derive(serde::Deserialize)]
struct GroupMember {
    id: Option<String>,
    #[serde(rename = "@odata.type")]
    kind: Option<MemberKind>,
    #[serde(rename = "@removed")]
    removed: Option<serde::de::IgnoredAny>,
}

/// What a member is, from its `@odata.type` (`#microsoft.graph.user`, `.group`, `.device`, ...),
/// read without keeping the text: a page holds one per membership.
enum MemberKind {
    User,
    Group,
    Other,
}

impl<'de> serde::Deserialize<'de> for MemberKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Kind;
        impl serde::de::Visitor<'_> for Kind {
            type Value = MemberKind;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an @odata.type")
            }
            fn visit_str<E: serde::de::Error>(self, t: &str) -> Result<MemberKind, E> {
                Ok(match t {
                    _ if t.ends_with(".user") => MemberKind::User,
                    _ if t.ends_with(".group") => MemberKind::Group,
                    _ => MemberKind::Other,
                })
            }
        }
        d.deserialize_str(Kind)
    }
}

/// Graph's answers to a delta token it no longer knows.
pub(super) fn expired(e: &HttpError) -> bool {
    e.status == Some(410)
        || matches!(e.code.as_deref(), Some("SyncStateNotFound" | "resyncRequired" | "SyncStateInvalid"))
}

impl Connector for EntraConnector {
    /// `GET /users/{id}` and its groups in one `$batch`.
    fn fetch_one(&mut self, id: &str) -> Result<Option<Listing>, SourceError> {
        let users = self.one_user(id)?;
        Ok(Some(Listing { users, complete: true, ..Listing::default() }))
    }

    /// The users by id, with groups, ten to a `$batch`.
    fn fetch_ids(&mut self, ids: &[String]) -> Result<Option<Listing>, SourceError> {
        let users = self.some_users(ids)?;
        Ok(Some(Listing { users, complete: true, ..Listing::default() }))
    }

    /// Incremental rounds: see `entra_delta.rs`.
    fn delta(&mut self, token: Option<&str>) -> Result<DeltaListing, SourceError> {
        self.delta_round(token)
    }

    fn check(&mut self) -> Vec<CheckStep> {
        let mut steps = vec![CheckStep::new(
            "get a token",
            self.token().map(|_| "the client credentials were accepted".into()).map_err(|e| e.to_string()),
        )];
        if !steps[0].ok {
            return steps;
        }
        let base = self.settings.graph_url.clone();
        let users = format!("{base}/v1.0/users?$select=id&$top=1");
        steps.push(CheckStep::new(
            "read users",
            self.get(&users).map(|_| "User.Read.All is granted".into()).map_err(|e| e.to_string()),
        ));
        if self.settings.groups != GroupMembership::None && steps[1].ok {
            let groups = format!("{base}/v1.0/groups?$select=id&$top=1");
            steps.push(CheckStep::new(
                "read groups",
                self.get(&groups).map(|_| "GroupMember.Read.All is granted".into()).map_err(|e| e.to_string()),
            ));
        }
        steps
    }

    fn fetch(&mut self) -> Result<Listing, SourceError> {
        let mut users = Vec::new();
        let mut listing = self.fetch_each(&mut |u| users.push(u))?;
        listing.users = users;
        Ok(listing)
    }

    /// Memberships first (they must be complete or not used: a missing page would strip real
    /// memberships), then the users a page at a time (`list_each`).
    fn fetch_each(&mut self, each: &mut dyn FnMut(SourceUser)) -> Result<Listing, SourceError> {
        let (mut groups, _) = self.memberships(false).map_err(unreadable)?;
        self.list_each(&mut groups, each)
    }

    /// The first incremental round, streamed: see `entra_delta.rs`.
    fn streams_first_round(&self) -> bool {
        true
    }

    fn delta_first_each(&mut self, each: &mut dyn FnMut(SourceUser)) -> Result<DeltaListing, SourceError> {
        self.first_round(each)
    }

    /// `/users/{id}/photo/$value`; 404 means no photo.
    fn photo(&mut self, id: &str) -> Result<Option<Vec<u8>>, SourceError> {
        self.photos(&[id.to_string()]).pop().unwrap_or(Ok(None))
    }

    /// Photos are independent requests: `http.concurrency` of them in flight at once.
    fn photos(&mut self, ids: &[String]) -> Vec<Result<Option<Vec<u8>>, SourceError>> {
        let token = match self.token() {
            Ok(t) => t,
            Err(e) => return ids.iter().map(|_| Err(SourceError::Unreadable(e.to_string()))).collect(),
        };
        let requests: Vec<Request> = ids
            .iter()
            .map(|id| {
                Request::get(format!("{}/v1.0/users/{id}/photo/$value", self.settings.graph_url))
                    .header("Authorization", format!("Bearer {token}"))
            })
            .collect();
        self.http
            .send_all(requests)
            .into_iter()
            .map(|answer| match answer {
                Ok(resp) => Ok(Some(resp.body)),
                Err(e) if e.status == Some(404) => Ok(None),
                Err(e) => Err(SourceError::Unreadable(e.to_string())),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each user's groups come out once, without repeats, whatever the order they were added
    /// in; a user numbered after the pairs were sorted, and one never seen, have none.
    #[test]
    fn each_user_takes_its_own_groups_once() {
        let mut by_user = GroupsByUser::default();
        let (admins, staff) = (by_user.group_number("Admins"), by_user.group_number("Staff"));
        for (user, group) in [("u2", staff), ("u1", admins), ("u2", admins), ("u1", admins), ("u3", staff)] {
            let n = by_user.number(user).unwrap();
            by_user.add_number(n, group);
        }
        let sorted = |g: Option<Vec<String>>| {
            g.map(|mut g| {
                g.sort();
                g
            })
        };
        assert_eq!(sorted(by_user.take("u2")), Some(vec!["Admins".to_string(), "Staff".to_string()]));
        assert_eq!(by_user.take("u2"), None, "handed over once");
        let late = by_user.number("u4").unwrap();
        assert_eq!(late, 3);
        assert_eq!(by_user.take("u4"), Some(vec![]));
        assert_eq!(by_user.take("u1"), Some(vec!["Admins".to_string()]));
        assert_eq!(by_user.take("u3"), Some(vec!["Staff".to_string()]));
        assert_eq!(by_user.take("nobody"), None);
    }
}
