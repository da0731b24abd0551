//! Value resolution and the transforms a rule applies, in order.

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::Regex;

use crate::config::{TemplatePart, Transform, ValueSource};
use crate::model::{AttrValue, Attributes};

/// Reads a source value. Empty text counts as absent, so fallbacks move on.
pub fn resolve(source: &ValueSource, attributes: &Attributes) -> Option<String> {
    match source {
        ValueSource::Attribute(path) => attribute(attributes, path),
        ValueSource::Literal(text) => non_empty(text.clone()),
        ValueSource::Template(t) => {
            // "{givenName} {surname}" with no surname is "Alice", not "Alice ": runs of white
            // space become one space and none is kept at either end, as the text is built.
            let mut out = String::with_capacity(64);
            let mut any = false;
            let mut space = false;
            let mut push = |out: &mut String, piece: &str| {
                for c in piece.chars() {
                    if c.is_whitespace() {
                        space = !out.is_empty();
                    } else {
                        if space {
                            out.push(' ');
                            space = false;
                        }
                        out.push(c);
                    }
                }
            };
            for part in &t.parts {
                match part {
                    TemplatePart::Text(s) => push(&mut out, s),
                    TemplatePart::Attribute(a) => {
                        if let Some(v) = attribute_ref(attributes, a) {
                            any = true;
                            push(&mut out, &v);
                        }
                    }
                }
            }
            if any {
                non_empty(out)
            } else {
                None
            }
        }
        ValueSource::FirstOf(list) => list.iter().find_map(|s| resolve(s, attributes)),
    }
}

/// A dotted path (`manager.email`) into nested objects; a key that itself contains dots wins.
pub fn attribute(attributes: &Attributes, path: &str) -> Option<String> {
    attribute_ref(attributes, path).map(Cow::into_owned)
}

/// `attribute`, borrowing the text where the value is text (a template copies it on).
fn attribute_ref<'a>(attributes: &'a Attributes, path: &str) -> Option<Cow<'a, str>> {
    if let Some(v) = attributes.get(path) {
        return text_ref(v);
    }
    let mut parts = path.split('.');
    let mut current = attributes.get(parts.next()?)?;
    for part in parts {
        current = match current {
            AttrValue::Record(m) => m.get(part)?,
            AttrValue::List(items) => items.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    text_ref(current)
}

fn text_ref(v: &AttrValue) -> Option<Cow<'_, str>> {
    match v {
        AttrValue::Text(s) if s.trim().is_empty() => None,
        AttrValue::Text(s) => Some(Cow::Borrowed(s)),
        other => text(other).map(Cow::Owned),
    }
}

/// `attribute` for a record the caller is done with, when no later rule reads `path`: a text
/// value moves out instead of being copied (what it leaves behind reads as absent).
pub fn take_attribute(attributes: &mut Attributes, path: &str) -> Option<String> {
    let slot = match attributes.get(path) {
        Some(_) => attributes.get_mut(path)?,
        None => {
            let mut parts = path.split('.');
            let mut current = attributes.get_mut(parts.next()?)?;
            for part in parts {
                current = match current {
                    AttrValue::Record(m) => m.get_mut(part)?,
                    AttrValue::List(items) => items.get_mut(part.parse::<usize>().ok()?)?,
                    _ => return None,
                };
            }
            current
        }
    };
    match slot {
        AttrValue::Text(s) if s.trim().is_empty() => None,
        // A heap text hands over its buffer; a short one is copied out of the value.
        AttrValue::Text(s) => Some(std::mem::take(s).into_string()),
        other => text(other),
    }
}

fn text(v: &AttrValue) -> Option<String> {
    match v {
        AttrValue::Null => None,
        AttrValue::Text(s) if s.trim().is_empty() => None,
        AttrValue::Text(s) => Some(s.to_string()),
        AttrValue::Flag(b) => Some(b.to_string()),
        AttrValue::Number(n) => Some(n.to_string()),
        AttrValue::List(items) => non_empty(items.iter().filter_map(text).collect::<Vec<_>>().join(", ")),
        AttrValue::Record(_) => None,
    }
}

