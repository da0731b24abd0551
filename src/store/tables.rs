//! The primitive a host offers so that the engine's state lives in the host's database (DESIGN
//! §8, §11): named tables of text documents under text keys, each with a version, read by key or
//! by key prefix in key order, written in atomic batches with optional compare-and-set, plus
//! sequences. The Atlassian app implements it over Active Objects; `MemoryTables` is the
//! in-process one. Everything the state store means by these documents lives in
//! `table_store.rs`, in Rust: a host stores and compares, it never decides.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use super::StoreError;

/// A stored document and its version (1 for a new document, +1 on every write).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doc {
    pub value: String,
    pub version: i64,
}

/// Which documents a scan returns: keys starting with `prefix`, strictly after `after` (or
/// before it, descending), in key order, at most `limit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan<'a> {
    pub table: &'a str,
    pub prefix: &'a str,
    pub after: Option<&'a str>,
    pub descending: bool,
    pub limit: usize,
}

/// One write of a batch. `expect`: `None` writes whatever is there; `Some(0)` requires the
/// document to be absent; `Some(v)` requires its version to be `v`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    Put { table: String, key: String, value: String, expect: Option<i64> },
    Delete { table: String, key: String, expect: Option<i64> },
}

impl Write {
    pub fn put(table: &str, key: impl Into<String>, value: impl Into<String>) -> Write {
        Write::Put { table: table.into(), key: key.into(), value: value.into(), expect: None }
    }

    pub fn put_if(table: &str, key: impl Into<String>, value: impl Into<String>, expect: i64) -> Write {
        Write::Put { table: table.into(), key: key.into(), value: value.into(), expect: Some(expect) }
    }

    pub fn delete(table: &str, key: impl Into<String>) -> Write {
        Write::Delete { table: table.into(), key: key.into(), expect: None }
    }
}

/// A host's tables. Implementations must make `write` atomic (all or nothing, and a failed
/// expectation leaves everything as it was) and `next_id` unique across every process that
/// shares the tables.
pub trait Tables: Send + Sync {
    fn get(&self, table: &str, key: &str) -> Result<Option<Doc>, StoreError>;
    fn scan(&self, scan: &Scan) -> Result<Vec<(String, Doc)>, StoreError>;
    /// `Ok(false)` when an expectation failed (nothing was written).
    fn write(&self, writes: &[Write]) -> Result<bool, StoreError>;
    fn next_id(&self, sequence: &str) -> Result<i64, StoreError>;
}

/// Another `Tables` seen through a prefix on every table name: a private corner of the same
/// database (a host's self-check runs there, then erases it).
pub struct Namespaced {
    inner: std::sync::Arc<dyn Tables>,
    prefix: String,
}

impl Namespaced {
    pub fn new(inner: std::sync::Arc<dyn Tables>, prefix: impl Into<String>) -> Namespaced {
        Namespaced { inner, prefix: prefix.into() }
    }

    fn name(&self, table: &str) -> String {
        format!("{}{table}", self.prefix)
    }
}

impl Tables for Namespaced {
    fn get(&self, table: &str, key: &str) -> Result<Option<Doc>, StoreError> {
        self.inner.get(&self.name(table), key)
    }

    fn scan(&self, s: &Scan) -> Result<Vec<(String, Doc)>, StoreError> {
        let table = self.name(s.table);
        self.inner.scan(&Scan { table: &table, ..s.clone() })
    }

    fn write(&self, writes: &[Write]) -> Result<bool, StoreError> {
        let renamed: Vec<Write> = writes
            .iter()
            .map(|w| match w {
                Write::Put { table, key, value, expect } => {
                    Write::Put { table: self.name(table), key: key.clone(), value: value.clone(), expect: *expect }
                }
                Write::Delete { table, key, expect } => {
                    Write::Delete { table: self.name(table), key: key.clone(), expect: *expect }
                }
            })
            .collect();
        self.inner.write(&renamed)
    }

    fn next_id(&self, sequence: &str) -> Result<i64, StoreError> {
        self.inner.next_id(&self.name(sequence))
    }
}

/// Tables in this process's memory: the reference the host implementations are tested against.
#[derive(Default)]
pub struct MemoryTables {
    inner: Mutex<Memory>,
}

#[derive(Default)]
struct Memory {
    tables: HashMap<String, BTreeMap<String, Doc>>,
    sequences: HashMap<String, i64>,
}

impl MemoryTables {
    pub fn new() -> MemoryTables {
        MemoryTables::default()
    }

