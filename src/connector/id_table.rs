//! A table of source ids, each with a number: every id, exactly, in one text, and a table of
//! 16-byte entries that point into it.
//!
//! A file listing finds duplicate rows with it (id → the line it was first read at), and Entra
//! keeps each user's groups by it (id → the user's number) until the user is listed. A map of id
//! strings cost a string and a table entry of 50 bytes or more per id: at 1,000,000 rows about
//! 200 MB of a file's run, most of it the allocator's. Here it is the ids' own bytes and 16
//! bytes per entry.

use std::hash::BuildHasher;

use hashbrown::HashTable;

#[derive(Clone, Copy)]
struct Entry {
    start: u32,
    len: u32,
    value: u64,
}

#[derive(Default)]
pub struct IdTable {
    text: String,
    table: HashTable<Entry>,
    hasher: foldhash::fast::RandomState,
}

/// The ids given are more than 4 GiB of text together: the table cannot point at them.
#[derive(Debug)]
pub struct TooLarge;

impl IdTable {
    pub fn new() -> Self {
        IdTable::default()
    }

    fn id<'t>(text: &'t str, e: &Entry) -> &'t str {
        &text[e.start as usize..(e.start + e.len) as usize]
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// The number kept for `id`, if it is in the table.
    pub fn get(&self, id: &str) -> Option<u64> {
        let hash = self.hasher.hash_one(id);
        self.table.find(hash, |e| Self::id(&self.text, e) == id).map(|e| e.value)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut u64> {
        let hash = self.hasher.hash_one(id);
        let text = &self.text;
        self.table.find_mut(hash, |e| Self::id(text, e) == id).map(|e| &mut e.value)
    }

    /// Adds `id` with `value`; the caller has checked that it is new.
    pub fn insert(&mut self, id: &str, value: u64) -> Result<(), TooLarge> {
        let start = u32::try_from(self.text.len()).map_err(|_| TooLarge)?;
        let len = u32::try_from(id.len()).map_err(|_| TooLarge)?;
        start.checked_add(len).ok_or(TooLarge)?;
        self.text.push_str(id);
        let (text, hasher) = (&self.text, &self.hasher);
        let hash = hasher.hash_one(id);
        self.table.insert_unique(hash, Entry { start, len, value }, |e| hasher.hash_one(Self::id(text, e)));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_id_exactly() {
        let mut ids = IdTable::new();
        for i in 0..10_000u64 {
            ids.insert(&format!("id-{i}"), i + 2).unwrap();
        }
        assert_eq!(ids.len(), 10_000);
        assert_eq!(ids.get("id-42"), Some(44));
        assert_eq!(ids.get("id-4"), Some(6));
        assert_eq!(ids.get("id-10000"), None);
        assert_eq!(ids.get("id-"), None, "a prefix of an id is not an id");
        assert_eq!(ids.get("2id-"), None, "nor text across two ids");
        *ids.get_mut("id-42").unwrap() |= 1 << 63;
        assert_eq!(ids.get("id-42"), Some(44 | 1 << 63));
        assert_eq!(ids.get("id-43"), Some(45), "its neighbour unchanged");
        assert!(ids.get_mut("nobody").is_none());
    }
}
