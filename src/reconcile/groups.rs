//! Membership changes: which groups to add, which to remove, which to create first.

use std::collections::BTreeSet;

use crate::fastmap::{FastMap as HashMap, FastSet as HashSet};

use super::plan::Op;
use crate::config::GroupRules;
use crate::model::NameSet;

/// Group bookkeeping for one plan. Names compare case-insensitively, as in Atlassian products.
pub(super) struct GroupState {
    /// Lower-case name → the directory's spelling.
    existing: HashMap<String, String>,
    local: BTreeSet<String>,
    remove_unlisted: bool,
    create_missing: bool,
    /// Groups to create, in the order users first needed them (each once): a full run hands
    /// its early plans over with only the groups new since the last hand-over. Handing over the
    /// whole set each time looked every one of 10,000 groups up again per 256 users, a sixth of
    /// a 1,000,000-user run's CPU.
    pub to_create: Vec<String>,
    /// Groups this connector manages: earlier runs' plus every group it assigns now (lower case).
    pub managed: BTreeSet<String>,
    /// Spellings already folded into `managed`: most users share a few groups.
    assigned: HashSet<String>,
    /// Source spelling → the directory's spelling to add (see `resolve`).
    resolved: HashMap<String, Option<String>>,
}

impl GroupState {
    pub fn new(rules: &GroupRules, existing: &BTreeSet<String>, managed: &BTreeSet<String>) -> Self {
        GroupState {
            existing: existing.iter().map(|g| (g.to_lowercase(), g.clone())).collect(),
            local: rules.local.iter().map(|g| g.to_lowercase()).collect(),
            remove_unlisted: rules.remove_unlisted,
            create_missing: rules.create_missing,
            to_create: Vec::new(),
            managed: managed.clone(),
            assigned: HashSet::default(),
            resolved: HashMap::default(),
        }
    }

    /// Every group assigned in this run becomes managed before any diff, so removals do not
    /// depend on the order users are processed in.
    pub fn assign(&mut self, group: &str) {
        if !self.assigned.contains(group) {
            self.managed.insert(group.to_lowercase());
            self.assigned.insert(group.to_string());
        }
    }

    /// Adds for desired groups the user lacks; removals for managed, non-local groups the
    /// source no longer lists. A group that does not exist is created first, or skipped.
    /// The operations go straight into the user's `ops`.
    pub fn diff(&mut self, desired: &NameSet, current: &NameSet, ops: &mut Vec<Op>) {
        // The usual case: the user is in exactly the groups they should be.
        if desired == current {
            return;
        }
        let current_folded: BTreeSet<String> = current.iter().map(|g| g.to_lowercase()).collect();
        for g in desired {
            if !current.is_empty() && current_folded.contains(&g.to_lowercase()) {
                continue;
            }
            if let Some(group) = self.resolve(g) {
                ops.push(Op::AddGroup { group: group.clone() });
            }
        }
        if self.remove_unlisted && !current.is_empty() {
            let desired_folded: BTreeSet<String> = desired.iter().map(|g| g.to_lowercase()).collect();
            for g in current {
                let folded = g.to_lowercase();
                if !desired_folded.contains(&folded) && self.managed.contains(&folded) && !self.local.contains(&folded)
                {
                    ops.push(Op::RemoveGroup { group: g.to_string(), strip: false });
                }
            }
        }
    }

    /// `diff` for a user who is in no group yet (one this plan creates): the names move into
    /// the operations when the directory spells them the same way.
    pub fn add_all(&mut self, desired: NameSet, ops: &mut Vec<Op>) {
        for g in desired {
            match self.resolve(&g) {
                Some(spelling) if *spelling == g => ops.push(Op::AddGroup { group: g }),
                Some(spelling) => ops.push(Op::AddGroup { group: spelling.clone() }),
                None => {}
            }
        }
    }

    /// The directory's spelling of a group to add, once per distinct name: the existing group,
    /// or one to create first, or `None` (missing, and creating is off).
    fn resolve(&mut self, name: &str) -> Option<&String> {
        if !self.resolved.contains_key(name) {
            let folded = name.to_lowercase();
            let r = match self.existing.get(&folded) {
                Some(existing) => Some(existing.clone()),
                None if self.create_missing => {
                    self.existing.insert(folded, name.to_string());
                    self.to_create.push(name.to_string());
                    Some(name.to_string())
                }
                None => None,
            };
            self.resolved.insert(name.to_string(), r);
        }
        self.resolved.get(name).and_then(Option::as_ref)
    }
}
