//! JSON for configurations: like `serde_json::from_str`, but a key given twice in one object is
//! an error naming its JSON path. serde_json keeps the last of duplicate keys, so a second
//! `"safety"` further down a file silently replaced the first — a way around the guard.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Where a value sits, as a chain of parents: built on the stack, formatted only for an error.
#[derive(Clone, Copy)]
enum At<'a> {
    Root,
    Key(&'a At<'a>, &'a str),
    Index(&'a At<'a>, usize),
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            At::Root => Ok(()),
            At::Key(parent, key) => match parent {
                At::Root => f.write_str(key),
                _ => write!(f, "{parent}.{key}"),
            },
            At::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

/// A syntax error or a duplicate key, with the line and column serde_json reports.
#[derive(Debug)]
pub struct JsonError {
    pub message: String,
    pub line: usize,
    pub column: usize,
}

/// Parses `text` into a `Value`, refusing duplicate keys.
pub fn parse(text: &str) -> Result<Value, JsonError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = Seed(At::Root).deserialize(&mut de).and_then(|v| de.end().map(|_| v));
    value.map_err(|e| JsonError { message: e.to_string(), line: e.line(), column: e.column() })
}

struct Seed<'a>(At<'a>);

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(v.into())
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(v.into())
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map(Value::Number).unwrap_or(Value::Null))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.visit_string(v.to_string())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        // A NUL ends the string for a C or Java host that is handed it back; nothing in a
        // configuration needs one.
        if v.contains('\0') {
            return Err(E::custom(format!("{}: a string contains a NUL character (\\u0000)", self.0)));
        }
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(Seed(At::Index(&self.0, out.len())))? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                let at = At::Key(&self.0, &key);
                return Err(de::Error::custom(format!("{at}: the key '{key}' is given twice in one object")));
            }
            let value = map.next_value_seed(Seed(At::Key(&self.0, &key)))?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_value_as_serde_json_without_duplicates() {
        let text = r#"{"a": [1, -2, 3.5, true, null, "x"], "b": {"c": {}}}"#;
        assert_eq!(parse(text).unwrap(), serde_json::from_str::<Value>(text).unwrap());
    }

    #[test]
    fn a_duplicate_key_names_its_path_and_line() {
        let text =
            "{\"connectors\": [{\"id\": \"a\",\n \"safety\": {}, \"safety\": {\"max_destructive_percent\": 100}}]}";
        let e = parse(text).unwrap_err();
        assert!(e.message.starts_with("connectors[0].safety: the key 'safety' is given twice"), "{}", e.message);
        assert_eq!(e.line, 2);
        let top = parse(r#"{"x": 1, "x": 1}"#).unwrap_err();
        assert!(top.message.starts_with("x: the key 'x'"), "{}", top.message);
    }

    #[test]
    fn a_nul_in_a_string_is_an_error() {
        let e = parse(r#"{"connectors": [{"id": "a\u0000b"}]}"#).unwrap_err();
        assert!(e.message.starts_with("connectors[0].id: a string contains a NUL"), "{}", e.message);
    }

    #[test]
    fn trailing_text_is_an_error() {
        assert!(parse("{} {}").is_err());
    }
}
