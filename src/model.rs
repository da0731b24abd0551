//! The data that flows through the pipeline: what a connector reads, what mapping wants,
//! what the directory holds. Plain data, no behaviour beyond parsing target names.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

pub use crate::attributes::{AttrValue, Attributes};
pub use compact_str::CompactString;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The six Confluence profile fields (DESIGN §4), and "about me" (Confluence's personal
/// information), which the profile page shows beside them.
pub const PROFILE_FIELDS: [&str; 7] = ["phone", "im", "website", "position", "department", "location", "about_me"];

/// Where a mapped value is written. Written as a string in config, results and boundaries.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    Username,
    DisplayName,
    Email,
    Active,
    Groups,
    // Shared text: a target is cloned into every mapped user's values.
    Property(Arc<str>),
    Profile(Arc<str>),
    Communardo(Arc<str>),
    Linchpin(Arc<str>),
    JsmOrganization,
    Avatar,
}

impl Target {
    /// Targets whose values live in `DirectoryUser::values` and are diffed as text.
    pub fn is_value(&self) -> bool {
        !matches!(self, Target::Username | Target::Active | Target::Groups | Target::Avatar)
    }

    /// Core fields are written with `update_core`; the rest with `set_field`.
    pub fn is_core(&self) -> bool {
        matches!(self, Target::DisplayName | Target::Email)
    }
}

impl Target {
    /// The target as written, in two parts: a name, or a prefix and the key after it.
    fn parts(&self) -> (&'static str, Option<&str>) {
        match self {
            Target::Username => ("username", None),
            Target::DisplayName => ("display_name", None),
            Target::Email => ("email", None),
            Target::Active => ("active", None),
            Target::Groups => ("groups", None),
            Target::Property(k) => ("property:", Some(k)),
            Target::Profile(k) => ("profile:", Some(k)),
            Target::Communardo(k) => ("communardo:", Some(k)),
            Target::Linchpin(k) => ("linchpin:", Some(k)),
            Target::JsmOrganization => ("jsm:organization", None),
            Target::Avatar => ("avatar", None),
        }
    }

    /// The target as written, without the formatting machinery (most fit inline): a full run
    /// writes several per user into the history and the local directory.
    pub fn name(&self) -> CompactString {
        match self.parts() {
            (name, None) => CompactString::const_new(name),
            (prefix, Some(key)) => {
                let mut name = CompactString::with_capacity(prefix.len() + key.len());
                name.push_str(prefix);
                name.push_str(key);
                name
            }
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, key) = self.parts();
        f.write_str(name)?;
        key.map_or(Ok(()), |k| f.write_str(k))
    }
}

impl FromStr for Target {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let named = |prefix: &str, key: &str| -> Result<String, String> {
            if key.is_empty() || key.chars().any(|c| c.is_whitespace() || c.is_control()) {
                Err(format!("'{prefix}:' needs a key without spaces, e.g. '{prefix}:department'"))
            } else {
                Ok(key.to_string())
            }
        };
        Ok(match s {
            "username" => Target::Username,
            "display_name" => Target::DisplayName,
            "email" => Target::Email,
            "active" => Target::Active,
            "groups" => Target::Groups,
            "jsm:organization" => Target::JsmOrganization,
            "avatar" => Target::Avatar,
            _ => match s.split_once(':') {
                Some(("property", k)) => Target::Property(named("property", k)?.into()),
                Some(("profile", k)) => {
                    if !PROFILE_FIELDS.contains(&k) {
                        return Err(format!(
                            "unknown profile field '{k}' (expected one of {})",
                            PROFILE_FIELDS.join(", ")
                        ));
                    }
                    Target::Profile(k.into())
                }
                Some(("communardo", k)) => Target::Communardo(named("communardo", k)?.into()),
                Some(("linchpin", k)) => Target::Linchpin(named("linchpin", k)?.into()),
                _ => {
                    return Err(format!(
                        "unknown target '{s}' (expected username, display_name, email, active, groups, \
                         property:<key>, profile:<field>, communardo:<field>, linchpin:<field>, \
                         jsm:organization or avatar)"
                    ))
                }
            },
        })
    }
}

