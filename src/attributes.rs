//! A source record's attributes: a small vector of (name, value) in the source's order, with
//! names interned. A run holds up to a page of these at a time and maps each once; a map with a
//! heap string per name and a hash index per record made freeing them most of mapping's CPU
//! time at 100,000 users.

use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

use serde::de::{Deserialize, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

pub use crate::attr_value::AttrValue;

use crate::fastmap::FastSet;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Attributes(Vec<(Arc<str>, AttrValue)>);

/// Distinct attribute names are few (a schema's worth); past this many, names are no longer
/// shared, so a source with endless distinct names cannot grow the table without bound.
const MAX_INTERNED: usize = 4096;

thread_local! {
    static NAMES: RefCell<FastSet<Arc<str>>> = RefCell::new(FastSet::default());
    /// The names of the record read last, by position: a page's records name their attributes
    /// in the same order, so a name is found by one comparison instead of a hash and a probe.
    static RECENT: RefCell<Vec<Arc<str>>> = const { RefCell::new(Vec::new()) };
}

/// Positions remembered by `RECENT`; attributes past it are interned as usual.
const RECENT_POSITIONS: usize = 64;

/// `intern`, trying first the name the last record had at position `at`.
fn intern_at(at: usize, name: &str) -> Arc<str> {
    RECENT.with(|recent| {
        let mut recent = recent.borrow_mut();
        if let Some(known) = recent.get(at) {
            if **known == *name {
                return known.clone();
            }
        }
        let shared = intern(name);
        if at < recent.len() {
            recent[at] = shared.clone();
        } else if at == recent.len() && at < RECENT_POSITIONS {
            recent.push(shared.clone());
        }
        shared
    })
}

fn intern(name: &str) -> Arc<str> {
    NAMES.with(|names| {
        let mut names = names.borrow_mut();
        if let Some(shared) = names.get(name) {
            return shared.clone();
        }
        let shared: Arc<str> = Arc::from(name);
        if names.len() < MAX_INTERNED {
            names.insert(shared.clone());
        }
        shared
    })
}

impl Attributes {
    pub fn new() -> Self {
        Attributes::default()
    }

    pub fn with_capacity(n: usize) -> Self {
        Attributes(Vec::with_capacity(n))
    }

    pub fn get(&self, name: &str) -> Option<&AttrValue> {
        self.0.iter().find(|(k, _)| k.len() == name.len() && **k == *name).map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut AttrValue> {
        self.0.iter_mut().find(|(k, _)| k.len() == name.len() && **k == *name).map(|(_, v)| v)
    }

    /// Sets an attribute; a name already present keeps its place.
    pub fn insert(&mut self, name: &str, value: impl Into<AttrValue>) {
        let value = value.into();
        match self.get_mut(name) {
            Some(slot) => *slot = value,
            None => self.0.push((intern(name), value)),
        }
    }

    /// Appends an attribute the caller knows is not present yet, by a name it interned once
    /// (`interned`): a file's columns, whose header has no name twice.
    pub fn push_new(&mut self, name: &Arc<str>, value: AttrValue) {
        debug_assert!(self.get(name).is_none(), "push_new: '{name}' is present already");
        self.0.push((name.clone(), value));
    }

    /// A name as attributes share it, for `push_new`.
    pub fn interned(name: &str) -> Arc<str> {
        intern(name)
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&str, &AttrValue) -> bool) {
        self.0.retain(|(k, v)| keep(k, v));
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &AttrValue)> {
        self.0.iter().map(|(k, v)| (&**k, v))
    }

    /// Feeds every name and value, in order, to a digest of the record's content.
    pub fn digest_into(&self, h: &mut impl std::hash::Hasher) {
        use std::hash::Hash;
        h.write_usize(self.0.len());
        for (name, value) in &self.0 {
            (**name).hash(h);
            value.digest_into(h);
        }
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Map<String, Value>> for Attributes {
    fn from(map: Map<String, Value>) -> Self {
        Attributes(map.into_iter().map(|(k, v)| (intern(&k), AttrValue::from(v))).collect())
    }
}

impl<V: Into<AttrValue>> FromIterator<(String, V)> for Attributes {
    fn from_iter<I: IntoIterator<Item = (String, V)>>(iter: I) -> Self {
        let mut out = Attributes::new();
        for (k, v) in iter {
            out.insert(&k, v);
        }
        out
    }
}

impl Serialize for Attributes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

/// Straight from JSON: names are interned as they are read, never allocated per record.
impl<'de> Deserialize<'de> for Attributes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Object;
        impl<'de> Visitor<'de> for Object {
            type Value = Attributes;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, access: A) -> Result<Attributes, A::Error> {
                Attributes::read(access, true)
            }
        }
        d.deserialize_map(Object)
    }
}

