//! Mapping: pure functions from a source user to what the directory should hold.

mod groups;
pub mod transform;

use std::borrow::Cow;

use serde::Serialize;

use crate::config::{ConnectorConfig, MappingRule, NoMatch, SourceSettings, ValueSource};
use crate::model::{DesiredUser, SourceUser, Target, ValueMap};

pub use groups::{group_matters, GroupMemo, GroupTrace};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapped {
    User(DesiredUser),
    Filtered {
        idp_id: String,
        reason: String,
    },
    /// The user's data cannot be synced; `location` names the file/line and column.
    Invalid {
        idp_id: String,
        location: String,
        message: String,
    },
}

impl Mapped {
    /// The source id of the user, whatever became of it.
    pub fn idp_id(&self) -> &str {
        match self {
            Mapped::User(d) => &d.idp_id,
            Mapped::Filtered { idp_id, .. } | Mapped::Invalid { idp_id, .. } => idp_id,
        }
    }
}

/// Why each rule produced what it did, for `usersync mapping test`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MappingTrace {
    pub rules: Vec<RuleTrace>,
    pub groups: Option<GroupTrace>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleTrace {
    pub target: Target,
    pub read: Option<String>,
    pub steps: Vec<(String, Option<String>)>,
    pub outcome: String,
}

/// What one rule decided for the target.
enum RuleResult {
    Set(String),
    Clear,
    Leave,
    Filter(String),
}

pub fn map_user(connector: &ConnectorConfig, user: &SourceUser, trace: Option<&mut MappingTrace>) -> Mapped {
    map_user_with(connector, user, true, trace)
}

/// `map_user` for a source that did not read groups this time (an incremental round): group
/// rules, required groups included, are not evaluated and the user's groups are left alone.
pub fn map_user_with(
    connector: &ConnectorConfig,
    user: &SourceUser,
    groups_known: bool,
    trace: Option<&mut MappingTrace>,
) -> Mapped {
    map_cow(connector, Cow::Borrowed(user), None, groups_known, trace)
}

/// `map_user_with` for a record the caller is done with: its id, groups, photo and the values
/// `takes` allows move into the result instead of being copied.
pub fn map_user_owned(connector: &ConnectorConfig, takes: &Takes, user: SourceUser, groups_known: bool) -> Mapped {
    map_cow(connector, Cow::Owned(user), Some(takes), groups_known, None)
}

/// What a sync's mapping works out once and reuses: per rule, whether it may move its value out
/// of an owned record (it may when it reads one attribute that no later rule reads, nor any path
/// under the same first name: moving leaves an empty value behind); and the fate of each source
/// group name.
pub struct Takes(Vec<bool>, GroupMemo);

impl Takes {
    pub fn new(connector: &ConnectorConfig) -> Self {
        let head = |path: &str| path.split('.').next().unwrap_or(path).to_string();
        let rules = &connector.mapping;
        Takes(
            rules
                .iter()
                .enumerate()
                .map(|(i, rule)| match &rule.source {
                    ValueSource::Attribute(path) => {
                        let later =
                            rules[i + 1..].iter().flat_map(|r| paths(&r.source)).map(|p| head(&p)).collect::<Vec<_>>();
                        !later.contains(&head(path))
                    }
                    _ => false,
                })
                .collect(),
            GroupMemo::default(),
        )
    }
}

