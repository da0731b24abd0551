//! The state store over a host's `Tables` (the Atlassian app's Active Objects): the same
//! contract as the SQLite store (tests/it/store_contract.rs), with every rule here in Rust.
//!
//! Tables and keys (`C` = a connector as `<len>:<id>/`, so that no id is a prefix of another):
//! `runs` `<id:019>` → the run and its lease; `results` `<id:019>/<seq:012>`; `running` `C<id>` (an
//! index of the RUNNING runs); `identities` `C<idp id>`; `groups`, `tokens` by connector;
//! `fires` `C<fire time>`; `config` `current`. A run document is rewritten with a
//! compare-and-set on its version: a heartbeat and a chunk of progress never lose each other.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::tables::{Scan, Tables, Write};
use super::{fire_key, retention, RunRecord, RunStatus, StateChanges, StateStore, StoreError, UserResult};
use crate::model::Identity;

const RUNS: &str = "runs";
const RESULTS: &str = "results";
const RUNNING: &str = "running";
const IDENTITIES: &str = "identities";
const GROUPS: &str = "groups";
const TOKENS: &str = "tokens";
const FIRES: &str = "fires";
const CONFIG: &str = "config";
const SCIM: &str = "scim";
const PAGE: usize = 1000;
/// Writes of one run document that lose to a concurrent one are retried this often.
const RETRIES: usize = 1000;

/// A run as stored: the record, its lease and how many results it has.
#[derive(Serialize, Deserialize)]
struct RunDoc {
    record: RunRecord,
    heartbeat_ms: i64,
    owner: String,
    results: i64,
}

#[derive(Serialize, Deserialize)]
struct ConfigDoc {
    json: String,
    base_dir: String,
}

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

fn to_json<T: Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(err)
}

fn from_json<'a, T: Deserialize<'a>>(what: &str, key: &str, s: &'a str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError(format!("the stored {what} '{key}' is unreadable: {e}")))
}

fn conn(connector: &str) -> String {
    format!("{}:{connector}/", connector.len())
}

/// What follows the connector part of a key made with `conn`.
fn after_conn(key: &str) -> Option<&str> {
    let (len, rest) = key.split_once(':')?;
    rest.get(len.parse::<usize>().ok()? + 1..)
}

fn run_key(id: i64) -> String {
    format!("{id:019}")
}

fn result_key(id: i64, seq: i64) -> String {
    format!("{id:019}/{seq:012}")
}

pub struct TableStore {
    tables: Arc<dyn Tables>,
}

