//! A desired user held compactly while a full run's listing goes on.
//!
//! A full run plans users it finds in step as they arrive, but a user it must write waits for
//! the end of the listing (a later user may want the same name). A first run against an empty
//! directory holds every user so: as `DesiredUser`s that was about 1 KB each (a string and a
//! target per value, a vector and a string per group), some 1 GB at 1,000,000 users. Held here,
//! a user is its own text and a list of targets shared with the users mapped by the same rules:
//! one allocation. The planner unpacks each user when it plans it.

use std::sync::Arc;

use crate::model::{shared_keys, CompactString, DesiredUser, NameSet, Target, ValueMap};

/// Bytes per length: seven bits a byte (the text stays ASCII there, so it is sliced without a
/// UTF-8 check), 35 bits in all.
const LEN_BYTES: usize = 5;
/// The length that stands for a value the user's rules clear (`None`).
const CLEARED: usize = (1 << (7 * LEN_BYTES)) - 1;

const ACTIVE: u8 = 1;
const GROUPS: u8 = 2;
const PHOTO: u8 = 4;
const PHOTO_ETAG: u8 = 8;
const VERSION: u8 = 16;
const MANAGER: u8 = 32;

/// What planning reads of every user before it plans any: held or whole alike.
pub trait Wanted {
    fn idp_id(&self) -> &str;
    fn username(&self) -> &str;
    fn active(&self) -> bool;
    /// Calls `f` with each group, when groups are managed.
    fn each_group(&self, f: &mut dyn FnMut(&str));
}

impl Wanted for DesiredUser {
    fn idp_id(&self) -> &str {
        &self.idp_id
    }

    fn username(&self) -> &str {
        &self.username
    }

    fn active(&self) -> bool {
        self.active
    }

    fn each_group(&self, f: &mut dyn FnMut(&str)) {
        self.groups.iter().flatten().for_each(f);
    }
}

impl Wanted for HeldUser {
    fn idp_id(&self) -> &str {
        HeldUser::idp_id(self)
    }

    fn username(&self) -> &str {
        HeldUser::username(self)
    }

    fn active(&self) -> bool {
        HeldUser::active(self)
    }

    fn each_group(&self, f: &mut dyn FnMut(&str)) {
        self.groups().into_iter().flatten().for_each(f);
    }
}

pub struct HeldUser {
    /// The value targets, in order.
    keys: Arc<[Target]>,
    /// A flags byte, then each text behind its length: source id, username, location, manager,
    /// photo etag and source version where present, the values (a cleared one has the `CLEARED`
    /// length and no text), the number of groups and each group.
    text: Box<str>,
}

fn put_len(text: &mut String, n: usize) {
    for i in 0..LEN_BYTES {
        text.push(char::from(((n >> (7 * i)) & 0x7f) as u8));
    }
}

fn put(text: &mut String, s: &str) {
    put_len(text, s.len());
    text.push_str(s);
}

/// Reads the texts of a packed user in order.
struct Cursor<'t> {
    text: &'t str,
    at: usize,
}

impl<'t> Cursor<'t> {
    fn len(&mut self) -> usize {
        let bytes = self.text.as_bytes().get(self.at..self.at + LEN_BYTES).unwrap_or_default();
        self.at += LEN_BYTES;
        bytes.iter().enumerate().fold(0, |n, (k, b)| n | (usize::from(*b) << (7 * k)))
    }

    fn text_of(&mut self, len: usize) -> &'t str {
        let s = self.text.get(self.at..self.at + len).unwrap_or_default();
        self.at += len;
        s
    }

    fn next(&mut self) -> &'t str {
        let len = self.len();
        self.text_of(len)
    }
}

impl HeldUser {
    pub fn pack(d: DesiredUser) -> HeldUser {
        let mut flags = 0;
        for (set, flag) in [
            (d.active, ACTIVE),
            (d.groups.is_some(), GROUPS),
            (d.photo.is_some(), PHOTO),
            (matches!(d.photo, Some(Some(_))), PHOTO_ETAG),
            (d.source_version.is_some(), VERSION),
            (d.manager.is_some(), MANAGER),
        ] {
            if set {
                flags |= flag;
            }
        }
        let mut size = 1 + LEN_BYTES * (3 + d.values.len()) + d.idp_id.len() + d.username.len() + d.location.len();
        size += d.values.iter().map(|(_, v)| v.as_ref().map_or(0, String::len)).sum::<usize>();
        size += d.groups.as_ref().map_or(0, |g| LEN_BYTES + g.iter().map(|n| LEN_BYTES + n.len()).sum::<usize>());
        let mut text = String::with_capacity(size);
        text.push(char::from(flags));
        put(&mut text, &d.idp_id);
        put(&mut text, &d.username);
        put(&mut text, &d.location);
        for s in [d.manager.as_deref(), d.photo.as_ref().and_then(Option::as_deref), d.source_version.as_deref()]
            .into_iter()
            .flatten()
        {
            put(&mut text, s);
        }
        let mut keys = Vec::with_capacity(d.values.len());
        for (target, value) in d.values.iter() {
            keys.push(target.clone());
            match value {
                Some(v) => put(&mut text, v),
                None => put_len(&mut text, CLEARED),
            }
        }
        if let Some(groups) = &d.groups {
            put_len(&mut text, groups.len());
            groups.iter().for_each(|g| put(&mut text, g));
        }
        HeldUser { keys: shared_keys(&keys), text: text.into_boxed_str() }
    }

