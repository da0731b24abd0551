//! The SQLite state store, the embedded default.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::*;

pub struct SqliteStore {
    conn: Mutex<Connection>,
    /// The file, named in every error ("disk full" alone does not say which disk).
    name: String,
}

/// Bumped whenever SCHEMA changes shape, with a step in MIGRATIONS.
const SCHEMA_VERSION: i64 = 4;

/// `MIGRATIONS[i]` turns a version `i + 1` file into version `i + 2`; SCHEMA then adds new tables.
const MIGRATIONS: [&str; 3] = [
    // 2: run leases (heartbeats).
    "ALTER TABLE runs ADD COLUMN heartbeat_ms INTEGER;",
    // 3: the process a run lives in, so that one on this machine whose process is gone is
    // found dead at once instead of after its lease.
    "ALTER TABLE runs ADD COLUMN owner TEXT;",
    // 4: anchors kept in their key's order (WITHOUT ROWID): a run reads a connector's anchors
    // and writes each new one with one B-tree walk instead of an index walk and a table walk.
    // (A file from before anchors had no table: the first statement makes an empty one.)
    "CREATE TABLE IF NOT EXISTS identities (connector TEXT NOT NULL, idp_id TEXT NOT NULL, dir_key TEXT NOT NULL,
         username TEXT NOT NULL, gone_since TEXT, disabled_by_sync_at TEXT, anonymised INTEGER NOT NULL DEFAULT 0,
         photo_etag TEXT, source_version TEXT, PRIMARY KEY (connector, idp_id));
     CREATE TABLE identities_by_key (connector TEXT NOT NULL, idp_id TEXT NOT NULL, dir_key TEXT NOT NULL,
         username TEXT NOT NULL, gone_since TEXT, disabled_by_sync_at TEXT, anonymised INTEGER NOT NULL DEFAULT 0,
         photo_etag TEXT, source_version TEXT, PRIMARY KEY (connector, idp_id)) WITHOUT ROWID;
     INSERT INTO identities_by_key SELECT connector, idp_id, dir_key, username, gone_since, disabled_by_sync_at,
         anonymised, photo_etag, source_version FROM identities;
     DROP TABLE identities;
     ALTER TABLE identities_by_key RENAME TO identities;",
];

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS identities (
    connector TEXT NOT NULL,
    idp_id TEXT NOT NULL,
    dir_key TEXT NOT NULL,
    username TEXT NOT NULL,
    gone_since TEXT,
    disabled_by_sync_at TEXT,
    anonymised INTEGER NOT NULL DEFAULT 0,
    photo_etag TEXT,
    source_version TEXT,
    PRIMARY KEY (connector, idp_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS managed_groups (
    connector TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (connector, name)
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    connector TEXT NOT NULL,
    trigger TEXT NOT NULL,
    mode TEXT NOT NULL,
    simulate INTEGER NOT NULL,
    status TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    counts TEXT NOT NULL,
    writes INTEGER NOT NULL,
    photo_downloads INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    hold_reason TEXT,
    notes TEXT NOT NULL,
    approves INTEGER,
    approved_by INTEGER,
    config TEXT,
    heartbeat_ms INTEGER,
    owner TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_connector ON runs (connector, id);
CREATE TABLE IF NOT EXISTS schedule_fires (
    connector TEXT NOT NULL,
    fire_at TEXT NOT NULL,
    kind TEXT NOT NULL,
    claimed_at TEXT NOT NULL,
    PRIMARY KEY (connector, fire_at)
);
CREATE TABLE IF NOT EXISTS results (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);
CREATE TABLE IF NOT EXISTS delta_tokens (
    connector TEXT PRIMARY KEY,
    token TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS config (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    json TEXT NOT NULL,
    base_dir TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS scim_resources (
    connector TEXT NOT NULL,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    json TEXT NOT NULL,
    PRIMARY KEY (connector, kind, id)
);
";

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

/// A chunk of per-user results as one row's body, a JSON array (`None`: nothing to store): a
/// full run of 100,000 users stores some 400 rows, not 100,000 with an index entry each.
fn chunk_body(results: &[UserResult]) -> Result<Option<String>, StoreError> {
    if results.is_empty() {
        return Ok(None);
    }
    Ok(Some(super::result_json::results_json(results)))
}

fn json<T: Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(err)
}

impl SqliteStore {
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        Self::init(Some(path))
    }

    pub fn in_memory() -> Result<SqliteStore, StoreError> {
        Self::init(None)
    }

    fn init(path: Option<&Path>) -> Result<SqliteStore, StoreError> {
        let conn = crate::sqlite_file::open(path, SCHEMA, SCHEMA_VERSION, &MIGRATIONS).map_err(StoreError)?;
        let name = path.map(|p| p.display().to_string()).unwrap_or_else(|| "(in memory)".into());
        Ok(SqliteStore { conn: Mutex::new(conn), name })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut conn).map_err(|e| StoreError(format!("state store {}: {}", self.name, e.0)))
    }
}

fn time(s: Option<String>) -> Option<DateTime<Utc>> {
    s.and_then(|s| DateTime::parse_from_rfc3339(&s).ok()).map(|t| t.with_timezone(&Utc))
}

const RUN_COLUMNS: &str =
    "id, connector, trigger, mode, simulate, status, started_at, ended_at, counts, writes, error, \
                           hold_reason, notes, approves, approved_by, config, photo_downloads";

fn run_row(r: &Row) -> rusqlite::Result<RunRecord> {
    let status: String = r.get(5)?;
    let counts: String = r.get(8)?;
    let notes: String = r.get(12)?;
    let config: Option<String> = r.get(15)?;
    Ok(RunRecord {
        id: r.get(0)?,
        connector: r.get(1)?,
        trigger: r.get(2)?,
        mode: r.get(3)?,
        simulate: r.get(4)?,
        status: RunStatus::parse(&status).unwrap_or(RunStatus::Failed),
        started_at: time(r.get(6)?).unwrap_or_default(),
        ended_at: time(r.get(7)?),
        counts: serde_json::from_str(&counts).unwrap_or_default(),
        writes: r.get::<_, i64>(9)? as u64,
        error: r.get(10)?,
        hold_reason: r.get(11)?,
        notes: serde_json::from_str(&notes).unwrap_or_default(),
        approves: r.get(13)?,
        approved_by: r.get(14)?,
        config: config.and_then(|c| serde_json::from_str(&c).ok()),
        photo_downloads: r.get::<_, i64>(16)? as u64,
    })
}

impl StateStore for SqliteStore {
    fn identities(&self, connector: &str) -> Result<Vec<Identity>, StoreError> {
        self.with(|c| {
            let mut stmt = c
                .prepare(
                    "SELECT idp_id, dir_key, username, gone_since, disabled_by_sync_at, anonymised, photo_etag, source_version
                     FROM identities WHERE connector = ?1",
                )
                .map_err(err)?;
            let rows = stmt
                .query_map(params![connector], |r| {
                    Ok(Identity {
                        idp_id: compact(r, 0)?,
                        key: compact(r, 1)?,
                        username: compact(r, 2)?,
                        gone_since: time(r.get(3)?),
                        disabled_by_sync_at: time(r.get(4)?),
                        anonymised: r.get(5)?,
                        photo_etag: r.get(6)?,
                        source_version: r.get(7)?,
                    })
                })
                .map_err(err)?;
            // Held for a whole run: sized once by a count (an index walk), not grown by doubling
            // and then shrunk, which copied 100,000 anchors three times over.
            let count: i64 = c
                .query_row("SELECT COUNT(*) FROM identities WHERE connector = ?1", params![connector], |r| r.get(0))
                .map_err(err)?;
            let mut all = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
            for row in rows {
                all.push(row.map_err(err)?);
            }
            all.shrink_to_fit();
            Ok(all)
        })
    }

    fn managed_groups(&self, connector: &str) -> Result<BTreeSet<String>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT name FROM managed_groups WHERE connector = ?1").map_err(err)?;
            let rows = stmt.query_map(params![connector], |r| r.get(0)).map_err(err)?;
            rows.collect::<Result<_, _>>().map_err(err)
        })
    }

    fn delta_token(&self, connector: &str) -> Result<Option<String>, StoreError> {
        self.with(|c| {
            c.query_row("SELECT token FROM delta_tokens WHERE connector = ?1", params![connector], |r| r.get(0))
                .optional()
                .map_err(err)
        })
    }

    fn begin_run(&self, r: &RunRecord) -> Result<i64, StoreError> {
        let counts = json(&r.counts)?;
        let notes = json(&r.notes)?;
        let config = r.config.as_ref().map(json).transpose()?;
        self.with(|c| {
            c.execute(
                "INSERT INTO runs (connector, trigger, mode, simulate, status, started_at, counts, writes, notes, approves, config, heartbeat_ms, owner)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?9, ?10, ?11, ?12)",
                params![r.connector, r.trigger, r.mode, r.simulate, r.status.as_str(), r.started_at.to_rfc3339(), counts, notes, r.approves, config, r.started_at.timestamp_millis(), crate::process::owner()],
            )
            .map_err(err)?;
            Ok(c.last_insert_rowid())
        })
    }

    fn finish_run(&self, r: &RunRecord, results: &[UserResult], changes: &StateChanges) -> Result<(), StoreError> {
        let counts = json(&r.counts)?;
        let notes = json(&r.notes)?;
        let body = chunk_body(results)?;
        self.with(|c| {
            let tx = c.transaction().map_err(err)?;
            tx.execute(
                "UPDATE runs SET status = ?2, ended_at = ?3, counts = ?4, writes = ?5, error = ?6, hold_reason = ?7, notes = ?8,
                 photo_downloads = ?9, mode = ?10 WHERE id = ?1",
                params![
                    r.id,
                    r.status.as_str(),
                    r.ended_at.map(|t| t.to_rfc3339()),
                    counts,
                    r.writes as i64,
                    r.error,
                    r.hold_reason,
                    notes,
                    r.photo_downloads as i64,
                    r.mode
                ],
            )
            .map_err(err)?;
            write_progress(&tx, r, body.as_deref(), changes)?;
            match &changes.delta_token {
                Some(Some(token)) => {
                    tx.execute(
                        "INSERT INTO delta_tokens (connector, token, updated_at) VALUES (?1, ?2, ?3)
                         ON CONFLICT (connector) DO UPDATE SET token = excluded.token, updated_at = excluded.updated_at",
                        params![r.connector, token, Utc::now().to_rfc3339()],
                    )
                    .map_err(err)?;
                }
                Some(None) => {
                    tx.execute("DELETE FROM delta_tokens WHERE connector = ?1", params![r.connector]).map_err(err)?;
                }
                None => {}
            }
            if let Some(groups) = &changes.managed_groups {
                tx.execute("DELETE FROM managed_groups WHERE connector = ?1", params![r.connector]).map_err(err)?;
                let mut insert = tx.prepare("INSERT INTO managed_groups (connector, name) VALUES (?1, ?2)").map_err(err)?;
                for g in groups {
                    insert.execute(params![r.connector, g]).map_err(err)?;
                }
            }
            tx.commit().map_err(err)
        })
    }

    fn record_progress(&self, r: &RunRecord, results: &[UserResult], changes: &StateChanges) -> Result<(), StoreError> {
        let body = chunk_body(results)?;
        self.with(|c| {
            let tx = c.transaction().map_err(err)?;
            write_progress(&tx, r, body.as_deref(), changes)?;
            tx.commit().map_err(err)
        })
    }

    fn runs(&self, connector: Option<&str>, limit: usize) -> Result<Vec<RunRecord>, StoreError> {
        self.with(|c| {
            let mut stmt = c
                .prepare(&format!(
                    "SELECT {RUN_COLUMNS} FROM runs WHERE ?1 IS NULL OR connector = ?1 ORDER BY id DESC LIMIT ?2"
                ))
                .map_err(err)?;
            let rows = stmt.query_map(params![connector, limit as i64], run_row).map_err(err)?;
            rows.collect::<Result<_, _>>().map_err(err)
        })
    }

    fn run(&self, id: i64) -> Result<Option<RunRecord>, StoreError> {
        self.with(|c| {
            c.query_row(&format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1"), params![id], run_row)
                .optional()
                .map_err(err)
        })
    }

    fn results(&self, run_id: i64) -> Result<Vec<UserResult>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT body FROM results WHERE run_id = ?1 ORDER BY seq").map_err(err)?;
            let mut rows = stmt.query(params![run_id]).map_err(err)?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().map_err(err)? {
                let body = row.get_ref(0).and_then(|v| v.as_str().map_err(Into::into)).map_err(err)?;
                // A chunk's results in one array; files from before chunks hold one per row.
                if body.starts_with('[') {
                    out.extend(serde_json::from_str::<Vec<UserResult>>(body).map_err(err)?);
                } else {
                    out.push(serde_json::from_str(body).map_err(err)?);
                }
            }
            Ok(out)
        })
    }

    fn mark_approved(&self, held_run: i64, by_run: i64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute("UPDATE runs SET approved_by = ?2 WHERE id = ?1", params![held_run, by_run])
                .map(|_| ())
                .map_err(err)
        })
    }

    fn heartbeat(&self, run_id: i64, at: DateTime<Utc>) -> Result<bool, StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE runs SET heartbeat_ms = MAX(COALESCE(heartbeat_ms, 0), ?2) WHERE id = ?1 AND status = 'RUNNING'",
                params![run_id, at.timestamp_millis()],
            )
            .map(|n| n == 1)
            .map_err(err)
        })
    }

    fn interrupt_expired(
        &self,
        connector: &str,
        expired_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<RunRecord>, StoreError> {
        let cutoff = expired_before.timestamp_millis();
        self.with(|c| {
            let mut stmt = c
                .prepare(&format!(
                    "SELECT {RUN_COLUMNS}, heartbeat_ms, owner FROM runs WHERE connector = ?1 AND status = 'RUNNING'"
                ))
                .map_err(err)?;
            let running = stmt
                .query_map(params![connector], |r| {
                    Ok((run_row(r)?, r.get::<_, Option<i64>>(17)?, r.get::<_, Option<String>>(18)?))
                })
                .map_err(err)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(err)?;
            let mut marked = Vec::new();
            for (mut run, beat, owner) in running {
                // A file from before leases has no heartbeat: the start time stands in for it.
                let last = beat.unwrap_or_else(|| run.started_at.timestamp_millis());
                if !interrupt(&mut run, owner.as_deref(), last, cutoff, now) {
                    continue;
                }
                // Only if the lease is still the one read: a run that renewed it meanwhile is alive.
                let n = c
                    .execute(
                        "UPDATE runs SET status = 'FAILED', ended_at = ?2, error = ?3
                         WHERE id = ?1 AND status = 'RUNNING' AND COALESCE(heartbeat_ms, -1) = COALESCE(?4, -1)",
                        params![run.id, run.ended_at.map(|t| t.to_rfc3339()), run.error, beat],
                    )
                    .map_err(err)?;
                if n == 1 {
                    marked.push(run);
                }
            }
            Ok(marked)
        })
    }

    fn claim_fire(&self, connector: &str, kind: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO schedule_fires (connector, fire_at, kind, claimed_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (connector, fire_at) DO NOTHING",
                params![connector, fire_key(at), kind, Utc::now().to_rfc3339()],
            )
            .map(|n| n == 1)
            .map_err(err)
        })
    }

    fn last_fire(&self, connector: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.with(|c| {
            let at: Option<String> = c
                .query_row("SELECT MAX(fire_at) FROM schedule_fires WHERE connector = ?1", params![connector], |r| {
                    r.get(0)
                })
                .map_err(err)?;
            Ok(time(at))
        })
    }

    fn prune(&self, keep_runs: usize, older_than: DateTime<Utc>) -> Result<usize, StoreError> {
        let doomed = self.with(|c| prunable(c, keep_runs, older_than))?;
        for id in &doomed {
            // Results first, in small transactions: a run can hold 100,000 of them.
            loop {
                let n = self.with(|c| {
                    c.execute(
                        "DELETE FROM results WHERE rowid IN (SELECT rowid FROM results WHERE run_id = ?1 LIMIT 2000)",
                        params![id],
                    )
                    .map_err(err)
                })?;
                if n == 0 {
                    break;
                }
            }
            self.with(|c| c.execute("DELETE FROM runs WHERE id = ?1", params![id]).map_err(err))?;
        }
        self.with(|c| {
            c.execute("DELETE FROM schedule_fires WHERE fire_at < ?1", params![fire_key(older_than)]).map_err(err)
        })?;
        Ok(doomed.len())
    }

    fn config(&self) -> Result<Option<(String, String)>, StoreError> {
        self.with(|c| {
            c.query_row("SELECT json, base_dir FROM config WHERE id = 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
                .map_err(err)
        })
    }

    fn put_config(&self, json: &str, base_dir: &str) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO config (id, json, base_dir, updated_at) VALUES (1, ?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET json = excluded.json, base_dir = excluded.base_dir, updated_at = excluded.updated_at",
                params![json, base_dir, Utc::now().to_rfc3339()],
            )
            .map(|_| ())
            .map_err(err)
        })
    }

    fn scim_resources(&self, connector: &str, kind: &str) -> Result<Vec<String>, StoreError> {
        self.with(|c| {
            let mut stmt = c
                .prepare("SELECT json FROM scim_resources WHERE connector = ?1 AND kind = ?2 ORDER BY id")
                .map_err(err)?;
            let rows = stmt.query_map(params![connector, kind], |r| r.get(0)).map_err(err)?;
            rows.collect::<Result<Vec<String>, _>>().map_err(err)
        })
    }

    fn scim_resource(&self, connector: &str, kind: &str, id: &str) -> Result<Option<String>, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT json FROM scim_resources WHERE connector = ?1 AND kind = ?2 AND id = ?3",
                params![connector, kind, id],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)
        })
    }

    fn put_scim_resource(&self, connector: &str, kind: &str, id: &str, json: Option<&str>) -> Result<(), StoreError> {
        self.with(|c| {
            match json {
                Some(j) => c.execute(
                    "INSERT INTO scim_resources (connector, kind, id, json) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (connector, kind, id) DO UPDATE SET json = excluded.json",
                    params![connector, kind, id, j],
                ),
                None => c.execute(
                    "DELETE FROM scim_resources WHERE connector = ?1 AND kind = ?2 AND id = ?3",
                    params![connector, kind, id],
                ),
            }
            .map(|_| ())
            .map_err(err)
        })
    }
}