fn non_empty(s: String) -> Option<String> {
    if s.trim().is_empty() {
        None
    } else {
        Some(s)
    }
}

/// The result of one transform: the new value and whether a pattern failed to match.
pub struct Step {
    pub value: Option<String>,
    pub unmatched: bool,
}

pub fn apply(t: &Transform, value: Option<String>) -> Step {
    let keep = |value| Step { value, unmatched: false };
    // The value is owned: the common transforms change it in place rather than allocating a
    // new string (a sync applies them to every user).
    match (t, value) {
        (Transform::Default { value: d }, None) => keep(Some(d.clone())),
        (_, None) => keep(None),
        (Transform::Lowercase, Some(mut v)) => keep(Some(if v.is_ascii() {
            v.make_ascii_lowercase();
            v
        } else {
            v.to_lowercase()
        })),
        (Transform::Uppercase, Some(mut v)) => keep(Some(if v.is_ascii() {
            v.make_ascii_uppercase();
            v
        } else {
            v.to_uppercase()
        })),
        (Transform::Trim, Some(v)) => keep(non_empty(trimmed(v))),
        // One search, not a test and then a replace: `replace_all` hands back the text itself,
        // borrowed, exactly when nothing matched (regex's `replacen` returns early then; the
        // mapping tests of `no_match` check it).
        (Transform::RegexReplace { pattern, replacement }, Some(v)) => {
            match pattern.0.replace_all(&v, replacement.as_str()) {
                Cow::Owned(replaced) => keep(non_empty(replaced)),
                Cow::Borrowed(_) => Step { value: Some(v), unmatched: true },
            }
        }
        (Transform::Replace { search, with }, Some(v)) => keep(non_empty(v.replace(search.as_str(), with))),
        (Transform::StripDomain, Some(mut v)) => {
            if let Some(at) = v.find('@') {
                v.truncate(at);
            }
            keep(non_empty(v))
        }
        (Transform::EntraGuestUpn, Some(v)) => keep(Some(guest_upn(v))),
        (Transform::Default { .. }, Some(v)) => keep(Some(v)),
    }
}

/// `v` without surrounding white space, reusing it when there is none.
pub fn trimmed(v: String) -> String {
    if v.trim().len() == v.len() {
        v
    } else {
        v.trim().to_string()
    }
}

/// `alice_corp.com#EXT#@tenant.onmicrosoft.com` → `alice@corp.com`. The last underscore
/// before `#EXT#` separates the guest's local part from their home domain.
pub fn guest_upn(upn: String) -> String {
    static GUEST: OnceLock<Regex> = OnceLock::new();
    // Members far outnumber guests: a name without the marker is returned without a search.
    if !upn.as_bytes().windows(5).any(|w| w.eq_ignore_ascii_case(b"#EXT#")) {
        return upn;
    }
    let re = GUEST.get_or_init(|| Regex::new(r"(?i)^(.+)_([^_#@]+)#EXT#@.+$").expect("valid pattern"));
    match re.captures(&upn) {
        Some(c) => format!("{}@{}", &c[1], &c[2]),
        None => upn,
    }
}

pub fn describe(t: &Transform) -> String {
    match t {
        Transform::Lowercase => "lowercase".into(),
        Transform::Uppercase => "uppercase".into(),
        Transform::Trim => "trim".into(),
        Transform::RegexReplace { pattern, replacement } => {
            format!("regex_replace /{}/ → '{replacement}'", pattern.0.as_str())
        }
        Transform::Replace { search, with } => format!("replace '{search}' → '{with}'"),
        Transform::StripDomain => "strip_domain".into(),
        Transform::EntraGuestUpn => "entra_guest_upn".into(),
        Transform::Default { value } => format!("default '{value}'"),
    }
}
