//! Reconcile: desired users + directory snapshot + engine state → plan. Pure: no I/O, so
//! every decision can be tested and simulated exactly.

mod groups;
mod guard;
mod hash_index;
mod held;
mod lifecycle;
mod managers;
mod plan;
mod planner;
pub mod version;

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::BTreeSet;

use crate::fastmap::FastMap as HashMap;
use hash_index::HashIndex;

use chrono::{DateTime, Utc};

use crate::config::{ConnectorConfig, LinkKey, Reactivate};
use crate::mapping::Mapped;
use crate::model::{DesiredUser, DirectoryUser, Identity, Target, TextMap, ValueMap};

pub use guard::{guard, Approval};
pub use lifecycle::Case;
pub use plan::{Disposition, Op, Plan, UserPlan};
pub use planner::{Early, Planner};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every source user; absence can be proven when the listing is complete.
    Full,
    /// Only the users given; nobody is treated as missing.
    Partial,
}

/// What a plan is made against: the connector, the directory (all of it for a full run, only
/// the users a partial run touches) and the engine's state. Borrowed for the whole planning.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub connector: &'a ConnectorConfig,
    pub scope: Scope,
    pub directory: &'a [DirectoryUser],
    pub groups: &'a BTreeSet<String>,
    pub identities: &'a [Identity],
    pub managed_groups: &'a BTreeSet<String>,
    /// Other connectors' claims on directory users, by key (see `Claim`); empty with one
    /// connector.
    pub others: &'a HashMap<String, Claim>,
    pub now: DateTime<Utc>,
}

/// The source's side of a plan, once read and mapped.
pub struct Input<'a> {
    pub context: Context<'a>,
    pub mapped: Vec<Mapped>,
    /// Records the connector could not tie to an id (they already made the listing incomplete).
    pub unidentified: Vec<(String, String)>,
    /// Ids the source explicitly reported as removed (an incremental round).
    pub removed: Vec<String>,
    pub complete: bool,
}

/// The strongest claim another connector has on a directory user: it anchors them, its source
/// still has them (`live`) or not, and it outranks this connector (a higher priority, or the
/// same and earlier in the configuration) or not. Exactly one connector owns a user: the
/// highest-ranked of those whose source has them. Only the owner writes to the user; a
/// connector that loses a user another still has hands them over instead of disabling them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub connector: String,
    pub live: bool,
    pub outranks: bool,
}

impl Claim {
    /// Whether this claim is the stronger of the two (a live claim first, then rank).
    pub fn beats(&self, other: &Claim) -> bool {
        (self.live, self.outranks) > (other.live, other.outranks)
    }
}

/// The plan for a whole run at once (see `Planner` for one made while the source is read).
pub fn reconcile(input: Input) -> Plan {
    Planner::new(input.context).plan(input.mapped, input.unidentified, input.removed, input.complete, None)
}

/// A username as compared: lower case, borrowed when it already is (most are).
fn fold(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        return if s.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(s.to_ascii_lowercase())
        } else {
            Cow::Borrowed(s)
        };
    }
    // Borrowed only when lower-casing cannot change it; anything else (upper or title case,
    // scripts without case) takes the exact path.
    if s.chars().all(|c| c.is_lowercase() || !c.is_alphabetic()) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.to_lowercase())
    }
}

/// Who holds a username during planning: a directory user (by key), or a user this plan creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holder<'a> {
    Key(&'a str),
    New,
}

/// A directory user found for a source user: its anchor, and the link op when newly linked.
type Located<'a> = (Identity, &'a DirectoryUser, Option<Op>);

