//! What happens to a managed user who left: missing from a complete listing, inactive in the
//! source, or filtered out. Grace periods, disable-before-delete, anonymisation, protection.

use chrono::{DateTime, Duration, Utc};

use super::plan::Op;
use crate::config::{ConnectorConfig, LifecycleAction};
use crate::model::{DirectoryUser, Identity};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Case {
    Missing,
    Inactive,
    Filtered(String),
}

/// The operations for a departing user and a note saying why (or why nothing happens yet).
/// Updates the identity's bookkeeping (`gone_since`) as a side effect.
pub fn retire(
    connector: &ConnectorConfig,
    case: Case,
    user: &DirectoryUser,
    identity: &mut Identity,
    now: DateTime<Utc>,
) -> (Vec<Op>, Option<String>) {
    let policy = &connector.lifecycle;
    let (action, why) = match &case {
        Case::Missing => (policy.missing, "missing from the source".to_string()),
        Case::Inactive => (policy.inactive, "inactive in the source".to_string()),
        Case::Filtered(reason) => (policy.filtered, format!("filtered out ({reason})")),
    };
    let gone_since = *identity.gone_since.get_or_insert(now);
    if action == LifecycleAction::Keep {
        return (Vec::new(), Some(format!("{why}; kept (lifecycle action is 'keep')")));
    }
    if let Some(g) = user.groups.iter().find(|g| policy.protected_groups.iter().any(|p| p.eq_ignore_ascii_case(g))) {
        return (Vec::new(), Some(format!("{why}; protected as a member of '{g}', never disabled or deleted")));
    }
    if case == Case::Missing && policy.grace_days > 0 {
        let ends = gone_since + Duration::days(policy.grace_days.into());
        if now < ends {
            return (Vec::new(), Some(format!("{why} since {}; grace period ends {}", day(gone_since), day(ends))));
        }
    }
    let mut ops = Vec::new();
    if user.active {
        ops.push(Op::Disable { reason: why.clone() });
    }
    if policy.strip_groups {
        ops.extend(
            user.groups
                .iter()
                .filter(|g| !connector.groups.local.iter().any(|l| l.eq_ignore_ascii_case(g)))
                .map(|g| Op::RemoveGroup { group: g.to_string(), strip: true }),
        );
    }
    let note = match action {
        LifecycleAction::Disable | LifecycleAction::Keep => None,
        LifecycleAction::Anonymise if !identity.anonymised => {
            ops.push(Op::Anonymise { reason: why.clone() });
            None
        }
        LifecycleAction::Anonymise => None,
        LifecycleAction::Delete if user.active => {
            Some(format!("{why}; disabled now, deleted after {} day(s) disabled", policy.delete_after_days))
        }
        LifecycleAction::Delete => {
            let since = identity.disabled_by_sync_at.unwrap_or(gone_since);
            let due = since + Duration::days(policy.delete_after_days.into());
            if now >= due {
                ops.push(Op::Delete { reason: format!("{why}; disabled since {}", day(since)) });
                None
            } else {
                Some(format!("{why}; disabled since {}, deleted on {}", day(since), day(due)))
            }
        }
    };
    (ops, note.or(Some(why)))
}

fn day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}
