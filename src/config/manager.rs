//! `manager`: the user's manager, resolved to the manager's directory user and written to a
//! target as their username, display name or e-mail. The source names the manager by its own id
//! (Entra's `manager`, Okta's `managerId`), by e-mail (Google's `relations`) or by whatever a CSV
//! column holds (`match`). A rule of the mapping for the same target gives way to this one (a
//! preset maps `property:manager` to the manager's raw reference).

use std::str::FromStr;

use serde::Serialize;
use serde_json::Value;

use super::reader::{Ctx, Obj};
use crate::model::Target;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManagerRule {
    pub target: Target,
    /// What is written: the manager's `username`, `display_name`, `email` or directory `key`.
    pub write: ManagerField,
    /// How the source's reference finds the manager: by source `id`, `email` or `username`.
    #[serde(rename = "match")]
    pub by: ManagerField,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ManagerField {
    Id,
    Key,
    Username,
    DisplayName,
    Email,
}

pub(super) fn read_manager(ctx: &mut Ctx, path: &str, v: &Value) -> Option<ManagerRule> {
    let mut o = Obj::new(ctx, path, v)?;
    let target = o.req(ctx, "target", "where the manager is written, such as 'property:manager'").and_then(|(p, v)| {
        let s = ctx.string(&p, v)?;
        match Target::from_str(&s) {
            Ok(t) if !t.is_core() && t != Target::Groups => Some(t),
            Ok(_) => {
                ctx.err(&p, "the manager goes to a field such as 'property:manager', not a core field or groups");
                None
            }
            Err(e) => {
                ctx.err(&p, e);
                None
            }
        }
    });
    let write = match o.opt("write") {
        Some((p, v)) => ctx.word(
            &p,
            v,
            &[
                ("username", ManagerField::Username),
                ("display_name", ManagerField::DisplayName),
                ("email", ManagerField::Email),
                ("key", ManagerField::Key),
            ],
        ),
        None => Some(ManagerField::Username),
    };
    let by = match o.opt("match") {
        Some((p, v)) => ctx.word(
            &p,
            v,
            &[("id", ManagerField::Id), ("username", ManagerField::Username), ("email", ManagerField::Email)],
        ),
        None => Some(ManagerField::Id),
    };
    o.finish(ctx);
    Some(ManagerRule { target: target?, write: write?, by: by? })
}
