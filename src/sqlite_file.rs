//! Opening the SQLite files the state store and the local directory live in.

use std::path::Path;

use rusqlite::Connection;

/// Opens (creating the parent directory) or, with `None`, makes an in-memory database, with
/// the settings both files share: WAL so readers (history) never wait for a running sync, a busy
/// timeout for a second process, and foreign keys on. Then runs `schema` and checks the file's
/// schema `version` (SQLite's `user_version`): a file written by another version of the schema
/// is refused with a clear message instead of failing later on a missing column.
pub(crate) fn open(path: Option<&Path>, schema: &str, version: i64) -> Result<Connection, String> {
    let conn = match path {
        Some(path) => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
            }
            Connection::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?
        }
        None => Connection::open_in_memory().map_err(|e| e.to_string())?,
    };
    let setup = || -> rusqlite::Result<()> {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")?;
        conn.execute_batch(schema)
    };
    setup().map_err(|e| e.to_string())?;
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| e.to_string())?;
    match found {
        0 => conn.execute_batch(&format!("PRAGMA user_version = {version}")).map_err(|e| e.to_string())?,
        v if v == version => {}
        v => {
            let name = path.map(|p| p.display().to_string()).unwrap_or_default();
            return Err(format!(
                "{name} has schema version {v}, this build reads version {version}; there is no migration yet \
                 (use a new data directory, or the build that wrote it)"
            ));
        }
    }
    Ok(conn)
}