impl Serialize for Target {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

impl<'de> Deserialize<'de> for Target {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One user as the identity provider reports it. `location` says where it was read
/// ("people.csv line 7"), so errors can point at it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceUser {
    pub id: String,
    pub attributes: Attributes,
    pub active: bool,
    pub groups: Vec<String>,
    pub manager: Option<String>,
    /// The photo's etag: `None` when photos were not read, `Some(None)` when there is no photo.
    pub photo_etag: Option<Option<String>>,
    /// A version the source gives the user's record (Google's `etag`): when it and the mapping
    /// are unchanged since the last clean apply, the rules are not evaluated again.
    pub version: Option<String>,
    pub location: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceGroup {
    pub id: String,
    pub name: String,
}

/// A desired user's values by target, in target order: a sorted vector, because a run holds one
/// per source user and a B-tree node per user cost twice the memory at 100,000 users.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValueMap(Vec<(Target, Option<String>)>);

impl ValueMap {
    pub fn with_capacity(n: usize) -> Self {
        ValueMap(Vec::with_capacity(n))
    }

    pub fn get(&self, target: &Target) -> Option<&Option<String>> {
        self.0.binary_search_by(|(t, _)| t.cmp(target)).ok().map(|i| &self.0[i].1)
    }

    /// Sets a target's value (the last one set wins, as in a map).
    pub fn insert(&mut self, target: Target, value: Option<String>) {
        match self.0.binary_search_by(|(t, _)| t.cmp(&target)) {
            Ok(i) => self.0[i].1 = value,
            Err(i) => self.0.insert(i, (target, value)),
        }
    }

