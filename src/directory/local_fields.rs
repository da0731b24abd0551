//! The local directory's `fields` column: a user's values beyond the core fields (properties,
//! profile fields) as one JSON object of target → text. One row per user to list, instead of a
//! row per value, and one statement per user to write them.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, Visitor};

use crate::fastmap::FastMap;
use crate::json_text::push_json_text;
use crate::model::Target;

/// Where a user's fields are read into, reused from user to user: the targets (each distinct
/// name parsed once per listing) with each value's place in one text buffer.
#[derive(Default)]
pub(super) struct FieldsBuffer {
    targets: FastMap<String, Option<Target>>,
    pub text: String,
    pub fields: Vec<(Target, Range<usize>)>,
}

impl FieldsBuffer {
    /// Reads one user's column in place of the previous user's. Names that are not targets
    /// (written by some other tool) are left out, as before the column existed.
    pub fn read(&mut self, column: &str) -> Result<(), serde_json::Error> {
        self.text.clear();
        self.fields.clear();
        let mut de = serde_json::Deserializer::from_str(column);
        Collect(self).deserialize(&mut de)?;
        de.end()
    }

    pub fn pairs(&self) -> impl Iterator<Item = (&Target, &str)> {
        self.fields.iter().map(|(t, r)| (t, &self.text[r.clone()]))
    }
}

struct Collect<'b>(&'b mut FieldsBuffer);

impl<'de> DeserializeSeed<'de> for Collect<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Collect<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object of texts")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let buffer = self.0;
        while let Some(Text(name)) = map.next_key::<Text<'de>>()? {
            let Text(value) = map.next_value::<Text<'de>>()?;
            let target = match buffer.targets.get(name.as_ref()) {
                Some(t) => t.clone(),
                None => {
                    let t = name.parse::<Target>().ok();
                    buffer.targets.insert(name.into_owned(), t.clone());
                    t
                }
            };
            if let Some(t) = target {
                let start = buffer.text.len();
                buffer.text.push_str(&value);
                buffer.fields.push((t, start..buffer.text.len()));
            }
        }
        Ok(())
    }
}

/// A JSON string, borrowed from the column unless it holds escapes.
struct Text<'a>(Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }

            fn visit_str<E>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

/// The JSON merge patch (RFC 7396, SQLite's `json_patch`) that sets each target to its value,
/// or removes it (`None`); of two writes to one target, the later wins. Written straight as
/// text: a full run makes one per user, and a JSON map per patch was a tenth of its CPU.
pub(super) fn patch(writes: &[(&Target, Option<&str>)]) -> String {
    let mut out = String::with_capacity(2 + writes.iter().map(|(_, v)| 32 + v.map_or(4, str::len)).sum::<usize>());
    out.push('{');
    for (i, (target, value)) in writes.iter().enumerate() {
        if writes[i + 1..].iter().any(|(later, _)| later == target) {
            continue;
        }
        if out.len() > 1 {
            out.push(',');
        }
        push_json_text(&mut out, &target.name());
        out.push(':');
        match value {
            Some(v) => push_json_text(&mut out, v),
            None => out.push_str("null"),
        }
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_is_read_with_escapes_and_without_names_that_are_not_targets() {
        let mut b = FieldsBuffer::default();
        b.read(r#"{"profile:department":"R\u0026D \"Labs\"","not a target":"x","property:employee_id":"42"}"#).unwrap();
        let pairs: Vec<(String, &str)> = b.pairs().map(|(t, v)| (t.to_string(), v)).collect();
        assert_eq!(pairs, [("profile:department".to_string(), "R&D \"Labs\""), ("property:employee_id".into(), "42")]);
        b.read("{}").unwrap();
        assert_eq!(b.pairs().count(), 0, "the previous user's values are gone");
        assert!(b.read(r#"{"profile:phone": 5}"#).is_err(), "values are texts");
        assert!(b.read("{} trailing").is_err());
    }

    #[test]
    fn a_patch_sets_and_removes_and_the_later_write_wins() {
        let (dept, phone) = (Target::Profile("department".into()), Target::Profile("phone".into()));
        let p = patch(&[(&dept, Some("Sales")), (&phone, None), (&dept, Some("R&D \"Labs\" \\ \n\u{1}"))]);
        assert_eq!(p, r#"{"profile:phone":null,"profile:department":"R&D \"Labs\" \\ \n\u0001"}"#);
        // What it writes is JSON that reads back as written.
        let back: serde_json::Value = serde_json::from_str(&p).unwrap();
        assert_eq!(back["profile:department"], "R&D \"Labs\" \\ \n\u{1}");
        assert_eq!(patch(&[]), "{}");
        // Characters beyond ASCII pass as they are, between escapes too.
        assert_eq!(patch(&[(&dept, Some("Zoë\t日本\"x"))]), "{\"profile:department\":\"Zoë\\t日本\\\"x\"}");
    }
}
