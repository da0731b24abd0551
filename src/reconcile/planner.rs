//! Making a plan. A full run can start before the source is read: `offer` then takes each
//! mapped user as it arrives, and a user already in step with the directory (most users of most
//! runs) is counted and let go at once, so a run never holds every mapped user next to the whole
//! directory. What planning still needs of such a user afterwards is kept in compact form: its
//! anchor (for absence), its groups (already folded into the managed set) and the directory key
//! holding its name (for duplicate names). The plan is the same as when every user is held.

use std::borrow::Cow;
use std::collections::BTreeSet;

use super::{fold, managers, Context, Holder, Op, Reconciler, Scope, UserPlan};
use crate::fastmap::{FastMap as HashMap, FastSet as HashSet};
use crate::mapping::Mapped;
use crate::model::DesiredUser;

use super::plan::Plan;

/// Where plans that need no guard go as they are made (see `Planner::plan`), with the groups the
/// plan creates so far.
pub type Early<'e> = &'e mut dyn FnMut(Vec<UserPlan>, &BTreeSet<String>);

/// Plans handed over at once when they go out early.
const EARLY_BATCH: usize = 256;

pub struct Planner<'a> {
    r: Reconciler<'a>,
    /// `offer` may let users go: a full run without a manager rule (resolving managers needs
    /// every user of the run at once).
    early: bool,
    /// Anchored ids the source listed (borrowed from the anchors: only they can go missing).
    seen: HashSet<&'a str>,
    /// The directory keys of users let go as in step (borrowed from the anchors).
    in_step: HashSet<&'a str>,
    unchanged: usize,
}

impl<'a> Planner<'a> {
    pub fn new(context: Context<'a>) -> Self {
        Planner {
            r: Reconciler::new(&context),
            early: context.scope == Scope::Full && context.connector.manager.is_none(),
            seen: HashSet::with_capacity_and_hasher(context.identities.len(), Default::default()),
            in_step: HashSet::default(),
            unchanged: 0,
        }
    }

    /// Takes a user as it is mapped: `true` when it is in step with the directory and was
    /// counted, so the caller drops it; `false` when the plan needs it (pass it to `plan`).
    pub fn offer(&mut self, m: &Mapped) -> bool {
        let Mapped::User(d) = m else { return false };
        if !self.early {
            return false;
        }
        let Some((identity, user)) = self.r.in_step_at(d) else { return false };
        self.seen.insert(identity.idp_id.as_str());
        // In step means active: its groups are assigned, as the plan assigns every active user's.
        if let Some(groups) = &d.groups {
            self.r.groups.assign(groups);
        }
        self.in_step.insert(user.key.as_str());
        self.unchanged += 1;
        true
    }

    /// Takes back a user `offer` let go, if it did: the source retracted it.
    pub fn retract(&mut self, idp_id: &str) {
        let Some((_, user)) = self.r.anchored(idp_id) else { return };
        if self.in_step.remove(user.key.as_str()) {
            self.unchanged -= 1;
        }
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
        let mut desired: Vec<DesiredUser> = mapped
            .into_iter()
            .filter_map(|m| {
                seen.extend(r.anchor_id(m.idp_id()));
                match m {
                    Mapped::User(d) => Some(d),
                    Mapped::Filtered { idp_id, reason } => {
                        plan.users.push(r.filtered(idp_id, reason));
                        None
                    }
                    Mapped::Invalid { idp_id, location, message } => {
                        let username = r.identity(&idp_id).map(|i| i.username.clone()).unwrap_or_default();
                        plan.users.push(UserPlan::failed(Some(idp_id), username, Some(location), message));
                        None
                    }
                }
            })
            .collect();
        for (location, message) in unidentified {
            plan.users.push(UserPlan::failed(None, String::new(), Some(location), message));
        }
        // Plans come in id order, whatever order the source lists in (ids are unique: unstable is exact).
        if !desired.is_sorted_by(|a, b| a.idp_id <= b.idp_id) {
            desired.sort_unstable_by(|a, b| a.idp_id.cmp(&b.idp_id));
        }
        let managers::Resolved { notes: manager_notes, pending_keys } = match &r.connector.manager {
            Some(rule) => managers::resolve(rule, &mut desired, r.directory, r.identity_list),
            None => Default::default(),
        };
        plan.manager_keys = pending_keys;
        for groups in desired.iter().filter(|d| d.active).filter_map(|d| d.groups.as_ref()) {
            r.groups.assign(groups);
        }
        let duplicates = duplicate_usernames(&r, &desired, &mut self.in_step);
        if early.is_none() {
            plan.users.reserve(desired.len());
        }
        let mut batch = Vec::new();
        // Users without an anchor will mostly be created, each claiming a username.
        r.taken.reserve(desired.len().saturating_sub(r.identities.len()));
        for d in desired {
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
                        early(std::mem::take(&mut batch), &r.groups.to_create);
                    }
                }
                _ => plan.users.push(p),
            }
        }
        if let (Some(early), false) = (early, batch.is_empty()) {
            early(batch, &r.groups.to_create);
        }
        // A partial run sees only the directory users it touches (engine/snapshot.rs): the guard's
        // denominator is then every anchor, not the anchors found in that small snapshot.
        plan.managed_users = match r.scope {
            Scope::Full => r.managed_count(),
            Scope::Partial => r.identities.len(),
        };
        let removed: HashSet<&str> =
            removed.iter().filter_map(|id| r.anchor_id(id)).filter(|id| !seen.contains(id)).collect();
        if !removed.is_empty() {
            r.missing(&|id| removed.contains(id), &mut plan);
            seen.extend(removed);
        }
        if r.scope == Scope::Full {
            if complete {
                r.missing(&|id| !seen.contains(id), &mut plan);
            } else {
                plan.notes.push(
                    "the listing was incomplete (a record without a readable id, or a row whose fields do not match the header); no absence-based cleanup in this run"
                        .into(),
                );
            }
        }
        plan.create_groups = r.groups.to_create.into_iter().collect();
        plan.managed_groups = r.groups.managed;
        plan
    }
}

/// Usernames more than one source user of this run wants (folded), with those users' ids in id
/// order. A user let go as in step wants the name its directory user holds: a held user who
/// wants it too makes a duplicate with it.
fn duplicate_usernames(
    r: &Reconciler,
    desired: &[DesiredUser],
    in_step: &mut HashSet<&str>,
) -> HashMap<String, Vec<String>> {
    let mut duplicates = r.duplicate_usernames(desired);
    if in_step.is_empty() {
        return duplicates;
    }
    let mut grew = false;
    // The source id anchored to a directory key, looked up only when a name collides (rare).
    let mut anchored_to: Option<HashMap<&str, &str>> = None;
    for d in desired {
        let name: Cow<str> = fold(&d.username);
        let Some(Holder::Key(key)) = r.taken.get(name.as_ref()) else { continue };
        if !in_step.contains(key) {
            continue;
        }
        let by_key = anchored_to
            .get_or_insert_with(|| r.identity_list.iter().map(|i| (i.key.as_str(), i.idp_id.as_str())).collect());
        let Some(other) = by_key.get(key).filter(|other| **other != d.idp_id) else { continue };
        let ids = duplicates.entry(name.into_owned()).or_default();
        ids.push(other.to_string());
        ids.push(d.idp_id.clone());
        grew = true;
    }
    if grew {
        for ids in duplicates.values_mut() {
            ids.sort_unstable();
            ids.dedup();
        }
    }
    in_step.clear();
    in_step.shrink_to_fit();
    duplicates
}