    fn flags(&self) -> u8 {
        self.text.as_bytes().first().copied().unwrap_or(0)
    }

    fn cursor(&self) -> Cursor<'_> {
        Cursor { text: &self.text, at: 1 }
    }

    pub fn idp_id(&self) -> &str {
        self.cursor().next()
    }

    pub fn username(&self) -> &str {
        let mut c = self.cursor();
        c.next();
        c.next()
    }

    pub fn active(&self) -> bool {
        self.flags() & ACTIVE != 0
    }

    /// The user's groups, when groups are managed.
    pub fn groups(&self) -> Option<impl Iterator<Item = &str>> {
        let flags = self.flags();
        if flags & GROUPS == 0 {
            return None;
        }
        let mut c = self.cursor();
        let optional = [MANAGER, PHOTO_ETAG, VERSION].iter().filter(|f| flags & **f != 0).count();
        for _ in 0..3 + optional {
            c.next();
        }
        for _ in 0..self.keys.len() {
            match c.len() {
                CLEARED => {}
                len => {
                    c.text_of(len);
                }
            }
        }
        let n = c.len();
        Some((0..n).map(move |_| c.next()))
    }

    pub fn unpack(self) -> DesiredUser {
        let flags = self.flags();
        let mut c = self.cursor();
        let (idp_id, username, location) = (c.next().to_string(), c.next().to_string(), c.next().to_string());
        let mut optional = |flag: u8| (flags & flag != 0).then(|| c.next().to_string());
        let manager = optional(MANAGER);
        let etag = optional(PHOTO_ETAG);
        let source_version = optional(VERSION);
        let mut values = ValueMap::with_capacity(self.keys.len());
        for target in self.keys.iter() {
            let value = match c.len() {
                CLEARED => None,
                len => Some(c.text_of(len).to_string()),
            };
            values.insert(target.clone(), value);
        }
        let groups = (flags & GROUPS != 0).then(|| {
            let n = c.len();
            (0..n).map(|_| CompactString::new(c.next())).collect::<NameSet>()
        });
        DesiredUser {
            idp_id,
            username,
            active: flags & ACTIVE != 0,
            values,
            groups,
            photo: (flags & PHOTO != 0).then_some(etag),
            source_version,
            location,
            manager,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(n: usize) -> DesiredUser {
        let mut values = ValueMap::default();
        values.insert(Target::DisplayName, Some(format!("Ann Ö {n}")));
        values.insert(Target::Email, None);
        values.insert(Target::Property("team".into()), Some(String::new()));
        values.insert(Target::Profile("phone".into()), Some("+45 1234".into()));
        DesiredUser {
            idp_id: format!("id-{n}"),
            username: format!("ann{n}"),
            active: n % 2 == 0,
            values,
            groups: (n % 3 != 0).then(|| NameSet::from(["Staff".to_string(), "Ünits".to_string(), String::new()])),
            photo: match n % 3 {
                0 => None,
                1 => Some(None),
                _ => Some(Some(format!("etag-{n}"))),
            },
            source_version: (n % 4 == 0).then(|| format!("v{n}")),
            location: format!("people.csv line {n}"),
            manager: (n % 5 == 0).then(|| "boss".into()),
        }
    }

    /// Every field comes back as it went in, whichever optional parts a user has.
    #[test]
    fn a_held_user_unpacks_to_what_was_packed() {
        for n in 0..60 {
            let d = user(n);
            let held = HeldUser::pack(d.clone());
            assert_eq!(held.idp_id(), d.idp_id);
            assert_eq!(held.username(), d.username);
            assert_eq!(held.active(), d.active);
            let groups: Option<Vec<&str>> = held.groups().map(Iterator::collect);
            assert_eq!(groups, d.groups.as_ref().map(|g| g.iter().collect()), "user {n}");
            assert_eq!(held.unpack(), d, "user {n}");
        }
    }

    #[test]
    fn a_user_without_values_or_groups_round_trips() {
        let d = DesiredUser {
            idp_id: String::new(),
            username: "x".into(),
            active: false,
            values: ValueMap::default(),
            groups: Some(NameSet::new()),
            photo: None,
            source_version: None,
            location: String::new(),
            manager: None,
        };
        let held = HeldUser::pack(d.clone());
        assert_eq!(held.groups().map(Iterator::count), Some(0));
        assert_eq!(held.unpack(), d);
    }
}
