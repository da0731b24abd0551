//! The ids a file listing has read so far, for finding a duplicate row: every id, exactly, in one
//! text, and a table of 16-byte entries that point into it.
//!
//! A map of id strings to the row's place (the first form of this) cost two strings and 57
//! bytes of table per row: about 200 MB of a 1,000,000-row file's run, most of it the
//! allocator's. Here it is the ids' own bytes and 16 bytes per entry.

use std::hash::BuildHasher;

use hashbrown::HashTable;

/// Where a first row was read, and whether a later duplicate has taken it back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FirstSeen {
    pub line: u64,
    pub retracted: bool,
}

/// The top bit of an entry's line says "taken back": no file has 2^63 lines.
const RETRACTED: u64 = 1 << 63;

#[derive(Clone, Copy)]
struct Entry {
    start: u32,
    len: u32,
    line: u64,
}

pub struct SeenIds {
    text: String,
    table: HashTable<Entry>,
    hasher: foldhash::fast::RandomState,
}

/// The ids of one file are more than 4 GiB of text together: the index cannot point at them.
#[derive(Debug)]
pub struct TooLarge;

impl SeenIds {
    pub fn new() -> Self {
        SeenIds { text: String::new(), table: HashTable::new(), hasher: Default::default() }
    }

    fn id<'t>(text: &'t str, e: &Entry) -> &'t str {
        &text[e.start as usize..(e.start + e.len) as usize]
    }

    /// Where `id` was first read, if it was.
    pub fn get(&self, id: &str) -> Option<FirstSeen> {
        let hash = self.hasher.hash_one(id);
        self.table
            .find(hash, |e| Self::id(&self.text, e) == id)
            .map(|e| FirstSeen { line: e.line & !RETRACTED, retracted: e.line & RETRACTED != 0 })
    }

    /// Marks `id`'s first row as taken back; `true` when it was not already.
    pub fn retract(&mut self, id: &str) -> bool {
        let hash = self.hasher.hash_one(id);
        let text = &self.text;
        match self.table.find_mut(hash, |e| Self::id(text, e) == id) {
            Some(e) if e.line & RETRACTED == 0 => {
                e.line |= RETRACTED;
                true
            }
            _ => false,
        }
    }

    /// Records `id` as first read at `line`; the caller has checked that it is new.
    pub fn insert(&mut self, id: &str, line: u64) -> Result<(), TooLarge> {
        let start = u32::try_from(self.text.len()).map_err(|_| TooLarge)?;
        let len = u32::try_from(id.len()).map_err(|_| TooLarge)?;
        start.checked_add(len).ok_or(TooLarge)?;
        self.text.push_str(id);
        let entry = Entry { start, len, line: line & !RETRACTED };
        let (text, hasher) = (&self.text, &self.hasher);
        let hash = hasher.hash_one(id);
        self.table.insert_unique(hash, entry, |e| hasher.hash_one(Self::id(text, e)));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_id_exactly_and_remembers_retraction() {
        let mut seen = SeenIds::new();
        for i in 0..10_000u64 {
            seen.insert(&format!("id-{i}"), i + 2).unwrap();
        }
        assert_eq!(seen.get("id-42"), Some(FirstSeen { line: 44, retracted: false }));
        assert_eq!(seen.get("id-4"), Some(FirstSeen { line: 6, retracted: false }));
        assert_eq!(seen.get("id-10000"), None);
        assert_eq!(seen.get("id-"), None, "a prefix of stored text is not an id");
        assert_eq!(seen.get("2id-"), None, "nor text across two ids");
        assert!(seen.retract("id-42"));
        assert!(!seen.retract("id-42"), "taken back once");
        assert!(!seen.retract("nobody"));
        assert_eq!(seen.get("id-42"), Some(FirstSeen { line: 44, retracted: true }));
        assert_eq!(seen.get("id-43"), Some(FirstSeen { line: 45, retracted: false }));
    }
}