/// The runs retention removes (see `StateStore::prune`), oldest first.
fn prunable(c: &Connection, keep_runs: usize, older_than: DateTime<Utc>) -> Result<Vec<i64>, StoreError> {
    let mut stmt =
        c.prepare("SELECT id, connector, started_at, status, simulate, approved_by, mode FROM runs").map_err(err)?;
    let rows: Vec<retention::Row> = stmt
        .query_map([], |r| {
            Ok(retention::Row {
                id: r.get(0)?,
                connector: r.get(1)?,
                started_at: time(Some(r.get(2)?)),
                status: RunStatus::parse(&r.get::<_, String>(3)?).unwrap_or(RunStatus::Failed),
                simulate: r.get(4)?,
                approved_by: r.get(5)?,
                mode: r.get(6)?,
            })
        })
        .map_err(err)?
        .collect::<Result<_, _>>()
        .map_err(err)?;
    Ok(retention::doomed(rows, keep_runs, older_than))
}

/// Appends a run's per-user results (after those already stored) and writes anchor changes.
fn write_progress(
    tx: &rusqlite::Transaction,
    r: &RunRecord,
    body: Option<&str>,
    changes: &StateChanges,
) -> Result<(), StoreError> {
    let next: i64 = tx
        .prepare_cached("SELECT COALESCE(MAX(seq) + 1, 0) FROM results WHERE run_id = ?1")
        .and_then(|mut s| s.query_row(params![r.id], |row| row.get(0)))
        .map_err(err)?;
    // The run's counts so far: a run that dies after this chunk shows what it did.
    let counts = json(&r.counts)?;
    tx.prepare_cached("UPDATE runs SET counts = ?2, writes = ?3 WHERE id = ?1")
        .and_then(|mut s| s.execute(params![r.id, counts, r.writes as i64]))
        .map_err(err)?;
    if let Some(body) = body {
        tx.prepare_cached("INSERT INTO results (run_id, seq, body) VALUES (?1, ?2, ?3)")
            .and_then(|mut s| s.execute(params![r.id, next, body]))
            .map_err(err)?;
    }
    let mut upsert = tx
        .prepare_cached(
            "INSERT INTO identities (connector, idp_id, dir_key, username, gone_since, disabled_by_sync_at, anonymised, photo_etag, source_version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (connector, idp_id) DO UPDATE SET dir_key = excluded.dir_key,
               username = excluded.username, gone_since = excluded.gone_since,
               disabled_by_sync_at = excluded.disabled_by_sync_at, anonymised = excluded.anonymised,
               photo_etag = excluded.photo_etag, source_version = excluded.source_version",
        )
        .map_err(err)?;
    for i in &changes.upsert {
        upsert
            .execute(params![
                r.connector,
                i.idp_id.as_str(),
                i.key.as_str(),
                i.username.as_str(),
                i.gone_since.map(|t| t.to_rfc3339()),
                i.disabled_by_sync_at.map(|t| t.to_rfc3339()),
                i.anonymised,
                i.photo_etag,
                i.source_version
            ])
            .map_err(err)?;
    }
    let mut remove = tx.prepare_cached("DELETE FROM identities WHERE connector = ?1 AND idp_id = ?2").map_err(err)?;
    for id in &changes.remove {
        remove.execute(params![r.connector, id]).map_err(err)?;
    }
    Ok(())
}

/// A text column as a compact string: short ones (most ids, keys and usernames) need no
/// allocation of their own.
fn compact(r: &rusqlite::Row, i: usize) -> rusqlite::Result<crate::model::CompactString> {
    Ok(crate::model::CompactString::new(r.get_ref(i)?.as_str()?))
}