impl TableStore {
    /// Every table the store writes.
    pub const TABLES: [&'static str; 9] = [RUNS, RESULTS, RUNNING, IDENTITIES, GROUPS, TOKENS, FIRES, CONFIG, SCIM];

    pub fn new(tables: Arc<dyn Tables>) -> TableStore {
        TableStore { tables }
    }

    /// Deletes every document of every table (sequences stay): what a self-check leaves behind.
    pub fn erase(&self) -> Result<(), StoreError> {
        for table in Self::TABLES {
            for chunk in self.scan_all(table, "")?.chunks(PAGE) {
                self.tables.write(&chunk.iter().map(|(k, _)| Write::delete(table, k.clone())).collect::<Vec<_>>())?;
            }
        }
        Ok(())
    }

    /// Runs the store contract (store/contract.rs) over `tables`, each rule in a fresh namespace
    /// that is erased afterwards: how a host proves its tables before trusting them with state.
    pub fn check_tables(tables: Arc<dyn Tables>) -> Result<(), String> {
        // A name no other node's check picks at the same moment.
        let stamp = {
            use std::hash::{BuildHasher, Hasher};
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_i64(Utc::now().timestamp_nanos_opt().unwrap_or_default());
            h.finish()
        };
        let made = std::sync::Mutex::new(Vec::new());
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            super::contract::check(&|| {
                let mut made = made.lock().unwrap_or_else(|p| p.into_inner());
                let ns = format!("check-{stamp:016x}-{}.", made.len() + 1);
                let store = TableStore::new(Arc::new(super::tables::Namespaced::new(tables.clone(), ns)));
                made.push(TableStore { tables: store.tables.clone() });
                Box::new(store)
            })
        }));
        for store in made.into_inner().unwrap_or_else(|p| p.into_inner()) {
            store.erase().map_err(|e| format!("the check passed its rules but could not clean up: {e}"))?;
        }
        outcome.map_err(|panic| {
            format!("the tables break the state store's contract: {}", crate::engine::host::panic_message(&*panic))
        })
    }

    /// Every document under a prefix, a page at a time.
    fn scan_all(&self, table: &str, prefix: &str) -> Result<Vec<(String, String)>, StoreError> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page =
                self.tables.scan(&Scan { table, prefix, after: after.as_deref(), descending: false, limit: PAGE })?;
            let full = page.len() == PAGE;
            after = page.last().map(|(k, _)| k.clone());
            out.extend(page.into_iter().map(|(k, d)| (k, d.value)));
            if !full {
                return Ok(out);
            }
        }
    }

    fn run_doc(&self, id: i64) -> Result<Option<(RunDoc, i64)>, StoreError> {
        let key = run_key(id);
        match self.tables.get(RUNS, &key)? {
            Some(d) => Ok(Some((from_json("run", &key, &d.value)?, d.version))),
            None => Ok(None),
        }
    }

    /// Rewrites a run's document with `change` (which may add writes of its own) until no other
    /// writer came between the read and the write. `change` answers false to write nothing.
    fn update_run(
        &self,
        id: i64,
        mut change: impl FnMut(&mut RunDoc, &mut Vec<Write>) -> Result<bool, StoreError>,
    ) -> Result<bool, StoreError> {
        for _ in 0..RETRIES {
            let Some((mut doc, version)) = self.run_doc(id)? else {
                return Err(StoreError(format!("no run with id {id}")));
            };
            let mut writes = Vec::new();
            if !change(&mut doc, &mut writes)? {
                return Ok(false);
            }
            writes.push(Write::put_if(RUNS, run_key(id), to_json(&doc)?, version));
            if self.tables.write(&writes)? {
                return Ok(true);
            }
        }
        Err(StoreError(format!("run {id} kept changing under this write; gave up after {RETRIES} tries")))
    }

    /// The writes that append results and apply anchor changes; advances the result count.
    fn progress_writes(
        doc: &mut RunDoc,
        results: &[UserResult],
        changes: &StateChanges,
        writes: &mut Vec<Write>,
    ) -> Result<(), StoreError> {
        let id = doc.record.id;
        for r in results {
            writes.push(Write::put(RESULTS, result_key(id, doc.results), to_json(r)?));
            doc.results += 1;
        }
        let c = conn(&doc.record.connector);
        for i in &changes.upsert {
            writes.push(Write::put(IDENTITIES, format!("{c}{}", i.idp_id), to_json(i)?));
        }
        for idp in &changes.remove {
            writes.push(Write::delete(IDENTITIES, format!("{c}{idp}")));
        }
        Ok(())
    }
}

impl StateStore for TableStore {
    fn identities(&self, connector: &str) -> Result<Vec<Identity>, StoreError> {
        self.scan_all(IDENTITIES, &conn(connector))?.iter().map(|(k, v)| from_json("identity", k, v)).collect()
    }

    fn managed_groups(&self, connector: &str) -> Result<BTreeSet<String>, StoreError> {
        match self.tables.get(GROUPS, connector)? {
            Some(d) => from_json("managed groups", connector, &d.value),
            None => Ok(BTreeSet::new()),
        }
    }

    fn delta_token(&self, connector: &str) -> Result<Option<String>, StoreError> {
        Ok(self.tables.get(TOKENS, connector)?.map(|d| d.value))
    }

    fn begin_run(&self, r: &RunRecord) -> Result<i64, StoreError> {
        let id = self.tables.next_id(RUNS)?;
        let mut record = r.clone();
        record.id = id;
        let doc = RunDoc {
            record,
            heartbeat_ms: r.started_at.timestamp_millis(),
            owner: crate::process::owner(),
            results: 0,
        };
        let mut writes = vec![Write::put_if(RUNS, run_key(id), to_json(&doc)?, 0)];
        if r.status == RunStatus::Running {
            writes.push(Write::put(RUNNING, format!("{}{}", conn(&r.connector), run_key(id)), ""));
        }
        if !self.tables.write(&writes)? {
            return Err(StoreError(format!("run id {id} was handed out twice by the host's sequence")));
        }
        Ok(id)
    }

