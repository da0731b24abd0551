//! The guard (DESIGN §6.2–3): destructive operations above the threshold, or any after an
//! empty listing, are held until an administrator approves them.

use std::collections::BTreeSet;

use super::plan::Plan;
use crate::config::Safety;

/// Destructive operations an administrator approved, as (directory key, op kind).
pub type Approval = BTreeSet<(String, String)>;

/// Holds destructive operations when they exceed the limits. `listing_empty` is true when the
/// source returned no users at all. Approved operations pass and do not count.
pub fn guard(plan: &mut Plan, safety: &Safety, listing_empty: bool, approved: &Approval) {
    let is_approved = |key: &Option<String>, kind: &str| {
        key.as_ref().is_some_and(|k| approved.contains(&(k.clone(), kind.to_string())))
    };
    let affected = plan
        .users
        .iter()
        .filter(|u| u.ops.iter().any(|op| op.is_destructive() && !is_approved(&u.key, op.kind())))
        .count();
    if affected == 0 {
        return;
    }
    let managed = plan.managed_users;
    let percent_limit = managed as f64 * safety.max_destructive_percent / 100.0;
    let reason = if listing_empty && managed > 0 {
        Some(format!("the source returned no users while {managed} are managed"))
    } else if affected as f64 > percent_limit {
        Some(format!(
            "{affected} of {managed} managed users would be disabled, deleted, anonymised or stripped, more than {}%",
            safety.max_destructive_percent
        ))
    } else if affected > safety.max_destructive_count as usize {
        Some(format!(
            "{affected} users would be disabled, deleted, anonymised or stripped, more than {}",
            safety.max_destructive_count
        ))
    } else {
        None
    };
    let Some(reason) = reason else { return };
    for u in &mut plan.users {
        let key = u.key.clone();
        let (held, kept): (Vec<_>, Vec<_>) =
            u.ops.drain(..).partition(|op| op.is_destructive() && !is_approved(&key, op.kind()));
        u.ops = kept;
        u.held = held;
    }
    plan.hold = Some(reason);
}
