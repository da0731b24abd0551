//! A chunk of per-user results as the JSON array the history stores, written as text. A full
//! run writes one result per user, each with a dozen operations: through serde (every name and
//! value escaped by its general path, each operation flattened into its result) that was about
//! 12,000 instructions a created user, a tenth of a first run. What is written reads back
//! through `UserResult`'s `Deserialize`, as before: the unit test holds the two to each other.

use super::{OpResult, UserResult};
use crate::json_text::push_json_text;
use crate::reconcile::Op;

pub(super) fn results_json(results: &[UserResult]) -> String {
    let mut out = String::with_capacity(results.len() * 1024);
    out.push('[');
    for (i, r) in results.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        user_result(&mut out, r);
    }
    out.push(']');
    out
}

fn user_result(out: &mut String, r: &UserResult) {
    out.push_str("{\"idp_id\":");
    optional(out, r.idp_id.as_deref());
    out.push_str(",\"username\":");
    push_json_text(out, &r.username);
    out.push_str(",\"key\":");
    optional(out, r.key.as_deref());
    out.push_str(",\"outcomes\":[");
    for (i, o) in r.outcomes.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_text(out, o);
    }
    out.push_str("],\"ops\":[");
    for (i, OpResult { op, error }) in r.ops.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('{');
        op_fields(out, op);
        if let Some(e) = error {
            out.push_str(",\"error\":");
            push_json_text(out, e);
        }
        out.push('}');
    }
    out.push_str("],\"held\":[");
    for (i, op) in r.held.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('{');
        op_fields(out, op);
        out.push('}');
    }
    out.push_str("],\"reason\":");
    optional(out, r.reason.as_deref());
    out.push_str(",\"error\":");
    optional(out, r.error.as_deref());
    out.push_str(",\"location\":");
    optional(out, r.location.as_deref());
    out.push('}');
}

/// An operation's members, its tag first (`#[serde(tag = "op", rename_all = "snake_case")]`).
fn op_fields(out: &mut String, op: &Op) {
    let text = |out: &mut String, name: &str, value: &str| {
        out.push_str(name);
        push_json_text(out, value);
    };
    match op {
        Op::Create { username, display_name, email, active } => {
            text(out, "\"op\":\"create\",\"username\":", username);
            text(out, ",\"display_name\":", display_name);
            out.push_str(",\"email\":");
            optional(out, email.as_deref());
            out.push_str(if *active { ",\"active\":true" } else { ",\"active\":false" });
        }
        Op::Link { by } => text(out, "\"op\":\"link\",\"by\":", by),
        Op::Rename { from, to } => {
            text(out, "\"op\":\"rename\",\"from\":", from);
            text(out, ",\"to\":", to);
        }
        Op::Set { target, before, after } => {
            text(out, "\"op\":\"set\",\"target\":", &target.name());
            out.push_str(",\"before\":");
            optional(out, before.as_deref());
            out.push_str(",\"after\":");
            optional(out, after.as_deref());
        }
        Op::Reactivate { reason } => text(out, "\"op\":\"reactivate\",\"reason\":", reason),
        Op::Disable { reason } => text(out, "\"op\":\"disable\",\"reason\":", reason),
        Op::AddGroup { group } => text(out, "\"op\":\"add_group\",\"group\":", group),
        Op::RemoveGroup { group, strip } => {
            text(out, "\"op\":\"remove_group\",\"group\":", group);
            out.push_str(if *strip { ",\"strip\":true" } else { ",\"strip\":false" });
        }
        Op::Delete { reason } => text(out, "\"op\":\"delete\",\"reason\":", reason),
        Op::Anonymise { reason } => text(out, "\"op\":\"anonymise\",\"reason\":", reason),
        Op::SetAvatar { etag } => {
            out.push_str("\"op\":\"set_avatar\",\"etag\":");
            optional(out, etag.as_deref());
        }
        Op::Handover { from, to } => {
            text(out, "\"op\":\"handover\",\"from\":", from);
            text(out, ",\"to\":", to);
        }
    }
}

fn optional(out: &mut String, value: Option<&str>) {
    match value {
        Some(v) => push_json_text(out, v),
        None => out.push_str("null"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Target;

    /// Every operation, every optional member present and absent, texts that need escapes: the
    /// text written is the one serde writes, and reads back as the same results.
    #[test]
    fn writes_what_serde_writes() {
        let odd = "q\"uo\\te\n\u{1}é";
        let ops = vec![
            Op::Create { username: "ann".into(), display_name: odd.into(), email: Some("a@x".into()), active: true },
            Op::Create { username: "bob".into(), display_name: "Bob".into(), email: None, active: false },
            Op::Link { by: "email".into() },
            Op::Rename { from: "a".into(), to: odd.into() },
            Op::Set { target: Target::Property("dept".into()), before: None, after: Some(odd.into()) },
            Op::Set { target: Target::DisplayName, before: Some("x".into()), after: None },
            Op::Reactivate { reason: "back".into() },
            Op::Disable { reason: odd.into() },
            Op::AddGroup { group: "g\"1".into() },
            Op::RemoveGroup { group: "g2".into(), strip: true },
            Op::RemoveGroup { group: "g3".into(), strip: false },
            Op::Delete { reason: "gone".into() },
            Op::Anonymise { reason: "erase".into() },
            Op::SetAvatar { etag: Some("W/\"1\"".into()) },
            Op::SetAvatar { etag: None },
            Op::Handover { from: "c1".into(), to: "c2".into() },
        ];
        let results = vec![
            UserResult {
                idp_id: Some("u1".into()),
                username: odd.into(),
                key: Some("7".into()),
                outcomes: vec!["created".into(), "updated".into()],
                ops: ops
                    .iter()
                    .enumerate()
                    .map(|(i, op)| OpResult { op: op.clone(), error: (i % 3 == 0).then(|| format!("failed {odd}")) })
                    .collect(),
                held: ops.clone(),
                reason: Some(odd.into()),
                error: Some("e".into()),
                location: Some("entra user u1".into()),
            },
            UserResult {
                idp_id: None,
                username: String::new(),
                key: None,
                outcomes: vec![],
                ops: vec![],
                held: vec![],
                reason: None,
                error: None,
                location: None,
            },
        ];
        let written = results_json(&results);
        assert_eq!(written, serde_json::to_string(&results).unwrap());
        assert_eq!(serde_json::from_str::<Vec<UserResult>>(&written).unwrap(), results);
        assert_eq!(results_json(&[]), "[]");
    }
}