impl Attributes {
    /// A record nested in a value (Graph's expanded manager), read like a top-level one except
    /// that its names are not remembered by position: they would displace the record's own.
    pub(crate) fn read_nested<'de, A: MapAccess<'de>>(access: A) -> Result<Attributes, A::Error> {
        Attributes::read(access, false)
    }

    /// A record's attributes as JSON gives them; of a name given twice, the last value wins in
    /// the first one's place. `top`: a record of its own, whose names are remembered by position.
    fn read<'de, A: MapAccess<'de>>(mut access: A, top: bool) -> Result<Attributes, A::Error> {
        let mut out = Attributes(Vec::with_capacity(access.size_hint().unwrap_or(if top { 16 } else { 4 })));
        while let Some(name) = access.next_key_seed(Name(top.then_some(out.0.len())))? {
            let value: AttrValue = access.next_value()?;
            match out.get_mut(&name) {
                Some(slot) => *slot = value,
                None => out.0.push((name, value)),
            }
        }
        out.0.shrink_to_fit();
        Ok(out)
    }
}

/// Reads a name and interns it from the parser's own buffer: no string per name per record.
/// It holds the position the name will take in a top-level record.
struct Name(Option<usize>);

impl<'de> DeserializeSeed<'de> for Name {
    type Value = Arc<str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Arc<str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Name {
    type Value = Arc<str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an attribute name")
    }

    fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<Arc<str>, E> {
        Ok(match self.0 {
            Some(at) => intern_at(at, name),
            None => intern(name),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_replaces_in_place_and_shares_names() {
        let a: Attributes = serde_json::from_str(r#"{"b": 1, "a": "x", "b": 2}"#).unwrap();
        assert_eq!(a.iter().map(|(k, _)| k).collect::<Vec<_>>(), vec!["b", "a"]);
        assert_eq!(a.get("b"), Some(&AttrValue::from(serde_json::json!(2))));
        assert_eq!(a.get("c"), None);
        let b: Attributes = serde_json::from_str(r#"{"a": "y"}"#).unwrap();
        assert!(Arc::ptr_eq(&a.0[1].0, &b.0[0].0), "one allocation per distinct name");
        // Records naming attributes in another order, or other ones, still read right.
        let c: Attributes = serde_json::from_str(r#"{"a": 3, "c": 4, "b": 5}"#).unwrap();
        assert_eq!(c.iter().map(|(k, _)| k).collect::<Vec<_>>(), vec!["a", "c", "b"]);
        assert_eq!(
            (c.get("a"), c.get("b"), c.get("c")),
            (
                Some(&AttrValue::from(serde_json::json!(3))),
                Some(&AttrValue::from(serde_json::json!(5))),
                Some(&AttrValue::from(serde_json::json!(4)))
            )
        );
        assert!(Arc::ptr_eq(&c.0[0].0, &b.0[0].0), "a name found by position is the shared one");
        assert_eq!(serde_json::to_string(&a).unwrap(), r#"{"b":2,"a":"x"}"#);
    }
}