fn map_cow(
    connector: &ConnectorConfig,
    mut user: Cow<'_, SourceUser>,
    takes: Option<&Takes>,
    groups_known: bool,
    mut trace: Option<&mut MappingTrace>,
) -> Mapped {
    let mut values = ValueMap::with_capacity(connector.mapping.len());
    let mut username = None;
    let mut active = user.active;
    for (i, rule) in connector.mapping.iter().enumerate() {
        let read = match (&mut user, &rule.source) {
            (Cow::Owned(u), ValueSource::Attribute(path)) if takes.is_some_and(|t| t.0[i]) => {
                transform::take_attribute(&mut u.attributes, path)
            }
            _ => transform::resolve(&rule.source, &user.attributes),
        };
        let (result, rule_trace) = run_rule(rule, read, trace.is_some());
        if let (Some(t), Some(rule_trace)) = (trace.as_deref_mut(), rule_trace) {
            t.rules.push(rule_trace);
        }
        let value = match result {
            RuleResult::Filter(reason) => return Mapped::Filtered { idp_id: user.id.clone(), reason },
            RuleResult::Leave => continue,
            RuleResult::Clear => None,
            RuleResult::Set(v) => Some(v),
        };
        if let Err(message) = check(&rule.target, value.as_deref()) {
            return Mapped::Invalid {
                idp_id: user.id.clone(),
                location: format!("{}, column {}", user.location, column(&rule.source)),
                message,
            };
        }
        match &rule.target {
            Target::Username => username = value,
            Target::Active => active = active && value.as_deref().map(truthy).unwrap_or(true),
            Target::JsmOrganization => {
                values.insert(Target::JsmOrganization, value.as_deref().and_then(organisations));
            }
            target => {
                values.insert(target.clone(), value);
            }
        }
    }
    let Some(username) = username else {
        let rule = connector.rule(&Target::Username).expect("validated: a username rule exists");
        return Mapped::Invalid {
            idp_id: user.id.clone(),
            location: format!("{}, column {}", user.location, column(&rule.source)),
            message: "the username is empty".into(),
        };
    };
    let groups = match (takes, trace) {
        (Some(t), None) => GroupsBy::Memo(&t.1),
        (_, trace) => GroupsBy::Rules(trace),
    };
    finish(connector, user, username, active, values, groups_known, groups)
}

/// For a user whose source record did not change since its last clean apply: the rules are not
/// evaluated again (their values are already in the directory), but groups, which a record's
/// version does not cover, are. Only where `rules_skippable`.
pub fn map_unchanged(
    connector: &ConnectorConfig,
    takes: &Takes,
    user: SourceUser,
    username: &str,
    groups_known: bool,
) -> Mapped {
    let active = user.active;
    finish(
        connector,
        Cow::Owned(user),
        username.to_string(),
        active,
        ValueMap::default(),
        groups_known,
        GroupsBy::Memo(&takes.1),
    )
}

/// Whether the rules can be skipped for an unchanged user at all: not when a rule computes
/// the active state, which `map_unchanged` takes from the record, nor with a manager rule,
/// which writes a manager's mapped values (its display name, its e-mail) into their reports.
pub fn rules_skippable(connector: &ConnectorConfig) -> bool {
    connector.rule(&Target::Active).is_none() && connector.manager.is_none()
}

