//! Making a plan. A full run can start before the source is read: `offer` then takes each
//! mapped user as it arrives, and a user already in step with the directory (most users of most
//! runs) is counted and let go at once, so a run never holds every mapped user next to the whole
//! directory. What planning still needs of such a user afterwards is kept in compact form: its
//! anchor (for absence), its groups (already folded into the managed set) and the directory key
//! holding its name (for duplicate names). The plan is the same as when every user is held.

use std::borrow::Cow;

use super::held::{HeldUser, Wanted};
use super::{fold, managers, Context, Holder, Op, Reconciler, Scope, UserPlan};
use crate::fastmap::{FastMap as HashMap, FastSet as HashSet};
use crate::mapping::Mapped;
use crate::model::{DesiredUser, Identity};

use super::plan::Plan;

/// Where plans that need no guard go as they are made (see `Planner::plan`), with the groups the
/// plan creates that no earlier hand-over carried.
pub type Early<'e> = &'e mut dyn FnMut(Vec<UserPlan>, &[String]);

/// Plans handed over at once when they go out early.
const EARLY_BATCH: usize = 256;

pub struct Planner<'a> {
    r: Reconciler<'a>,
    /// `offer` may let users go: a full run without a manager rule (resolving managers needs
    /// every user of the run at once).
    early: bool,
    /// Whether the source listed each anchor (by position in the anchors: only they can go
    /// missing).
    seen: Vec<bool>,
    /// Whether the user at each directory position was let go as in step.
    in_step: Vec<bool>,
    unchanged: usize,
    /// Users `offer` kept for the plan, packed until they are planned.
    held: Vec<HeldUser>,
}

impl<'a> Planner<'a> {
    pub fn new(context: Context<'a>) -> Self {
        Planner {
            r: Reconciler::new(&context),
            early: context.scope == Scope::Full && context.connector.manager.is_none(),
            seen: vec![false; context.identities.len()],
            in_step: vec![false; context.directory.len()],
            unchanged: 0,
            held: Vec::new(),
        }
    }

    /// Takes a user as it is mapped. A user in step with the directory is counted and let go;
    /// another is held for the plan (packed: see `held`). What the planner did not take (a
    /// user filtered or invalid, or any user when it cannot plan early) comes back, for the
    /// caller to pass to `plan`.
    pub fn offer(&mut self, m: Mapped) -> Option<Mapped> {
        let Mapped::User(d) = m else { return Some(m) };
        if !self.early {
            return Some(Mapped::User(d));
        }
        let Some((n, _, at)) = self.r.in_step_at(&d) else {
            self.held.push(HeldUser::pack(d));
            return None;
        };
        self.seen[n] = true;
        // In step means active: its groups are assigned, as the plan assigns every active user's.
        for g in d.groups.iter().flatten() {
            self.r.groups.assign(g);
        }
        self.in_step[at] = true;
        self.unchanged += 1;
        None
    }

    /// Takes back the users the source retracted after handing them over, if `offer` took them.
    pub fn retract(&mut self, idp_ids: &[String]) {
        let gone: HashSet<&str> = idp_ids.iter().map(String::as_str).collect();
        self.held.retain(|h| !gone.contains(h.idp_id()));
        for id in idp_ids {
            let Some((_, at)) = self.r.anchored_at(id) else { continue };
            if std::mem::take(&mut self.in_step[at]) {
                self.unchanged -= 1;
            }
        }
    }

    /// The anchor of `idp_id` and the digest of its directory record (`version.rs`): the mapper
    /// skips the rules for a user whose stored version they complete.
    pub fn anchored_digest(&self, idp_id: &str) -> Option<(&'a Identity, u64)> {
        self.r.anchored_digest(idp_id)
    }

    /// Users `offer` holds for the plan.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// Users `offer` let go: in step, nothing to plan.
    pub fn unchanged(&self) -> usize {
        self.unchanged
    }