struct Reconciler<'a> {
    connector: &'a ConnectorConfig,
    scope: Scope,
    others: &'a HashMap<String, Claim>,
    now: DateTime<Utc>,
    directory: &'a [DirectoryUser],
    identity_list: &'a [Identity],
    /// Directory users by key: (hash of the key, position in `directory`), sorted. A map of
    /// every directory user cost several megabytes at 100,000 users; positions sorted by the
    /// keys themselves made each look-up touch a dozen scattered users and their key strings.
    by_key: HashIndex,
    /// Anchors by source id (positions in `identity_list`), and the position of each anchor's
    /// directory user (`NOWHERE`: not in the directory), found once here: a run asks for most of
    /// them at least twice. A map of every anchor cost 69 MB at 1,000,000 users.
    anchors: HashIndex,
    anchor_at: Vec<u32>,
    /// Whether this connector anchors the directory user at each position of `directory`.
    anchored: Vec<bool>,
    link_index: HashMap<String, Vec<&'a DirectoryUser>>,
    /// Directory positions by lower-case username: who holds each name before this plan.
    names: HashIndex,
    /// Lower-case username → who holds it, for the names this plan claims (over `names`).
    taken: HashMap<String, Holder<'a>>,
    groups: groups::GroupState,
}

impl<'a> Reconciler<'a> {
    fn new(input: &Context<'a>) -> Self {
        let by_key = HashIndex::new(input.directory.iter().map(|u| u.key.as_str()));
        let anchors = HashIndex::new(input.identities.iter().map(|i| i.idp_id.as_str()));
        let mut anchored = vec![false; input.directory.len()];
        let anchor_at = input
            .identities
            .iter()
            .map(|i| match by_key.find(&i.key, |at| input.directory[at].key == i.key) {
                Some(at) => {
                    anchored[at] = true;
                    at as u32
                }
                None => NOWHERE,
            })
            .collect();
        // Unanchored directory users by external id ("x:"), every user by each link key's value,
        // so that linking stays linear in the number of users.
        let mut link_index: HashMap<String, Vec<&DirectoryUser>> = HashMap::default();
        // Link keys index every directory user, anchored ones too: a key that finds only a user
        // this connector already anchors is a duplicate to refuse, not a person to create.
        for (at, u) in input.directory.iter().enumerate() {
            let mut keys: Vec<String> = Vec::new();
            // An external id is this connector's source id written at creation: a user no
            // connector anchors but who carries one is an anchor lost in a crash. A user another
            // connector anchors is that connector's, whatever its external id says (two sources'
            // ids can be the same text); linking it is link_existing's business.
            if !anchored[at] && !input.others.contains_key(u.key.as_str()) {
                keys.extend(u.external_id.iter().filter(|x| !x.is_empty()).map(|x| format!("x:{x}")));
            }
            for key in &input.connector.link_existing.0 {
                let value = match key {
                    LinkKey::Username => Some(u.username.as_str()),
                    LinkKey::Email => u.value(&Target::Email),
                    LinkKey::Value(t) => u.value(t),
                };
                keys.extend(value.filter(|v| !v.is_empty()).map(|v| index_key(key, v)));
            }
            for k in keys {
                link_index.entry(k).or_default().push(u);
            }
        }
        let names = HashIndex::new(input.directory.iter().map(|u| fold(&u.username)));
        Reconciler {
            connector: input.connector,
            scope: input.scope,
            others: input.others,
            now: input.now,
            directory: input.directory,
            identity_list: input.identities,
            by_key,
            anchors,
            anchor_at,
            anchored,
            link_index,
            names,
            taken: HashMap::default(),
            groups: groups::GroupState::new(&input.connector.groups, input.groups, input.managed_groups),
        }
    }

    /// Why `lifecycle.idle` disables `user` in this run, if it does: a managed user whose last
    /// login (or creation, for one who never logged in) is older than the policy allows, and who
    /// is no administrator, not in an exempt or protected group, and not an exempt user. Only full
    /// runs apply it: a login's single-user run is the user coming back.
    fn idle(&self, user: &DirectoryUser) -> Option<String> {
        let policy = self.connector.lifecycle.idle.as_ref().filter(|_| self.scope == Scope::Full)?;
        let member = |groups: &[String]| user.groups.iter().any(|g| groups.iter().any(|x| x.eq_ignore_ascii_case(g)));
        if user.admin
            || member(&policy.exempt_groups)
            || member(&self.connector.lifecycle.protected_groups)
            || policy.exempt_users.iter().any(|u| u.eq_ignore_ascii_case(&user.username))
        {
            return None;
        }
        let day = |t: DateTime<Utc>| t.format("%Y-%m-%d").to_string();
        match user.last_login {
            Some(at) => (at < self.now - chrono::Duration::days(policy.days.into()))
                .then(|| format!("no login for over {} days (last {})", policy.days, day(at))),
            None => {
                let days = policy.never_logged_in_days?;
                let created = user.created_at?;
                (created < self.now - chrono::Duration::days(days.into()))
                    .then(|| format!("never logged in since created on {} (over {days} days)", day(created)))
            }
        }
    }

