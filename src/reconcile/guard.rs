//! The guard (DESIGN §6.2–3, §6.9): destructive operations above the threshold, or any after an
//! empty listing, are held until an administrator approves them; an approval is re-checked.

use std::collections::BTreeSet;

use super::plan::Plan;
use crate::config::Safety;

/// Destructive operations an administrator approved, as (directory key, `Op::approval_id`).
pub type Approval = BTreeSet<(String, String)>;

/// Holds destructive operations when they exceed the limits. `listing_empty` is true when the
/// source returned no users at all.
///
/// `approval` is given when this run applies what a held run held back. It then either applies
/// the approved operations the source still calls for, or refuses and holds everything
/// destructive: when the source is now empty, or when it calls for a destructive operation the
/// administrator did not approve (the held set grew) — approving a smaller set must never let
/// a bigger one through.
pub fn guard(plan: &mut Plan, safety: &Safety, listing_empty: bool, approval: Option<&Approval>) {
    let is_approved = |key: &Option<String>, id: String| {
        approval.is_some_and(|a| key.as_ref().is_some_and(|k| a.contains(&(k.clone(), id))))
    };
    let affected = plan.users.iter().filter(|u| u.ops.iter().any(|op| op.is_destructive())).count();
    if affected == 0 {
        return;
    }
    let unapproved = plan
        .users
        .iter()
        .filter(|u| u.ops.iter().any(|op| op.is_destructive() && !is_approved(&u.key, op.approval_id())))
        .count();
    let managed = plan.managed_users;
    let reason = if listing_empty && managed > 0 {
        Some(format!("the source returned no users while {managed} are managed"))
    } else if let Some(approval) = approval {
        (unapproved > 0).then(|| {
            format!(
                "the source now calls for destructive operations on {unapproved} user(s) beyond the {} approved; nothing destructive was applied — review this run and approve it instead",
                approval.len()
            )
        })
    } else {
        over_limit(affected, managed, safety)
    };
    let Some(reason) = reason else { return };
    for u in &mut plan.users {
        let (held, kept): (Vec<_>, Vec<_>) = u.ops.drain(..).partition(|op| op.is_destructive());
        u.ops = kept;
        u.held = held;
    }
    plan.hold = Some(reason);
}

/// Why `affected` users are too many for the configured limits, if they are.
fn over_limit(affected: usize, managed: usize, safety: &Safety) -> Option<String> {
    let percent_limit = managed as f64 * safety.max_destructive_percent / 100.0;
    if affected as f64 > percent_limit {
        Some(format!(
            "{affected} of {managed} managed users would be disabled, deleted, anonymised or lose group memberships, more than {}%",
            safety.max_destructive_percent
        ))
    } else if affected > safety.max_destructive_count as usize {
        Some(format!(
            "{affected} users would be disabled, deleted, anonymised or lose group memberships, more than {}",
            safety.max_destructive_count
        ))
    } else {
        None
    }
}
