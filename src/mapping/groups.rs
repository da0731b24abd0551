//! Group rules: name transforms, include patterns, required and always-assigned groups.

use std::cell::RefCell;

use serde::Serialize;

use super::transform;
use crate::config::GroupRules;
use crate::fastmap::FastMap;
use crate::model::{CompactString, NameSet};

#[derive(Debug, Clone, Default, Serialize)]
pub struct GroupTrace {
    pub source: Vec<String>,
    pub kept: Vec<String>,
    pub dropped: Vec<(String, String)>,
    pub always: Vec<String>,
}

/// Whether a source group can affect any user: it is required, or it is assigned (see
/// `included`). Connectors skip reading the members of the others, so with required groups and
/// no include patterns only the required groups' members are read.
pub fn group_matters(rules: &GroupRules, source_name: &str) -> bool {
    let Some(name) = transformed(rules, source_name.to_string()) else { return false };
    included(rules, &name) || rules.required.iter().any(|r| r.eq_ignore_ascii_case(&name))
}

/// Whether a (mapped) group is assigned: it matches an include pattern; without patterns, it is
/// a required group; with neither, every group is.
fn included(rules: &GroupRules, name: &str) -> bool {
    if !rules.include.is_empty() {
        return rules.include.iter().any(|p| p.0.is_match(name));
    }
    rules.required.is_empty() || rules.required.iter().any(|r| r.eq_ignore_ascii_case(name))
}

/// What the group rules make of each source group name, remembered for a run: 100,000 users
/// name a few hundred groups between them, and the transforms and include patterns (regular
/// expressions) gave the same answer for each again and again. Bounded: a source with ever
/// new group names is mapped as before once the memo is full.
#[derive(Default)]
pub struct GroupMemo(RefCell<FastMap<Box<str>, Fate>>);

/// Names remembered at most: a few hundred kilobytes.
const MEMO_NAMES: usize = 4096;

/// A source group's fate: its name after transforms (`None`: empty), and whether it is assigned.
/// Inline text: a memo hit copies a group name without an allocation.
#[derive(Clone)]
struct Fate {
    name: Option<CompactString>,
    included: bool,
}

impl GroupMemo {
    fn fate(&self, rules: &GroupRules, source_name: String) -> Fate {
        if let Some(f) = self.0.borrow().get(source_name.as_str()) {
            return f.clone();
        }
        let key = (self.0.borrow().len() < MEMO_NAMES).then(|| source_name.clone().into_boxed_str());
        let name = transformed(rules, source_name);
        let fate = Fate { included: name.as_deref().is_some_and(|n| included(rules, n)), name: name.map(Into::into) };
        if let Some(key) = key {
            self.0.borrow_mut().insert(key, fate.clone());
        }
        fate
    }
}

/// A source group's name after the transforms and trimming; `None` when nothing is left.
fn transformed(rules: &GroupRules, name: String) -> Option<String> {
    let mut value = Some(name);
    for t in &rules.transforms {
        value = transform::apply(t, value).value;
    }
    value.map(transform::trimmed).filter(|v| !v.is_empty())
}

/// Whether the user is in one of the required groups (always, when none is required).
fn in_required(rules: &GroupRules, mapped: &[impl AsRef<str>]) -> bool {
    rules.required.is_empty()
        || mapped.iter().any(|g| rules.required.iter().any(|r| r.eq_ignore_ascii_case(g.as_ref())))
}

fn not_required(rules: &GroupRules) -> String {
    format!("not a member of a required group ({})", rules.required.join(", "))
}

/// `map_groups` for a sync: no trace, each source name's fate from the run's memo.
pub fn map_groups_memo(rules: &GroupRules, source: Vec<String>, memo: &GroupMemo) -> Result<NameSet, String> {
    // One pass, no list of fates beside the set: every source user of a sync comes through here.
    let mut required = rules.required.is_empty();
    let mut assigned = NameSet::new();
    for name in source {
        let Fate { name: Some(name), included } = memo.fate(rules, name) else { continue };
        required = required || rules.required.iter().any(|r| r.eq_ignore_ascii_case(&name));
        if included {
            assigned.insert(name);
        }
    }
    if !required {
        return Err(not_required(rules));
    }
    for name in &rules.always {
        assigned.insert(name.as_str());
    }
    Ok(assigned)
}

/// The groups a user should be in, or why they are filtered out (required groups); with
/// `explain`, also the trace of each group's fate (for `mapping test`).
pub fn map_groups(rules: &GroupRules, source: Vec<String>, explain: bool) -> (Result<NameSet, String>, GroupTrace) {
    let mut trace = GroupTrace::default();
    if explain {
        trace.source = source.clone();
        trace.always = rules.always.clone();
    }
    let mut mapped = Vec::with_capacity(source.len());
    for name in source {
        let original = if explain { Some(name.clone()) } else { None };
        match transformed(rules, name) {
            Some(v) => mapped.push(v),
            None => trace.dropped.extend(original.map(|n| (n, "empty after transforms".to_string()))),
        }
    }
    if !in_required(rules, &mapped) {
        return (Err(not_required(rules)), trace);
    }
    let mut out = Vec::with_capacity(mapped.len() + rules.always.len());
    for g in mapped {
        if included(rules, &g) {
            if explain {
                trace.kept.push(g.clone());
            }
            out.push(g);
        } else if explain && rules.include.is_empty() {
            trace
                .dropped
                .push((g, "not a required group (required groups are the include list when none is set)".into()));
        } else if explain {
            trace.dropped.push((g, "matches no include pattern".into()));
        }
    }
    out.extend(rules.always.iter().cloned());
    (Ok(out.into_iter().collect()), trace)
}