    /// Another connector whose source still has the user at `key`, if any.
    fn live_claim(&self, key: &str) -> Option<&'a Claim> {
        self.others.get(key).filter(|c| c.live)
    }

    /// This connector no longer has an anchored user that another connector still has: no
    /// lifecycle action ("gone" means "no longer mine"), and when this connector owned the user,
    /// ownership passes to the other. `None` when no other connector has the user.
    fn let_go(&self, identity: &mut Identity, key: &str) -> Option<(Vec<Op>, String)> {
        let other = self.live_claim(key)?;
        let was_mine = identity.gone_since.is_none() && !other.outranks;
        identity.gone_since.get_or_insert(self.now);
        let ops = if was_mine {
            vec![Op::Handover { from: self.connector.id.clone(), to: other.connector.clone() }]
        } else {
            Vec::new()
        };
        Some((
            ops,
            format!(
                "no longer in this connector's source; connector '{}' still has the user: not disabled",
                other.connector
            ),
        ))
    }

    /// Where the directory user with this key is in `directory`.
    fn position(&self, key: &str) -> Option<usize> {
        self.by_key.find(key, |at| self.directory[at].key == key)
    }

    /// The directory user with this key.
    fn user(&self, key: &str) -> Option<&'a DirectoryUser> {
        self.directory.get(self.position(key)?)
    }

    /// Whether this connector anchors the directory user with this key.
    fn is_anchored(&self, key: &str) -> bool {
        self.position(key).is_some_and(|at| self.anchored[at])
    }

    /// The position of the anchor of this id in `identity_list`, when it is anchored.
    fn anchor(&self, idp_id: &str) -> Option<usize> {
        let list = self.identity_list;
        self.anchors.find(idp_id, |n| list[n].idp_id == idp_id)
    }

    fn identity(&self, idp_id: &str) -> Option<&'a Identity> {
        let list = self.identity_list;
        self.anchor(idp_id).map(|n| &list[n])
    }

    /// The directory user anchored to this id, if both still exist, with its position.
    fn anchored_at(&self, idp_id: &str) -> Option<(&'a Identity, usize)> {
        self.anchored_with(idp_id).map(|(_, identity, at)| (identity, at))
    }

    /// `anchored_at`, with the anchor's own position in `identity_list` too.
    fn anchored_with(&self, idp_id: &str) -> Option<(usize, &'a Identity, usize)> {
        let n = self.anchor(idp_id)?;
        let at = self.anchor_at[n];
        (at != NOWHERE).then(|| (n, &self.identity_list[n], at as usize))
    }

    /// The directory user anchored to this id, if both still exist.
    fn anchored(&self, idp_id: &str) -> Option<(&'a Identity, &'a DirectoryUser)> {
        let directory = self.directory;
        self.anchored_at(idp_id).map(|(i, at)| (i, &directory[at]))
    }

    /// Who holds a (lower-case) username: a claim of this plan, or the directory user with it.
    fn holder(&self, folded: &str) -> Option<Holder<'a>> {
        if let Some(h) = self.taken.get(folded) {
            return Some(*h);
        }
        let directory = self.directory;
        // Of directory users whose names fold alike (a host's own rule may differ), the last.
        let at = self.names.find_last(folded, |at| fold(&directory[at].username) == folded)?;
        Some(Holder::Key(directory[at].key.as_str()))
    }

    /// The cheap test for the common case: an anchored, active user whose directory record,
    /// groups, photo and source version already match. (`settled` catches the rest.)
    fn in_step(&self, d: &DesiredUser) -> bool {
        self.in_step_at(d).is_some()
    }

    /// `in_step`, with the anchor's position in `identity_list`, the anchor, and the position of
    /// the directory user it compared.
    fn in_step_at(&self, d: &DesiredUser) -> Option<(usize, &'a Identity, usize)> {
        let (n, identity, at) = self.anchored_with(&d.idp_id)?;
        let user = &self.directory[at];
        let same = d.active
            && user.active
            && identity.gone_since.is_none()
            && !identity.anonymised
            && self.idle(user).is_none()
            && user.username == d.username
            && d.photo.as_ref().is_none_or(|photo| *photo == identity.photo_etag)
            && d.groups.as_ref().is_none_or(|groups| *groups == user.groups)
            && values_match(&d.values, &user.values)
            // Last: it digests the directory record (in step, as the user is now, it is also the
            // record the stored version was completed with).
            && match &d.source_version {
                None => identity.source_version.is_none(),
                // The mapper hands a user whose rules it skipped the stored version itself.
                Some(v) if identity.source_version.as_ref() == Some(v) => true,
                Some(v) => version::is(identity.source_version.as_deref(), v, version::directory_digest(user)),
            };
        same.then_some((n, identity, at))
    }

    /// The anchor of `idp_id` and the digest of its directory record, if it has one there
    /// (`version.rs`).
    pub fn anchored_digest(&self, idp_id: &str) -> Option<(&'a Identity, u64)> {
        self.anchored_at(idp_id).map(|(identity, at)| (identity, version::directory_digest(&self.directory[at])))
    }

    /// A synced user with no operation whose anchor (source version included) stays as stored.
    fn settled(&self, p: &UserPlan) -> bool {
        let quiet =
            p.disposition == plan::Disposition::Sync && p.ops.is_empty() && p.held.is_empty() && p.reason.is_none();
        quiet
            && match (&p.identity, p.idp_id.as_deref().and_then(|id| self.identity(id))) {
                (Some(new), Some(old)) => **new == *old && p.source_version == old.source_version,
                _ => false,
            }
    }

    fn managed_count(&self) -> usize {
        self.anchor_at.iter().filter(|at| **at != NOWHERE).count()
    }

    fn duplicate_usernames<W: held::Wanted>(&self, desired: &[W]) -> HashMap<String, Vec<String>> {
        let mut first: HashMap<Cow<str>, usize> = HashMap::with_capacity_and_hasher(desired.len(), Default::default());
        let mut duplicates: HashMap<String, Vec<String>> = HashMap::default();
        for (i, d) in desired.iter().enumerate() {
            match first.entry(fold(d.username())) {
                Entry::Vacant(v) => {
                    v.insert(i);
                }
                Entry::Occupied(o) => duplicates
                    .entry(o.key().to_string())
                    .or_insert_with(|| vec![desired[*o.get()].idp_id().to_string()])
                    .push(d.idp_id().to_string()),
            }
        }
        duplicates
    }

    /// Among duplicates, the user already holding the name in the directory keeps it.
    fn owns_username(&self, d: &DesiredUser) -> bool {
        self.anchored(&d.idp_id).is_some_and(|(_, u)| u.username.eq_ignore_ascii_case(&d.username))
    }

    /// Claims a username; false when another user holds it. A user is created once per plan,
    /// so a name held by a `New` user is always someone else's.
    fn claim(&mut self, username: &str, holder: Holder<'a>) -> bool {
        let folded = fold(username);
        match self.holder(&folded) {
            Some(held) if held != holder || holder == Holder::New => false,
            _ => {
                self.taken.insert(folded.into_owned(), holder);
                true
            }
        }
    }

    fn filtered(&mut self, idp_id: String, reason: String) -> UserPlan {
        let mut p = UserPlan {
            idp_id: Some(idp_id.clone()),
            key: None,
            username: String::new(),
            disposition: plan::Disposition::Filtered,
            ops: Vec::new(),
            held: Vec::new(),
            reason: Some(reason.clone()),
            location: None,
            identity: None,
            source_version: None,
        };
        if let Some((identity, user)) = self.anchored(&idp_id) {
            let mut identity = identity.clone();
            let (ops, note) = match self.let_go(&mut identity, &user.key) {
                Some((ops, note)) => (ops, Some(note)),
                None => {
                    lifecycle::retire(self.connector, Case::Filtered(reason.clone()), user, &mut identity, self.now)
                }
            };
            p.key = Some(user.key.to_string());
            p.username = user.username.to_string();
            p.ops = ops;
            p.reason = Some(match note {
                Some(n) => format!("{reason}; {n}"),
                None => reason,
            });
            p.identity = Some(Box::new(identity));
        }
        p
    }

    /// Finds the directory user for a source user: by anchor, by a stored external id (an anchor
    /// lost in a crash), or by linking on username/email when the connector allows it. A
    /// directory user is linked to at most one source user.
    fn locate(&mut self, d: &DesiredUser) -> Result<Option<Located<'a>>, String> {
        if let Some((identity, user)) = self.anchored(&d.idp_id) {
            return Ok(Some((identity.clone(), user, None)));
        }
        // Every directory user is anchored already (or there are none): nothing to find or link.
        if self.link_index.is_empty() {
            return Ok(None);
        }
        let (user, link) = match self.link_index.get(&format!("x:{}", d.idp_id)) {
            Some(found) => {
                let free: Vec<&'a DirectoryUser> =
                    found.iter().copied().filter(|u| !self.is_anchored(&u.key)).collect();
                match free.as_slice() {
                    [] => return Ok(None),
                    [u] => (*u, None),
                    many => return Err(format!("{} directory users carry external id '{}'", many.len(), d.idp_id)),
                }
            }
            None => match self.link_by_keys(d)? {
                Some(found) => found,
                None => return Ok(None),
            },
        };
        if let Some(at) = self.position(&user.key) {
            self.anchored[at] = true;
        }
        let identity = Identity {
            idp_id: d.idp_id.as_str().into(),
            key: user.key.as_str().into(),
            username: user.username.as_str().into(),
            gone_since: None,
            disabled_by_sync_at: None,
            anonymised: false,
            photo_etag: None,
            source_version: None,
        };
        Ok(Some((identity, user, link)))
    }

    /// The one link_index directory user the connector's link keys find, tried in order, and
    /// the link op; an error when a key finds several, or finds only a user already linked to
    /// another of this connector's source users (creating one would make a duplicate).
    fn link_by_keys(&self, d: &DesiredUser) -> Result<Option<(&'a DirectoryUser, Option<Op>)>, String> {
        for key in &self.connector.link_existing.0 {
            let wanted = match key {
                LinkKey::Username => Some(d.username.clone()),
                LinkKey::Email => d.values.get(&Target::Email).cloned().flatten(),
                LinkKey::Value(t) => d.values.get(t).cloned().flatten(),
            };
            let Some(wanted) = wanted.filter(|w| !w.is_empty()) else { continue };
            let Some(found) = self.link_index.get(&index_key(key, &wanted)) else { continue };
            let free: Vec<&'a DirectoryUser> = found.iter().copied().filter(|u| !self.is_anchored(&u.key)).collect();
            let by = key.name();
            return match free.as_slice() {
                [u] => Ok(Some((*u, Some(Op::Link { by: format!("{by} '{wanted}'") })))),
                [] => Err(format!(
                    "the directory user with {by} '{wanted}' is already linked to another source user of this \
                     connector: not created, it would be a duplicate"
                )),
                many => Err(format!("cannot link by {by}: {} directory users have {by} '{wanted}'", many.len())),
            };
        }
        Ok(None)
    }

    fn desired(&mut self, mut d: DesiredUser) -> UserPlan {
        let found = self.locate(&d);
        // Completed with what the directory record will hold once this plan is applied: stored
        // only if it is applied cleanly (`apply.rs`).
        if let Some(v) = d.source_version.take() {
            let user = found.as_ref().ok().and_then(|f| f.as_ref()).map(|(_, user, _)| *user);
            d.source_version = Some(version::complete(&v, version::expected_digest(user, &d)));
        }
        let mut p = UserPlan {
            idp_id: Some(std::mem::take(&mut d.idp_id)),
            key: None,
            username: d.username.clone(),
            disposition: plan::Disposition::Sync,
            ops: Vec::new(),
            held: Vec::new(),
            reason: None,
            location: Some(std::mem::take(&mut d.location)),
            identity: None,
            source_version: d.source_version.take(),
        };
        let found = match found {
            Ok(found) => found,
            Err(why) => return UserPlan::failed(p.idp_id, p.username, p.location, why),
        };
        let Some((mut identity, user, link)) = found else {
            return self.create(d, p);
        };
        p.key = Some(user.key.to_string());
        let was_live = link.is_none() && identity.gone_since.is_none();
        if let Some(owner) = self.live_claim(&user.key).filter(|o| o.outranks) {
            // Another connector owns the user: this one keeps its anchor, and writes nothing.
            if d.active {
                identity.gone_since = None;
            } else {
                identity.gone_since.get_or_insert(self.now);
            }
            if link.is_some() {
                p.reason =
                    Some(format!("owned by connector '{}', which outranks this one: nothing written", owner.connector));
            }
            p.ops.extend(link);
            p.identity = Some(Box::new(identity));
            return p;
        }
        p.ops.extend(link);
        if let (true, false, Some(owner)) = (d.active, was_live, self.live_claim(&user.key)) {
            // This connector outranks the owner and has the user: it takes them over.
            p.ops.push(Op::Handover { from: owner.connector.clone(), to: self.connector.id.clone() });
        }
        let returning = d.active;
        let frozen = identity.anonymised && !d.active;
        if !frozen {
            if user.username != d.username {
                if !self.claim(&d.username, Holder::Key(user.key.as_str())) {
                    return UserPlan::failed(
                        p.idp_id,
                        user.username.to_string(),
                        p.location,
                        format!(
                            "cannot rename '{}' to '{}': another directory user has that username",
                            user.username, d.username
                        ),
                    );
                }
                p.ops.push(Op::Rename { from: user.username.to_string(), to: d.username.clone() });
            }
            p.ops.extend(value_changes(&d.values, user));
            if let Some(photo) = &d.photo {
                if identity.photo_etag != *photo {
                    p.ops.push(Op::SetAvatar { etag: photo.clone() });
                }
            }
        } else {
            p.username = user.username.to_string();
        }
        if returning {
            identity.gone_since = None;
            if let Some(groups) = &d.groups {
                self.groups.diff(groups, &user.groups, &mut p.ops);
            }
            match (user.active, self.idle(user)) {
                // Idle: disabled until a login (the login hook) brings the user back.
                (true, Some(why)) => p.ops.push(Op::Disable { reason: why }),
                (false, Some(_)) | (true, None) => {}
                (false, None) => match self.reactivation(&identity) {
                    Ok(reason) => p.ops.push(Op::Reactivate { reason }),
                    Err(why) => p.reason = Some(why),
                },
            }
            if identity.anonymised {
                identity.anonymised = false;
            }
        } else if let Some((ops, note)) = self.let_go(&mut identity, &user.key) {
            p.ops.retain(|op| matches!(op, Op::Link { .. }));
            p.ops.extend(ops);
            p.reason = Some(note);
        } else {
            let (ops, note) = lifecycle::retire(self.connector, Case::Inactive, user, &mut identity, self.now);
            p.ops.extend(ops);
            p.reason = note.or(Some("inactive in the source".into()));
        }
        p.identity = Some(Box::new(identity));
        p
    }

    fn reactivation(&self, identity: &Identity) -> Result<String, String> {
        let by_sync = identity.disabled_by_sync_at.is_some() || identity.anonymised;
        match self.connector.lifecycle.reactivate {
            Reactivate::Always => Ok("active in the source".into()),
            Reactivate::IfDisabledBySync if by_sync => Ok("active in the source again; the sync had disabled this user".into()),
            Reactivate::IfDisabledBySync => Err("inactive in the directory, but not disabled by the sync: left inactive (lifecycle.reactivate is 'if_disabled_by_sync')".into()),
            Reactivate::Never => Err("inactive in the directory: left inactive (lifecycle.reactivate is 'never')".into()),
        }
    }

    fn create(&mut self, d: DesiredUser, mut p: UserPlan) -> UserPlan {
        if !d.active {
            p.disposition = plan::Disposition::Filtered;
            p.reason = Some("inactive in the source and not in the directory: not created".into());
            return p;
        }
        if !self.claim(&d.username, Holder::New) {
            let why = if self.connector.link_existing.is_none() {
                format!("username '{}' already exists in the directory and is not linked to this connector (see link_existing)", d.username)
            } else {
                format!("username '{}' is taken by a directory user that could not be linked", d.username)
            };
            return UserPlan::failed(p.idp_id, p.username, p.location, why);
        }
        // The desired user is consumed: its values move into the operations.
        let DesiredUser { username, mut values, groups, photo, .. } = d;
        let display_name = values.remove(&Target::DisplayName).flatten();
        let email = values.remove(&Target::Email).flatten();
        p.ops.reserve(values.len() + 2 + groups.as_ref().map_or(0, |g| g.len()));
        p.ops.push(Op::Create {
            display_name: display_name.unwrap_or_else(|| username.clone()),
            username,
            email,
            active: true,
        });
        for (target, v) in values {
            if let (false, Some(v)) = (target.is_core(), v) {
                p.ops.push(Op::Set { target, before: None, after: Some(v) });
            }
        }
        if let Some(groups) = groups {
            self.groups.add_all(groups, &mut p.ops);
        }
        if let Some(Some(etag)) = photo {
            p.ops.push(Op::SetAvatar { etag: Some(etag) });
        }
        p
    }

    /// Anchored users that are gone: absent from a complete listing, or reported removed.
    /// `is_gone` is asked by an anchor's position in `identity_list`.
    fn missing(&mut self, is_gone: &dyn Fn(usize) -> bool, plan: &mut Plan) {
        let mut gone: Vec<&Identity> =
            self.identity_list.iter().enumerate().filter(|(n, _)| is_gone(*n)).map(|(_, i)| i).collect();
        gone.sort_by(|a, b| a.idp_id.cmp(&b.idp_id));
        for identity in gone {
            let Some(user) = self.user(&identity.key) else {
                plan.forget.push(identity.idp_id.to_string());
                continue;
            };
            let mut identity = identity.clone();
            let already_let_go = identity.gone_since.is_some();
            let (ops, note) = match self.let_go(&mut identity, &user.key) {
                // Let go in an earlier run: nothing new to say.
                Some(_) if already_let_go => continue,
                Some((ops, note)) => (ops, Some(note)),
                None => lifecycle::retire(self.connector, Case::Missing, user, &mut identity, self.now),
            };
            plan.users.push(UserPlan {
                idp_id: Some(identity.idp_id.to_string()),
                key: Some(user.key.to_string()),
                username: user.username.to_string(),
                disposition: plan::Disposition::Sync,
                ops,
                held: Vec::new(),
                reason: Some(note.unwrap_or_else(|| "missing from the source".into())),
                location: None,
                identity: Some(Box::new(identity)),
                source_version: None,
            });
        }
    }
}

