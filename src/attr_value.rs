//! One attribute's value as a source gives it: text, a number, a flag, a list or a nested
//! record. Read straight from a provider's JSON, short text (up to 24 bytes: most names, titles,
//! cities, phone numbers) lives inside the value, and a nested record (Graph's expanded
//! manager) is an `Attributes` with shared names. As `serde_json::Value`s, every text was a heap
//! string and every nested record a hash map with a heap string per key: a quarter of an Entra
//! run's instructions went into building and freeing them.

use std::fmt;
use std::hash::{Hash, Hasher};

use compact_str::CompactString;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Serialize, Serializer};
use serde_json::{Number, Value};

use crate::attributes::Attributes;

#[derive(Debug, Clone, Default, PartialEq)]
pub enum AttrValue {
    #[default]
    Null,
    Flag(bool),
    Number(Number),
    Text(CompactString),
    List(Vec<AttrValue>),
    Record(Attributes),
}

impl AttrValue {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            AttrValue::Text(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            AttrValue::Flag(b) => Some(*b),
            _ => None,
        }
    }

    /// A nested record's attribute (`None` for anything else).
    pub fn get(&self, name: &str) -> Option<&AttrValue> {
        match self {
            AttrValue::Record(r) => r.get(name),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, AttrValue::Null)
    }

    /// Feeds the value to a digest of a record's content (`reconcile::version`): its kind, then
    /// its content, so that no two different values feed the same bytes.
    pub fn digest_into(&self, h: &mut impl Hasher) {
        match self {
            AttrValue::Null => h.write_u8(0),
            AttrValue::Flag(b) => h.write_u8(if *b { 2 } else { 1 }),
            AttrValue::Number(n) => {
                h.write_u8(3);
                n.to_string().hash(h);
            }
            AttrValue::Text(s) => {
                h.write_u8(4);
                s.as_str().hash(h);
            }
            AttrValue::List(items) => {
                h.write_u8(5);
                h.write_usize(items.len());
                items.iter().for_each(|v| v.digest_into(h));
            }
            AttrValue::Record(r) => {
                h.write_u8(6);
                r.digest_into(h);
            }
        }
    }

    /// As JSON, for what takes JSON (a hook's input, an export).
    pub fn to_json(&self) -> Value {
        match self {
            AttrValue::Null => Value::Null,
            AttrValue::Flag(b) => Value::Bool(*b),
            AttrValue::Number(n) => Value::Number(n.clone()),
            AttrValue::Text(s) => Value::String(s.to_string()),
            AttrValue::List(items) => Value::Array(items.iter().map(AttrValue::to_json).collect()),
            AttrValue::Record(r) => Value::Object(r.iter().map(|(k, v)| (k.to_string(), v.to_json())).collect()),
        }
    }
}

impl From<Value> for AttrValue {
    fn from(v: Value) -> Self {
        match v {
            Value::Null => AttrValue::Null,
            Value::Bool(b) => AttrValue::Flag(b),
            Value::Number(n) => AttrValue::Number(n),
            Value::String(s) => AttrValue::Text(CompactString::from(s)),
            Value::Array(items) => AttrValue::List(items.into_iter().map(AttrValue::from).collect()),
            Value::Object(map) => AttrValue::Record(Attributes::from(map)),
        }
    }
}

impl From<&str> for AttrValue {
    fn from(s: &str) -> Self {
        AttrValue::Text(CompactString::from(s))
    }
}

impl From<String> for AttrValue {
    fn from(s: String) -> Self {
        AttrValue::Text(CompactString::from(s))
    }
}

impl From<bool> for AttrValue {
    fn from(b: bool) -> Self {
        AttrValue::Flag(b)
    }
}

/// Compact JSON, as `serde_json::Value` shows itself.
impl fmt::Display for AttrValue {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match serde_json::to_string(self) {
            Ok(text) => f.write_str(&text),
            Err(_) => Err(fmt::Error),
        }
    }
}

/// The same JSON as the `serde_json::Value` it was read from.
impl Serialize for AttrValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            AttrValue::Null => s.serialize_unit(),
            AttrValue::Flag(b) => s.serialize_bool(*b),
            AttrValue::Number(n) => n.serialize(s),
            AttrValue::Text(t) => s.serialize_str(t),
            AttrValue::List(items) => s.collect_seq(items),
            AttrValue::Record(r) => r.serialize(s),
        }
    }
}

/// Read as `serde_json::Value` reads JSON (the same numbers, the last of a repeated name wins),
/// into the compact form.
impl<'de> Deserialize<'de> for AttrValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = AttrValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<AttrValue, E> {
        Ok(AttrValue::Flag(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<AttrValue, E> {
        Ok(AttrValue::Number(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<AttrValue, E> {
        Ok(AttrValue::Number(n.into()))
    }

    fn visit_f64<E>(self, n: f64) -> Result<AttrValue, E> {
        Ok(Number::from_f64(n).map_or(AttrValue::Null, AttrValue::Number))
    }

    fn visit_str<E>(self, s: &str) -> Result<AttrValue, E> {
        Ok(AttrValue::Text(CompactString::from(s)))
    }

    fn visit_string<E>(self, s: String) -> Result<AttrValue, E> {
        Ok(AttrValue::Text(CompactString::from(s)))
    }

    fn visit_unit<E>(self) -> Result<AttrValue, E> {
        Ok(AttrValue::Null)
    }

    fn visit_none<E>(self) -> Result<AttrValue, E> {
        Ok(AttrValue::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<AttrValue, D::Error> {
        Deserialize::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<AttrValue, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(AttrValue::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, access: A) -> Result<AttrValue, A::Error> {
        Attributes::read_nested(access).map(AttrValue::Record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_and_writes_json_as_serde_json_does() {
        let text = r#"{"s":"García","long":"a text longer than twenty-four bytes","n":-3,"u":18446744073709551615,"f":1.5,"t":true,"z":null,"l":["x",{"k":1}],"o":{"id":"m","d":{"x":[]},"id":"n"}}"#;
        let ours: AttrValue = serde_json::from_str(text).unwrap();
        let theirs: Value = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::to_string(&ours).unwrap(), serde_json::to_string(&theirs).unwrap());
        assert_eq!(ours.to_json(), theirs);
        assert_eq!(AttrValue::from(theirs.clone()), ours);
        assert_eq!(ours.to_string(), theirs.to_string());
        assert_eq!(ours.get("o").and_then(|o| o.get("id")).and_then(AttrValue::as_str), Some("n"));
        assert_eq!(ours.get("t").and_then(AttrValue::as_bool), Some(true));
        assert!(ours.get("z").is_some_and(AttrValue::is_null));
        assert_eq!(ours.get("s").and_then(AttrValue::as_bool), None);
        assert_eq!(ours.get("n").and_then(AttrValue::as_str), None);
        assert_eq!(AttrValue::from(json!("x")).get("x"), None);
    }
}
