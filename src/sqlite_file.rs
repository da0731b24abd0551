//! Opening the SQLite files the state store and the local directory live in.

use std::path::Path;

use rusqlite::Connection;

/// Opens (creating the parent directory) or, with `None`, makes an in-memory database, with
/// the settings both files share: WAL so readers (history) never wait for a running sync, a busy
/// timeout for a second process, foreign keys on (the local directory turns them off and keeps
/// its references itself), and plans fixed when a statement is prepared. Then brings the file to the schema
/// `version` (SQLite's `user_version`): `migrations[i]` turns version `i + 1` into `i + 2`, and
/// `schema` (idempotent) creates what is missing. A file written by a newer build is refused with
/// a clear message instead of failing later on a missing column.
pub(crate) fn open(path: Option<&Path>, schema: &str, version: i64, migrations: &[&str]) -> Result<Connection, String> {
    let conn = match path {
        Some(path) => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                if !parent.exists() {
                    crate::private_file::create_dir(parent)
                        .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
                }
            }
            // Owner-only before SQLite first writes to it; SQLite gives its -wal and -shm files
            // the database file's permissions.
            crate::private_file::ensure(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
            Connection::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?
        }
        None => Connection::open_in_memory().map_err(|e| e.to_string())?,
    };
    debug_assert_eq!(migrations.len() as i64, version - 1, "one migration per version step");
    let name = || path.map(|p| p.display().to_string()).unwrap_or_default();
    let setup = || -> rusqlite::Result<()> {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // A statement whose plan could depend on a bound value (a parameter in a join's
        // condition, say) is otherwise compiled again whenever that value changes: a cached
        // statement run once per user would be compiled once per user. Nothing here is planned
        // better by looking at its values: no file is ANALYZEd and no LIKE takes a parameter.
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
    };
    busy_retry(setup).map_err(|e| format!("{}: {e}", name()))?;
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| format!("{}: {e}", name()))?;
    if found > version {
        return Err(format!(
            "{} has schema version {found}, this build reads up to version {version} \
             (use the newer build that wrote it)",
            name()
        ));
    }
    // Migrations and the schema in one transaction: a second process opening the same file at
    // the same time waits (busy timeout) and then finds it done.
    let upgrade = |conn: &Connection| -> rusqlite::Result<()> {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let result = (|| {
            let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            if found > 0 {
                for step in &migrations[(found as usize - 1).min(migrations.len())..] {
                    conn.execute_batch(step)?;
                }
            }
            conn.execute_batch(schema)?;
            conn.execute_batch(&format!("PRAGMA user_version = {version}"))
        })();
        conn.execute_batch(if result.is_ok() { "COMMIT" } else { "ROLLBACK" })?;
        result
    };
    if found < version {
        busy_retry(|| upgrade(&conn))
            .map_err(|e| format!("{}: cannot bring the schema to version {version}: {e}", name()))?;
    } else {
        // Current already; the schema statements only create what a partial file lacks.
        conn.execute_batch(schema).map_err(|e| format!("{}: {e}", name()))?;
    }
    Ok(conn)
}

/// Retries `step` while another connection holds the file: switching a new file to WAL takes a
/// lock that SQLite's busy timeout does not wait for, so two processes opening one new file at
/// once (two daemons starting together) would otherwise fail with "database is locked".
fn busy_retry<T>(mut step: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match step() {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(e.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}