    /// The plan: the users `offer` kept (or every mapped user), rows without an id, the ids the
    /// source reported removed, and whether the listing was complete.
    ///
    /// With `early`, the plans of users with nothing destructive in them (which the guard never
    /// holds) go there in batches as they are made, with the groups the plan creates so far,
    /// instead of into the plan: a run can write them while it plans the rest.
    pub fn plan(
        mut self,
        mapped: Vec<Mapped>,
        unidentified: Vec<(String, String)>,
        removed: Vec<String>,
        complete: bool,
        mut early: Option<Early>,
    ) -> Plan {
        let mut r = self.r;
        let mut plan = Plan { unchanged: self.unchanged, ..Plan::default() };
        let mut seen = self.seen;
        // The users to plan take over the mapped users' buffer (collected in place: no second
        // vector of every user beside the first).
        let desired: Vec<DesiredUser> = mapped
            .into_iter()
            .filter_map(|m| {
                if let Some(n) = r.anchor(m.idp_id()) {
                    seen[n] = true;
                }
                match m {
                    Mapped::User(d) => Some(d),
                    Mapped::Filtered { idp_id, reason } => {
                        plan.users.push(r.filtered(idp_id, reason));
                        None
                    }
                    Mapped::Invalid { idp_id, location, message } => {
                        let username = r.identity(&idp_id).map(|i| i.username.to_string()).unwrap_or_default();
                        plan.users.push(UserPlan::failed(Some(idp_id), username, Some(location), message));
                        None
                    }
                }
            })
            .collect();
        for (location, message) in unidentified {
            plan.users.push(UserPlan::failed(None, String::new(), Some(location), message));
        }
        // Users `offer` held stay packed until each is planned; with them, any others are
        // packed too. Managers are resolved over whole users (a run with a manager rule holds
        // none: it cannot plan early).
        let mut users = if self.held.is_empty() {
            Users::Whole(desired)
        } else {
            let mut held = std::mem::take(&mut self.held);
            held.extend(desired.into_iter().map(HeldUser::pack));
            Users::Held(held)
        };
        // Plans come in id order, whatever order the source lists in (ids are unique: unstable is exact).
        users.sort_by_id();
        let managers::Resolved { notes: manager_notes, pending_keys } = match (&r.connector.manager, &mut users) {
            (Some(rule), Users::Whole(desired)) => managers::resolve(rule, desired, r.directory, r.identity_list),
            _ => Default::default(),
        };
        plan.manager_keys = pending_keys;
        let duplicates = match &users {
            Users::Whole(desired) => prepare(&mut r, desired, &mut seen, &mut self.in_step),
            Users::Held(held) => prepare(&mut r, held, &mut seen, &mut self.in_step),
        };
        let count = users.len();
        if early.is_none() {
            plan.users.reserve(count);
        }
        let mut batch = Vec::new();
        // Groups to create that went out with earlier batches (each is created once).
        let mut handed = 0;
        // Users without an anchor will mostly be created, each claiming a username.
        r.taken.reserve(count.saturating_sub(r.identity_list.len()));
        for d in users.into_iter() {
            // Most users of a run match the directory already: recognised without building a plan.
            let note = if manager_notes.is_empty() { None } else { manager_notes.get(&d.idp_id).cloned() };
            if duplicates.is_empty() && note.is_none() && r.in_step(&d) {
                plan.unchanged += 1;
                continue;
            }
            let others = if duplicates.is_empty() { None } else { duplicates.get(fold(&d.username).as_ref()) };
            let p = match others {
                Some(others) if !r.owns_username(&d) => UserPlan::failed(
                    Some(d.idp_id.clone()),
                    d.username.clone(),
                    Some(d.location.clone()),
                    format!(
                        "duplicate username '{}': also produced by source id(s) {}",
                        d.username,
                        others.iter().filter(|o| **o != d.idp_id).cloned().collect::<Vec<_>>().join(", ")
                    ),
                ),
                _ => r.desired(d),
            };
            let mut p = p;
            if let Some(note) = note {
                p.reason = Some(match p.reason.take() {
                    Some(r) => format!("{r}; {note}"),
                    None => note,
                });
            }
            // Nothing to do and nothing to remember: counted, not carried through apply and record.
            if r.settled(&p) {
                plan.unchanged += 1;
                continue;
            }
            match early.as_deref_mut() {
                Some(early) if !p.ops.iter().any(Op::is_destructive) => {
                    batch.push(p);
                    if batch.len() == EARLY_BATCH {
                        early(std::mem::take(&mut batch), &r.groups.to_create[handed..]);
                        handed = r.groups.to_create.len();
                    }
                }
                _ => plan.users.push(p),
            }
        }
        if let (Some(early), false) = (early, batch.is_empty()) {
            early(batch, &r.groups.to_create[handed..]);
        }
        // A partial run sees only the directory users it touches (engine/snapshot.rs): the guard's
        // denominator is then every anchor, not the anchors found in that small snapshot.
        plan.managed_users = match r.scope {
            Scope::Full => r.managed_count(),
            Scope::Partial => r.identity_list.len(),
        };
        let removed: HashSet<usize> = removed.iter().filter_map(|id| r.anchor(id)).filter(|n| !seen[*n]).collect();
        if !removed.is_empty() {
            r.missing(&|n| removed.contains(&n), &mut plan);
            removed.iter().for_each(|n| seen[*n] = true);
        }
        if r.scope == Scope::Full {
            if complete {
                r.missing(&|n| !seen[n], &mut plan);
            } else {
                plan.notes.push(
                    "the listing was incomplete (a record without a readable id, or a row whose fields do not match the header); no absence-based cleanup in this run"
                        .into(),
                );
            }
        }
        plan.create_groups = r.groups.to_create;
        plan.create_groups.sort_unstable();
        plan.managed_groups = r.groups.managed;
        plan
    }
}