    /// How many documents all tables hold.
    pub fn document_count(&self) -> usize {
        self.inner.lock().map(|m| m.tables.values().map(BTreeMap::len).sum()).unwrap_or(0)
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Memory>, StoreError> {
        self.inner.lock().map_err(|_| StoreError("the in-memory tables were poisoned by a panic".into()))
    }
}

fn expectation_holds(current: Option<&Doc>, expect: Option<i64>) -> bool {
    match expect {
        None => true,
        Some(0) => current.is_none(),
        Some(v) => current.is_some_and(|d| d.version == v),
    }
}

impl Tables for MemoryTables {
    fn get(&self, table: &str, key: &str) -> Result<Option<Doc>, StoreError> {
        Ok(self.lock()?.tables.get(table).and_then(|t| t.get(key)).cloned())
    }

    fn scan(&self, s: &Scan) -> Result<Vec<(String, Doc)>, StoreError> {
        let m = self.lock()?;
        let Some(t) = m.tables.get(s.table) else { return Ok(Vec::new()) };
        let matching = t.range(s.prefix.to_string()..).take_while(|(k, _)| k.starts_with(s.prefix));
        let out: Vec<(String, Doc)> = if s.descending {
            let mut all: Vec<_> = matching.filter(|(k, _)| s.after.is_none_or(|a| k.as_str() < a)).collect();
            all.reverse();
            all.into_iter().take(s.limit).map(|(k, d)| (k.clone(), d.clone())).collect()
        } else {
            matching
                .filter(|(k, _)| s.after.is_none_or(|a| k.as_str() > a))
                .take(s.limit)
                .map(|(k, d)| (k.clone(), d.clone()))
                .collect()
        };
        Ok(out)
    }

    fn write(&self, writes: &[Write]) -> Result<bool, StoreError> {
        let mut m = self.lock()?;
        for w in writes {
            let (table, key, expect) = match w {
                Write::Put { table, key, expect, .. } | Write::Delete { table, key, expect } => (table, key, *expect),
            };
            if !expectation_holds(m.tables.get(table).and_then(|t| t.get(key)), expect) {
                return Ok(false);
            }
        }
        for w in writes {
            match w {
                Write::Put { table, key, value, .. } => {
                    let t = m.tables.entry(table.clone()).or_default();
                    let version = t.get(key).map_or(1, |d| d.version + 1);
                    t.insert(key.clone(), Doc { value: value.clone(), version });
                }
                Write::Delete { table, key, .. } => {
                    if let Some(t) = m.tables.get_mut(table) {
                        t.remove(key);
                    }
                }
            }
        }
        Ok(true)
    }

    fn next_id(&self, sequence: &str) -> Result<i64, StoreError> {
        let mut m = self.lock()?;
        let n = m.sequences.entry(sequence.to_string()).or_insert(0);
        *n += 1;
        Ok(*n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_expectation_writes_nothing_of_the_batch() {
        let t = MemoryTables::new();
        assert!(t.write(&[Write::put("a", "k", "1")]).unwrap());
        let batch = [Write::put("a", "other", "x"), Write::put_if("a", "k", "2", 7)];
        assert!(!t.write(&batch).unwrap());
        assert_eq!(t.get("a", "other").unwrap(), None);
        assert_eq!(t.get("a", "k").unwrap(), Some(Doc { value: "1".into(), version: 1 }));
        assert!(t.write(&[Write::put_if("a", "k", "2", 1)]).unwrap());
        assert!(!t.write(&[Write::put_if("a", "k", "3", 0)]).unwrap(), "must be absent");
    }

    #[test]
    fn scans_page_by_prefix_in_both_directions() {
        let t = MemoryTables::new();
        for k in ["p/1", "p/2", "p/3", "q/1"] {
            t.write(&[Write::put("a", k, k)]).unwrap();
        }
        let keys = |s: Scan| t.scan(&s).unwrap().into_iter().map(|(k, _)| k).collect::<Vec<_>>();
        let scan = Scan { table: "a", prefix: "p/", after: None, descending: false, limit: 2 };
        assert_eq!(keys(scan.clone()), ["p/1", "p/2"]);
        assert_eq!(keys(Scan { after: Some("p/2"), ..scan.clone() }), ["p/3"]);
        assert_eq!(keys(Scan { descending: true, ..scan.clone() }), ["p/3", "p/2"]);
        assert_eq!(keys(Scan { descending: true, after: Some("p/2"), ..scan }), ["p/1"]);
    }
}