    fn finish_run(&self, r: &RunRecord, results: &[UserResult], changes: &StateChanges) -> Result<(), StoreError> {
        self.update_run(r.id, |doc, writes| {
            let d = &mut doc.record;
            d.status = r.status;
            d.ended_at = r.ended_at;
            d.counts = r.counts;
            d.writes = r.writes;
            d.error = r.error.clone();
            d.hold_reason = r.hold_reason.clone();
            d.notes = r.notes.clone();
            d.photo_downloads = r.photo_downloads;
            d.mode = r.mode.clone();
            Self::progress_writes(doc, results, changes, writes)?;
            writes.push(Write::delete(RUNNING, format!("{}{}", conn(&r.connector), run_key(r.id))));
            match &changes.delta_token {
                Some(Some(token)) => writes.push(Write::put(TOKENS, r.connector.clone(), token.clone())),
                Some(None) => writes.push(Write::delete(TOKENS, r.connector.clone())),
                None => {}
            }
            if let Some(groups) = &changes.managed_groups {
                writes.push(Write::put(GROUPS, r.connector.clone(), to_json(groups)?));
            }
            Ok(true)
        })
        .map(|_| ())
    }

    fn record_progress(&self, r: &RunRecord, results: &[UserResult], changes: &StateChanges) -> Result<(), StoreError> {
        self.update_run(r.id, |doc, writes| {
            doc.record.counts = r.counts;
            doc.record.writes = r.writes;
            Self::progress_writes(doc, results, changes, writes)?;
            Ok(true)
        })
        .map(|_| ())
    }

    fn runs(&self, connector: Option<&str>, limit: usize) -> Result<Vec<RunRecord>, StoreError> {
        let mut out = Vec::new();
        let mut before: Option<String> = None;
        while out.len() < limit {
            let page = self.tables.scan(&Scan {
                table: RUNS,
                prefix: "",
                after: before.as_deref(),
                descending: true,
                limit: PAGE,
            })?;
            let full = page.len() == PAGE;
            before = page.last().map(|(k, _)| k.clone());
            for (k, d) in page {
                let doc: RunDoc = from_json("run", &k, &d.value)?;
                if connector.is_none_or(|c| c == doc.record.connector) && out.len() < limit {
                    out.push(doc.record);
                }
            }
            if !full {
                break;
            }
        }
        Ok(out)
    }

    fn run(&self, id: i64) -> Result<Option<RunRecord>, StoreError> {
        Ok(self.run_doc(id)?.map(|(d, _)| d.record))
    }

    fn results(&self, run_id: i64) -> Result<Vec<UserResult>, StoreError> {
        let prefix = format!("{}/", run_key(run_id));
        self.scan_all(RESULTS, &prefix)?.iter().map(|(k, v)| from_json("result", k, v)).collect()
    }

    fn mark_approved(&self, held_run: i64, by_run: i64) -> Result<(), StoreError> {
        self.update_run(held_run, |doc, _| {
            doc.record.approved_by = Some(by_run);
            Ok(true)
        })
        .map(|_| ())
    }

    fn heartbeat(&self, run_id: i64, at: DateTime<Utc>) -> Result<bool, StoreError> {
        self.update_run(run_id, |doc, _| {
            if doc.record.status != RunStatus::Running {
                return Ok(false);
            }
            doc.heartbeat_ms = doc.heartbeat_ms.max(at.timestamp_millis());
            Ok(true)
        })
    }

