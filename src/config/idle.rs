//! `lifecycle.idle`: disabling users who no longer log in, to free licence seats. A managed,
//! active user whose last login is older than `days` (or who never logged in and was created
//! longer ago than `never_logged_in_days`) is disabled, through the same simulate, guard, hold
//! and approve path as any other leaver. Administrators, members of `exempt_groups` and of
//! `lifecycle.protected_groups`, and `exempt_users` are never touched. A login reactivates the
//! user through the login hook.

use serde::Serialize;
use serde_json::Value;

use super::reader::{Ctx, Obj};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdlePolicy {
    pub days: u32,
    /// For users who never logged in: days since they were created. `None`: they are left alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub never_logged_in_days: Option<u32>,
    pub exempt_groups: Vec<String>,
    pub exempt_users: Vec<String>,
}

/// The application's administrator groups: exempt unless `exempt_groups` says otherwise.
const ADMIN_GROUPS: [&str; 4] =
    ["jira-administrators", "jira-system-administrators", "confluence-administrators", "system-administrators"];

pub(super) fn read_idle(ctx: &mut Ctx, path: &str, v: &Value) -> Option<IdlePolicy> {
    let mut o = Obj::new(ctx, path, v)?;
    let days =
        o.req(ctx, "days", "days since the last login (1 to 36500)").and_then(|(p, v)| ctx.whole(&p, v, 1, 36_500));
    let never = match o.opt("never_logged_in_days") {
        Some((p, v)) => ctx.whole(&p, v, 1, 36_500).map(Some),
        None => Some(None),
    };
    let list = |ctx: &mut Ctx, o: &mut Obj, key: &'static str, default: Vec<String>| match o.opt(key) {
        Some((p, v)) => ctx.strings(&p, v),
        None => Some(default),
    };
    let exempt_groups = list(ctx, &mut o, "exempt_groups", ADMIN_GROUPS.iter().map(|g| g.to_string()).collect());
    let exempt_users = list(ctx, &mut o, "exempt_users", Vec::new());
    o.finish(ctx);
    Some(IdlePolicy {
        days: days?,
        never_logged_in_days: never?,
        exempt_groups: exempt_groups?,
        exempt_users: exempt_users?,
    })
}
