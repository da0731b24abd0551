//! Group rules: name transforms, include patterns, required and always-assigned groups.

use std::collections::BTreeSet;

use serde::Serialize;

use super::transform;
use crate::config::GroupRules;

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
    let mut value = Some(source_name.to_string());
    for t in &rules.transforms {
        value = transform::apply(t, value).value;
    }
    let Some(name) = value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) else { return false };
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

/// The groups a user should be in, or why they are filtered out (required groups); with
/// `explain`, also the trace of each group's fate (for `mapping test`).
pub fn map_groups(
    rules: &GroupRules,
    source: Vec<String>,
    explain: bool,
) -> (Result<BTreeSet<String>, String>, GroupTrace) {
    let mut trace = GroupTrace::default();
    if explain {
        trace.source = source.clone();
        trace.always = rules.always.clone();
    }
    let mut mapped = Vec::with_capacity(source.len());
    for name in source {
        let original = if explain { Some(name.clone()) } else { None };
        let mut value = Some(name);
        for t in &rules.transforms {
            value = transform::apply(t, value).value;
        }
        let value = value.map(transform::trimmed);
        match value.filter(|v| !v.is_empty()) {
            Some(v) => mapped.push(v),
            None => trace.dropped.extend(original.map(|n| (n, "empty after transforms".to_string()))),
        }
    }
    if !rules.required.is_empty() && !mapped.iter().any(|g| rules.required.iter().any(|r| r.eq_ignore_ascii_case(g))) {
        let reason = format!("not a member of a required group ({})", rules.required.join(", "));
        return (Err(reason), trace);
    }
    let mut out = BTreeSet::new();
    for g in mapped {
        if included(rules, &g) {
            if explain {
                trace.kept.push(g.clone());
            }
            out.insert(g);
        } else if explain && rules.include.is_empty() {
            trace
                .dropped
                .push((g, "not a required group (required groups are the include list when none is set)".into()));
        } else if explain {
            trace.dropped.push((g, "matches no include pattern".into()));
        }
    }
    out.extend(rules.always.iter().cloned());
    (Ok(out), trace)
}