/// Whether the directory holds every value the mapping produced (a cleared display name aside):
/// one walk over both, which are in target order.
fn values_match(values: &ValueMap, current: &TextMap) -> bool {
    let mut have = current.iter().peekable();
    values.iter().all(|(target, after)| {
        while have.next_if(|(t, _)| *t < target).is_some() {}
        let now = have.next_if(|(t, _)| *t == target).map(|(_, v)| v);
        (*target == Target::DisplayName && after.is_none()) || now == after.as_deref()
    })
}

/// Where an link_index directory user is found by a link key's value (ignoring case).
fn index_key(key: &LinkKey, value: &str) -> String {
    format!("{}={}", key.name(), value.to_lowercase())
}

/// Field-level changes for the targets the mapping produced; absent targets are left alone.
fn value_changes(values: &ValueMap, user: &DirectoryUser) -> Vec<Op> {
    values
        .iter()
        .filter_map(|(target, after)| {
            let before = user.value(target);
            // The application keeps a display name; clearing it is not a change to chase.
            if *target == Target::DisplayName && after.is_none() {
                return None;
            }
            (before != after.as_deref()).then(|| Op::Set {
                target: target.clone(),
                before: before.map(str::to_string),
                after: after.clone(),
            })
        })
        .collect()
}

/// The position of an anchor whose directory user is gone.
const NOWHERE: u32 = u32::MAX;