    pub fn remove(&mut self, target: &Target) -> Option<Option<String>> {
        let i = self.0.binary_search_by(|(t, _)| t.cmp(target)).ok()?;
        Some(self.0.remove(i).1)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Target, &Option<String>)> {
        self.0.iter().map(|(t, v)| (t, v))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl IntoIterator for ValueMap {
    type Item = (Target, Option<String>);
    type IntoIter = std::vec::IntoIter<(Target, Option<String>)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl Serialize for ValueMap {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

/// A directory user's current values by target, in target order, packed: the targets are one
/// list shared by every user with the same targets (most users of a directory), and the values
/// one allocation of text behind their end offsets. A run holds one per directory user; a
/// vector of (target, string) pairs cost a string and a target per value, some 600 bytes a user
/// of which half was the allocator's. Written as a JSON object.
#[derive(Clone, PartialEq, Eq)]
pub struct TextMap {
    keys: Arc<[Target]>,
    /// The end of each value in the text, `END_BYTES` ASCII bytes each (seven bits a byte, so
    /// the whole stays text and values are sliced out without a UTF-8 check), then the text.
    data: Box<str>,
}

/// Bytes per end offset: 35 bits, more than any user's text.
const END_BYTES: usize = 5;

impl Default for TextMap {
    fn default() -> Self {
        TextMap { keys: shared_keys(&[]), data: Box::default() }
    }
}

/// Every list of targets in use, shared: a directory's users carry a handful of distinct ones.
/// Per thread (a run's users are listed on its thread), freed with the thread, like the
/// attribute names (`attributes.rs`); bounded, so that a host listing users with ever new
/// properties cannot grow it without end (lists beyond the bound are simply not shared).
pub(crate) fn shared_keys(keys: &[Target]) -> Arc<[Target]> {
    shared_keys_of(keys.len(), keys.iter())
}

/// `shared_keys` of `n` targets given one by one: the list most recently shared on this thread
/// is checked first, without making a list to look it up (a listing packs every user's values,
/// and most users carry the same targets as the one before).
fn shared_keys_of<'t>(n: usize, keys: impl Iterator<Item = &'t Target> + Clone) -> Arc<[Target]> {
    const MAX_LISTS: usize = 4096;
    thread_local! {
        static LISTS: std::cell::RefCell<crate::fastmap::FastSet<Arc<[Target]>>> = Default::default();
        static LAST: std::cell::RefCell<Option<Arc<[Target]>>> = const { std::cell::RefCell::new(None) };
    }
    let last = LAST.with(|last| last.borrow().as_ref().filter(|l| l.len() == n && l.iter().eq(keys.clone())).cloned());
    if let Some(shared) = last {
        return shared;
    }
    let keys: Vec<Target> = keys.cloned().collect();
    let shared = LISTS.with(|lists| {
        let mut lists = lists.borrow_mut();
        if let Some(shared) = lists.get(keys.as_slice()) {
            return shared.clone();
        }
        let list: Arc<[Target]> = Arc::from(keys);
        if lists.len() < MAX_LISTS {
            lists.insert(list.clone());
        }
        list
    });
    LAST.with(|last| *last.borrow_mut() = Some(shared.clone()));
    shared
}

impl TextMap {
    pub fn new() -> Self {
        TextMap::default()
    }

    /// Packs pairs given in target order without repeats.
    fn packed(pairs: &[(&Target, &str)]) -> Self {
        let text: usize = pairs.iter().map(|(_, v)| v.len()).sum();
        let mut data = String::with_capacity(END_BYTES * pairs.len() + text);
        let mut end = 0usize;
        for (_, v) in pairs {
            end += v.len();
            for i in 0..END_BYTES {
                data.push(char::from(((end >> (7 * i)) & 0x7f) as u8));
            }
        }
        for (_, v) in pairs {
            data.push_str(v);
        }
        TextMap { keys: shared_keys_of(pairs.len(), pairs.iter().map(|(t, _)| *t)), data: data.into_boxed_str() }
    }

    /// A map of the pairs given, in any order (the last value given for a target wins). Up to
    /// `ON_STACK` targets are sorted without an allocation: every listed user is packed here.
    pub fn from_pairs<'t, 'v>(pairs: impl IntoIterator<Item = (&'t Target, &'v str)>) -> Self {
        const ON_STACK: usize = 24;
        static NONE: Target = Target::Username;
        let mut stack = [(&NONE, ""); ON_STACK];
        let mut len = 0;
        let mut heap: Vec<(&Target, &str)> = Vec::new();
        for (t, v) in pairs {
            if len < ON_STACK {
                let sorted = &mut stack[..len];
                match sorted.binary_search_by(|(k, _)| (*k).cmp(t)) {
                    Ok(i) => sorted[i].1 = v,
                    Err(i) => {
                        stack.copy_within(i..len, i + 1);
                        stack[i] = (t, v);
                        len += 1;
                    }
                }
                continue;
            }
            if heap.is_empty() {
                heap.extend_from_slice(&stack);
            }
            match heap.binary_search_by(|(k, _)| (*k).cmp(t)) {
                Ok(i) => heap[i].1 = v,
                Err(i) => heap.insert(i, (t, v)),
            }
        }
        TextMap::packed(if heap.is_empty() { &stack[..len] } else { &heap })
    }

    fn end(&self, i: usize) -> usize {
        let bytes = self.data.as_bytes().get(END_BYTES * i..END_BYTES * (i + 1)).unwrap_or_default();
        bytes.iter().enumerate().fold(0, |end, (k, b)| end | (usize::from(*b) << (7 * k)))
    }

    fn value_at(&self, i: usize) -> &str {
        let base = END_BYTES * self.keys.len();
        let start = if i == 0 { 0 } else { self.end(i - 1) };
        self.data.get(base + start..base + self.end(i)).unwrap_or("")
    }

    pub fn get(&self, target: &Target) -> Option<&str> {
        self.keys.binary_search(target).ok().map(|i| self.value_at(i))
    }

    pub fn contains_key(&self, target: &Target) -> bool {
        self.keys.binary_search(target).is_ok()
    }

    /// Sets a target's value (the last one set wins, as in a map). Packs the map again: meant
    /// for building and editing one user, not for a snapshot's hot path.
    pub fn insert(&mut self, target: Target, value: String) {
        self.extend([(target, value)]);
    }

    /// Sets several targets' values at once, packing once.
    pub fn extend(&mut self, more: impl IntoIterator<Item = (Target, String)>) {
        let more: Vec<(Target, String)> = more.into_iter().collect();
        let merged = TextMap::from_pairs(self.iter().chain(more.iter().map(|(t, v)| (t, v.as_str()))));
        *self = merged;
    }

    pub fn remove(&mut self, target: &Target) -> Option<String> {
        let old = self.get(target)?.to_string();
        *self = TextMap::from_pairs(self.iter().filter(|(t, _)| *t != target));
        Some(old)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Target, &str)> {
        self.keys.iter().enumerate().map(|(i, t)| (t, self.value_at(i)))
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

impl fmt::Debug for TextMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl FromIterator<(Target, String)> for TextMap {
    fn from_iter<I: IntoIterator<Item = (Target, String)>>(iter: I) -> Self {
        let pairs: Vec<(Target, String)> = iter.into_iter().collect();
        TextMap::from_pairs(pairs.iter().map(|(t, v)| (t, v.as_str())))
    }
}

impl<const N: usize> From<[(Target, String); N]> for TextMap {
    fn from(pairs: [(Target, String); N]) -> Self {
        pairs.into_iter().collect()
    }
}

impl Serialize for TextMap {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for TextMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<Target, String>::deserialize(d)?;
        Ok(TextMap::from_pairs(map.iter().map(|(t, v)| (t, v.as_str()))))
    }
}

/// A user's group names, in order and without repeats: a sorted vector. A run holds one per
/// directory user and one per source user; a B-tree node per user (room for eleven names) was
/// most of what both cost at 100,000 users. Written as a JSON array.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct NameSet(Vec<CompactString>);

impl NameSet {
    pub fn new() -> Self {
        NameSet(Vec::new())
    }

    /// Adds a name; `false` when it was there already.
    pub fn insert(&mut self, name: impl AsRef<str> + Into<CompactString>) -> bool {
        match self.0.binary_search_by(|n| n.as_str().cmp(name.as_ref())) {
            Ok(_) => false,
            Err(i) => {
                self.0.insert(i, name.into());
                true
            }
        }
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.binary_search_by(|n| n.as_str().cmp(name)).is_ok()
    }

    /// Removes a name; `false` when it was not there.
    pub fn remove(&mut self, name: &str) -> bool {
        match self.0.binary_search_by(|n| n.as_str().cmp(name)) {
            Ok(i) => {
                self.0.remove(i);
                true
            }
            Err(_) => false,
        }
    }

    pub fn iter(&self) -> <&NameSet as IntoIterator>::IntoIter {
        self.into_iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn first(&self) -> Option<&str> {
        self.0.first().map(CompactString::as_str)
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.0.retain(|n| keep(n));
    }

    /// Gives back the room the vector grew into: a snapshot keeps its users for a whole run.
    pub fn shrink_to_fit(&mut self) {
        self.0.shrink_to_fit();
    }
}

impl FromIterator<String> for NameSet {
    fn from_iter<I: IntoIterator<Item = String>>(iter: I) -> Self {
        iter.into_iter().map(CompactString::from).collect()
    }
}

impl FromIterator<CompactString> for NameSet {
    fn from_iter<I: IntoIterator<Item = CompactString>>(iter: I) -> Self {
        let mut names: Vec<CompactString> = iter.into_iter().collect();
        names.sort_unstable();
        names.dedup();
        NameSet(names)
    }
}

impl<'a> FromIterator<&'a str> for NameSet {
    fn from_iter<I: IntoIterator<Item = &'a str>>(iter: I) -> Self {
        iter.into_iter().map(CompactString::new).collect()
    }
}

impl Extend<String> for NameSet {
    fn extend<I: IntoIterator<Item = String>>(&mut self, iter: I) {
        for name in iter {
            self.insert(name);
        }
    }
}

impl<const N: usize> From<[String; N]> for NameSet {
    fn from(names: [String; N]) -> Self {
        names.into_iter().collect()
    }
}

impl From<BTreeSet<String>> for NameSet {
    fn from(names: BTreeSet<String>) -> Self {
        // A B-tree hands its names over in order and without repeats.
        NameSet(names.into_iter().map(CompactString::from).collect())
    }
}

impl IntoIterator for NameSet {
    type Item = String;
    type IntoIter = std::iter::Map<std::vec::IntoIter<CompactString>, fn(CompactString) -> String>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter().map(CompactString::into_string)
    }
}

impl<'a> IntoIterator for &'a NameSet {
    type Item = &'a str;
    type IntoIter = std::iter::Map<std::slice::Iter<'a, CompactString>, fn(&'a CompactString) -> &'a str>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(CompactString::as_str)
    }
}

impl Serialize for NameSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter())
    }
}