/// Usernames more than one source user of this run wants (folded), with those users' ids in id
/// order. A user let go as in step wants the name its directory user holds: a held user who
/// wants it too makes a duplicate with it.
fn duplicate_usernames<W: Wanted>(
    r: &Reconciler,
    desired: &[W],
    in_step: &mut Vec<bool>,
) -> HashMap<String, Vec<String>> {
    let mut duplicates = r.duplicate_usernames(desired);
    if !in_step.contains(&true) {
        return duplicates;
    }
    let mut grew = false;
    // The source id anchored to a directory key, looked up only when a name collides (rare).
    let mut anchored_to: Option<HashMap<&str, &str>> = None;
    for d in desired {
        let name: Cow<str> = fold(d.username());
        let Some(Holder::Key(key)) = r.holder(name.as_ref()) else { continue };
        if !r.position(key).is_some_and(|at| in_step[at]) {
            continue;
        }
        let by_key = anchored_to
            .get_or_insert_with(|| r.identity_list.iter().map(|i| (i.key.as_str(), i.idp_id.as_str())).collect());
        let Some(other) = by_key.get(key).filter(|other| **other != d.idp_id()) else { continue };
        let ids = duplicates.entry(name.into_owned()).or_default();
        ids.push(other.to_string());
        ids.push(d.idp_id().to_string());
        grew = true;
    }
    if grew {
        for ids in duplicates.values_mut() {
            ids.sort_unstable();
            ids.dedup();
        }
    }
    *in_step = Vec::new();
    duplicates
}

/// The users a plan is made for: whole, or held packed until each is planned.
enum Users {
    Whole(Vec<DesiredUser>),
    Held(Vec<HeldUser>),
}

impl Users {
    fn len(&self) -> usize {
        match self {
            Users::Whole(v) => v.len(),
            Users::Held(v) => v.len(),
        }
    }

    fn sort_by_id(&mut self) {
        fn sort<W: Wanted>(v: &mut [W]) {
            if !v.is_sorted_by(|a, b| a.idp_id() <= b.idp_id()) {
                v.sort_unstable_by(|a, b| a.idp_id().cmp(b.idp_id()));
            }
        }
        match self {
            Users::Whole(v) => sort(v),
            Users::Held(v) => sort(v),
        }
    }

    /// Each user whole, in order; a held one is unpacked as it is reached.
    fn into_iter(self) -> Box<dyn Iterator<Item = DesiredUser>> {
        match self {
            Users::Whole(v) => Box::new(v.into_iter()),
            Users::Held(v) => Box::new(v.into_iter().map(HeldUser::unpack)),
        }
    }
}

/// What planning needs of every user before it plans one: the anchored ids the source listed,
/// every active user's groups assigned (so that removals see them all), and the usernames that
/// more than one user wants.
fn prepare<'a, W: Wanted>(
    r: &mut Reconciler<'a>,
    users: &[W],
    seen: &mut [bool],
    in_step: &mut Vec<bool>,
) -> HashMap<String, Vec<String>> {
    for u in users {
        if let Some(n) = r.anchor(u.idp_id()) {
            seen[n] = true;
        }
        if u.active() {
            u.each_group(&mut |g| r.groups.assign(g));
        }
    }
    duplicate_usernames(r, users, in_step)
}