    fn interrupt_expired(
        &self,
        connector: &str,
        expired_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<RunRecord>, StoreError> {
        let cutoff = expired_before.timestamp_millis();
        let mut marked = Vec::new();
        let prefix = conn(connector);
        for (index_key, _) in self.scan_all(RUNNING, &prefix)? {
            let Some(Ok(id)) = after_conn(&index_key).map(str::parse::<i64>) else { continue };
            let Some((mut doc, version)) = self.run_doc(id)? else { continue };
            if doc.record.status != RunStatus::Running {
                continue;
            }
            if !super::interrupt(&mut doc.record, Some(&doc.owner), doc.heartbeat_ms, cutoff, now) {
                continue;
            }
            // Only against the version read: a run that renewed its lease meanwhile is alive.
            let writes = [Write::put_if(RUNS, run_key(id), to_json(&doc)?, version), Write::delete(RUNNING, index_key)];
            if self.tables.write(&writes)? {
                marked.push(doc.record);
            }
        }
        Ok(marked)
    }

    fn claim_fire(&self, connector: &str, kind: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        self.tables.write(&[Write::put_if(FIRES, format!("{}{}", conn(connector), fire_key(at)), kind, 0)])
    }

    fn last_fire(&self, connector: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let prefix = conn(connector);
        let last =
            self.tables.scan(&Scan { table: FIRES, prefix: &prefix, after: None, descending: true, limit: 1 })?;
        Ok(last.first().and_then(|(k, _)| DateTime::parse_from_rfc3339(after_conn(k)?).ok()).map(|t| t.to_utc()))
    }

    fn prune(&self, keep_runs: usize, older_than: DateTime<Utc>) -> Result<usize, StoreError> {
        let mut rows = Vec::new();
        for (k, v) in self.scan_all(RUNS, "")? {
            let doc: RunDoc = from_json("run", &k, &v)?;
            rows.push(retention::Row::of(&doc.record));
        }
        let doomed = retention::doomed(rows, keep_runs, older_than);
        for id in &doomed {
            // Results first, in small batches: a run can hold 100,000 of them.
            let prefix = format!("{}/", run_key(*id));
            loop {
                let page = self.tables.scan(&Scan {
                    table: RESULTS,
                    prefix: &prefix,
                    after: None,
                    descending: false,
                    limit: 2000,
                })?;
                if page.is_empty() {
                    break;
                }
                self.tables.write(&page.into_iter().map(|(k, _)| Write::delete(RESULTS, k)).collect::<Vec<_>>())?;
            }
            self.tables.write(&[Write::delete(RUNS, run_key(*id))])?;
        }
        let cutoff = fire_key(older_than);
        let old: Vec<Write> = self
            .scan_all(FIRES, "")?
            .into_iter()
            .filter(|(k, _)| after_conn(k).is_some_and(|at| at < cutoff.as_str()))
            .map(|(k, _)| Write::delete(FIRES, k))
            .collect();
        for chunk in old.chunks(PAGE) {
            self.tables.write(chunk)?;
        }
        Ok(doomed.len())
    }

    fn config(&self) -> Result<Option<(String, String)>, StoreError> {
        match self.tables.get(CONFIG, "current")? {
            Some(d) => {
                let c: ConfigDoc = from_json("configuration", "current", &d.value)?;
                Ok(Some((c.json, c.base_dir)))
            }
            None => Ok(None),
        }
    }

    fn put_config(&self, json: &str, base_dir: &str) -> Result<(), StoreError> {
        let doc = ConfigDoc { json: json.into(), base_dir: base_dir.into() };
        self.tables.write(&[Write::put(CONFIG, "current", to_json(&doc)?)]).map(|_| ())
    }

    fn scim_resources(&self, connector: &str, kind: &str) -> Result<Vec<String>, StoreError> {
        Ok(self.scan_all(SCIM, &format!("{connector}/{kind}/"))?.into_iter().map(|(_, v)| v).collect())
    }

    fn scim_resource(&self, connector: &str, kind: &str, id: &str) -> Result<Option<String>, StoreError> {
        Ok(self.tables.get(SCIM, &format!("{connector}/{kind}/{id}"))?.map(|d| d.value))
    }

    fn put_scim_resource(&self, connector: &str, kind: &str, id: &str, json: Option<&str>) -> Result<(), StoreError> {
        let key = format!("{connector}/{kind}/{id}");
        let write = match json {
            Some(j) => Write::put(SCIM, key, j),
            None => Write::delete(SCIM, key),
        };
        self.tables.write(&[write]).map(|_| ())
    }
}