impl<'de> Deserialize<'de> for NameSet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Vec::<CompactString>::deserialize(d)?.into_iter().collect())
    }
}

/// What the directory should hold for one source user. A target absent from `values`
/// is left alone; `Some(None)` clears it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredUser {
    pub idp_id: String,
    pub username: String,
    pub active: bool,
    pub values: ValueMap,
    /// `None` when groups are not managed for this connector.
    pub groups: Option<NameSet>,
    /// `Some` when photos are synced: the source's photo etag (`Some(None)`: no photo).
    pub photo: Option<Option<String>>,
    /// The source version to remember once this user is applied cleanly.
    pub source_version: Option<String>,
    pub location: String,
    /// The source's reference to the user's manager (an id, an e-mail, ...), for `manager`.
    pub manager: Option<String>,
}

/// A user as the directory reports it. `key` is the directory's stable id (a Jira user
/// key); it survives renames, which is why anchors point at it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryUser {
    pub key: CompactString,
    pub username: CompactString,
    pub active: bool,
    /// Current non-empty values of core and field targets (`display_name`, `email`, `property:*`, ...).
    pub values: TextMap,
    pub groups: NameSet,
    pub external_id: Option<CompactString>,
    /// When the user last logged in, where the directory knows (for the idle-user cleanup).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_login: Option<chrono::DateTime<chrono::Utc>>,
    /// When the user was created, where the directory knows (for users who never logged in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<chrono::DateTime<chrono::Utc>>,
    /// An administrator of the application (the idle-user cleanup never touches one).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub admin: bool,
}