/// How a user's groups are mapped: from a sync's memo of each group name's fate, or by running
/// the rules (with a trace when one is asked for).
enum GroupsBy<'t> {
    Memo(&'t GroupMemo),
    Rules(Option<&'t mut MappingTrace>),
}

/// Groups, photo and the rest of a desired user, once the rules have run (or were skipped).
fn finish(
    connector: &ConnectorConfig,
    user: Cow<'_, SourceUser>,
    username: String,
    active: bool,
    values: ValueMap,
    groups_known: bool,
    by: GroupsBy,
) -> Mapped {
    let managed = groups_known
        && match &connector.source {
            SourceSettings::File(f) => f.groups_column.is_some() || !connector.groups.always.is_empty(),
            _ => true,
        };
    let (id, location, photo_etag, source_groups, manager) = match user {
        Cow::Owned(u) => (u.id, u.location, u.photo_etag, u.groups, u.manager),
        Cow::Borrowed(u) => {
            (u.id.clone(), u.location.clone(), u.photo_etag.clone(), u.groups.clone(), u.manager.clone())
        }
    };
    let manager = if connector.manager.is_some() { manager } else { None };
    let groups = if managed {
        let result = match by {
            GroupsBy::Memo(memo) => groups::map_groups_memo(&connector.groups, source_groups, memo),
            GroupsBy::Rules(trace) => {
                let (result, group_trace) = groups::map_groups(&connector.groups, source_groups, trace.is_some());
                if let Some(t) = trace {
                    t.groups = Some(group_trace);
                }
                result
            }
        };
        match result {
            Ok(set) => Some(set),
            Err(reason) => return Mapped::Filtered { idp_id: id, reason },
        }
    } else {
        None
    };
    Mapped::User(DesiredUser {
        idp_id: id,
        username,
        active,
        values,
        groups,
        photo: if connector.photos { photo_etag } else { None },
        source_version: None,
        location,
        manager,
    })
}

/// Runs one rule; with `explain`, also says why (for `mapping test`). Without it no text is
/// built: a sync maps every user, and only the result counts.
fn run_rule(rule: &MappingRule, value: Option<String>, explain: bool) -> (RuleResult, Option<RuleTrace>) {
    // The value as read is needed again only to explain, or for `keep` after transforms.
    let read =
        if explain || (rule.no_match == NoMatch::Keep && !rule.transforms.is_empty()) { value.clone() } else { None };
    let mut value = value;
    let mut unmatched = false;
    let mut steps = Vec::new();
    for t in &rule.transforms {
        let step = transform::apply(t, value);
        unmatched |= step.unmatched;
        value = step.value;
        if explain {
            let mut label = transform::describe(t);
            if step.unmatched {
                label.push_str(" (no match)");
            }
            steps.push((label, value.clone()));
        }
    }
    let own = value.is_some() && !unmatched;
    let why = if unmatched { "a pattern did not match" } else { "the source is empty" };
    let result = match value {
        Some(v) if own => RuleResult::Set(v),
        _ => match rule.no_match {
            NoMatch::Keep => read.clone().map_or(RuleResult::Clear, RuleResult::Set),
            NoMatch::Ignore => RuleResult::Leave,
            NoMatch::Clear => RuleResult::Clear,
            NoMatch::Filter => RuleResult::Filter(format!("rule for '{}': {why} (no_match is 'filter')", rule.target)),
        },
    };
    if !explain {
        return (result, None);
    }
    let outcome = match &result {
        RuleResult::Set(v) if own => format!("set to '{v}'"),
        RuleResult::Set(raw) => format!("{why}; keep: set to the value as read, '{raw}'"),
        RuleResult::Clear if rule.no_match == NoMatch::Keep => format!("{why}; keep: nothing was read, so cleared"),
        RuleResult::Clear => format!("{why}; clear"),
        RuleResult::Leave => format!("{why}; ignore: the directory's value is left alone"),
        RuleResult::Filter(_) => format!("{why}; filter: the user is not synced"),
    };
    (result, Some(RuleTrace { target: rule.target.clone(), read, steps, outcome }))
}

/// Every attribute path the mapping reads, so a connector can ask its API for exactly those.
pub fn source_attributes(connector: &ConnectorConfig) -> std::collections::BTreeSet<String> {
    let mut read: std::collections::BTreeSet<String> =
        connector.mapping.iter().flat_map(|rule| paths(&rule.source)).collect();
    // The manager rule needs the source's manager reference (Entra expands `manager` for it).
    if connector.manager.is_some() {
        read.insert("manager".into());
    }
    read
}

/// The attribute paths one source reads.
fn paths(source: &ValueSource) -> Vec<String> {
    match source {
        ValueSource::Attribute(a) => vec![a.clone()],
        ValueSource::Literal(_) => Vec::new(),
        ValueSource::Template(t) => t
            .parts
            .iter()
            .filter_map(|part| match part {
                crate::config::TemplatePart::Attribute(a) => Some(a.clone()),
                crate::config::TemplatePart::Text(_) => None,
            })
            .collect(),
        ValueSource::FirstOf(list) => list.iter().flat_map(paths).collect(),
    }
}

/// The column (or source description) a rule reads, for error locations.
fn column(source: &ValueSource) -> String {
    match source {
        ValueSource::Attribute(a) => a.clone(),
        ValueSource::Literal(_) => "(literal)".into(),
        ValueSource::Template(t) => format!("template '{}'", t.text),
        ValueSource::FirstOf(list) => list.iter().map(column).collect::<Vec<_>>().join(" | "),
    }
}

/// Values the directory would reject are caught here, per user, before any write.
fn check(target: &Target, value: Option<&str>) -> Result<(), String> {
    let Some(v) = value else { return Ok(()) };
    const FLAGS: [&str; 8] = ["true", "false", "1", "0", "yes", "no", "active", "inactive"];
    // No directory stores a NUL, and a C or Java host would cut the value at it.
    if v.contains('\0') {
        return Err(format!("the value for '{target}' contains a NUL character"));
    }
    match target {
        Target::Username if v.chars().any(|c| c.is_whitespace() || c.is_control()) => {
            Err(format!("invalid username '{v}': no spaces or control characters allowed"))
        }
        Target::Username if v.chars().count() > 255 => Err("invalid username: longer than 255 characters".into()),
        Target::Email if !is_email(v) => Err(format!("invalid email '{v}'")),
        Target::Active if !FLAGS.contains(&v.trim().to_lowercase().as_str()) => {
            Err(format!("invalid active flag '{v}' (expected true/false, yes/no, 1/0, active/inactive)"))
        }
        _ => Ok(()),
    }
}

/// A set of JSM organisation names in the one form a directory reports it: trimmed, without
/// empties or repeats (whatever their case), sorted ignoring case, joined by "; " — so that
/// "Beta;acme" from a source equals "acme; Beta" read back, and nothing is rewritten every run.
fn organisations(v: &str) -> Option<String> {
    let mut names: Vec<&str> = v.split(';').map(str::trim).filter(|n| !n.is_empty()).collect();
    names.sort_by_key(|n| n.to_lowercase());
    names.dedup_by_key(|n| n.to_lowercase());
    (!names.is_empty()).then(|| names.join("; "))
}

fn truthy(v: &str) -> bool {
    ["true", "1", "yes", "active"].contains(&v.trim().to_lowercase().as_str())
}

/// A deliberately plain check: one '@', a non-empty local part, a dotted domain, no spaces.
pub fn is_email(v: &str) -> bool {
    let Some((local, domain)) = v.split_once('@') else { return false };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !odd_char(v)
}

/// Whether `v` holds whitespace or a control character. ASCII text (nearly every address) is
/// checked a byte at a time: there those are exactly the bytes up to the space, and DEL.
fn odd_char(v: &str) -> bool {
    if v.is_ascii() {
        return v.bytes().any(|b| b <= b' ' || b == 0x7f);
    }
    v.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_address_with_whitespace_or_a_control_character_is_no_address() {
        for bad in [
            "a b@x.org",
            "a@x.org\t",
            "a\u{7f}@x.org",
            "a\u{0}@x.org",
            "a@x.org\u{a0}",
            "\u{2003}a@x.org",
            "a\u{85}@x.org",
        ] {
            assert!(!super::is_email(bad), "{bad:?}");
        }
        for good in ["a@x.org", "ünïcode@x.org", "a.b+c@sub.x.org"] {
            assert!(super::is_email(good), "{good:?}");
        }
        // The ASCII shortcut agrees with the character rules on every ASCII byte.
        for b in 0u8..128 {
            let c = b as char;
            assert_eq!(super::odd_char(&c.to_string()), c.is_whitespace() || c.is_control(), "{b}");
        }
    }

    #[test]
    fn organisation_sets_have_one_form() {
        assert_eq!(super::organisations("Beta;acme; ;ACME ").as_deref(), Some("acme; Beta"));
        assert_eq!(super::organisations(" ; "), None);
    }
}