impl DirectoryUser {
    pub fn value(&self, target: &Target) -> Option<&str> {
        self.values.get(target)
    }
}

/// What the engine remembers about one user it manages (DESIGN §5, §8): the anchor from the
/// IdP's immutable id to the directory's key, and the lifecycle facts behind grace periods,
/// delayed deletion and reactivation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub idp_id: CompactString,
    pub key: CompactString,
    pub username: CompactString,
    /// First time this user was seen missing, inactive or filtered; cleared when they return.
    pub gone_since: Option<chrono::DateTime<chrono::Utc>>,
    /// Set only when the sync itself disabled the user; reactivation depends on it.
    pub disabled_by_sync_at: Option<chrono::DateTime<chrono::Utc>>,
    pub anonymised: bool,
    /// The etag of the photo last written as the user's avatar.
    pub photo_etag: Option<String>,
    /// The source version (and mapping) of the record last applied cleanly.
    pub source_version: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The compact sets and maps read and write the JSON the hosts exchange: an object of
    /// values and an array of group names, whatever order a host sends.
    #[test]
    fn directory_users_read_and_write_the_hosts_json() {
        let json = r#"{"key":"k1","username":"ann","active":true,
            "values":{"property:team":"blue","email":"ann@example.com","display_name":"Ann"},
            "groups":["staff","Admins","staff","dev"],"external_id":null}"#;
        let u: DirectoryUser = serde_json::from_str(json).unwrap();
        assert_eq!(u.value(&Target::Email), Some("ann@example.com"));
        assert_eq!(u.value(&Target::Property("team".into())), Some("blue"));
        assert_eq!(u.groups.iter().collect::<Vec<_>>(), ["Admins", "dev", "staff"]);
        assert!(u.groups.contains("dev") && !u.groups.contains("Dev"));
        let back = serde_json::to_value(&u).unwrap();
        assert_eq!(back["values"]["display_name"], "Ann");
        assert_eq!(back["groups"], serde_json::json!(["Admins", "dev", "staff"]));
    }

    #[test]
    fn a_name_set_keeps_its_names_sorted_and_once() {
        let mut s = NameSet::new();
        assert!(s.insert("b") && s.insert("a") && !s.insert("b"));
        assert_eq!(s.iter().collect::<Vec<_>>(), ["a", "b"]);
        assert!(s.remove("a") && !s.remove("a"));
        assert_eq!(s, NameSet::from(["b".to_string()]));
        let mut m = TextMap::new();
        m.insert(Target::Email, "x".into());
        m.insert(Target::DisplayName, "y".into());
        m.insert(Target::Email, "z".into());
        assert_eq!((m.len(), m.get(&Target::Email)), (2, Some("z")));
        assert_eq!(m.remove(&Target::DisplayName).as_deref(), Some("y"));
    }

    #[test]
    fn a_text_map_packs_values_and_shares_its_targets() {
        let dept = Target::Profile("department".into());
        let a: TextMap = [(dept.clone(), "Forschung & Entwicklung".to_string()), (Target::Email, String::new())].into();
        let b: TextMap = [(Target::Email, "b@example.com".to_string()), (dept.clone(), "Vertrieb".into())].into();
        assert!(Arc::ptr_eq(&a.keys, &b.keys), "the same targets are one shared list");
        assert_eq!(a.iter().collect::<Vec<_>>(), [(&Target::Email, ""), (&dept, "Forschung & Entwicklung")]);
        assert_eq!((b.get(&dept), b.get(&Target::DisplayName)), (Some("Vertrieb"), None));
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json, r#"{"email":"","profile:department":"Forschung & Entwicklung"}"#);
        assert_eq!(serde_json::from_str::<TextMap>(&json).unwrap(), a);
        let mut c = b.clone();
        c.extend([(Target::DisplayName, "Bé".to_string()), (dept.clone(), "Einkauf".to_string())]);
        assert_eq!(c.iter().map(|(_, v)| v).collect::<Vec<_>>(), ["Bé", "b@example.com", "Einkauf"]);
        assert_eq!(format!("{:?}", TextMap::new()), "{}");
    }

    /// More targets than are sorted on the stack, given out of order and with repeats: sorted,
    /// the last value of each kept, whichever side of the stack's bound it falls.
    #[test]
    fn a_text_map_of_many_targets_keeps_the_last_value_of_each() {
        let target = |i: usize| Target::Property(format!("p{i:02}").into());
        let mut pairs: Vec<(Target, String)> = (0..40).rev().map(|i| (target(i), format!("first {i}"))).collect();
        pairs.extend([(target(3), "last 3".to_string()), (target(39), "last 39".to_string())]);
        let m: TextMap = pairs.into_iter().collect();
        assert_eq!(m.len(), 40);
        let keys: Vec<&Target> = m.iter().map(|(t, _)| t).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "sorted");
        assert_eq!((m.get(&target(3)), m.get(&target(39))), (Some("last 3"), Some("last 39")));
        assert_eq!(m.get(&target(20)), Some("first 20"));
        let few: TextMap =
            [(target(2), "a".to_string()), (target(1), "b".to_string()), (target(2), "c".to_string())].into();
        assert_eq!(few.iter().map(|(_, v)| v).collect::<Vec<_>>(), ["b", "c"]);
    }
}
