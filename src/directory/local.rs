//! The embedded local directory: a SQLite file that stands in for the application when no
//! Atlassian host is present (the CLI, tests, and the quick start).

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OptionalExtension};

use super::{Capabilities, DirError, Directory, FieldWrite, NewUser};
use crate::model::{CompactString, DirectoryUser, NameSet, Target, TextMap, PROFILE_FIELDS};

pub struct LocalDirectory {
    conn: Mutex<Connection>,
    /// The file, named in failures.
    name: String,
}

/// Bumped whenever SCHEMA changes shape, with a step in MIGRATIONS.
const SCHEMA_VERSION: i64 = 3;

/// `MIGRATIONS[i]` turns a version `i + 1` file into version `i + 2`.
const MIGRATIONS: [&str; 2] = [
    // 2: when each user was created and last logged in (milliseconds since 1970), for the
    // idle-user cleanup.
    "ALTER TABLE users ADD COLUMN created_ms INTEGER; ALTER TABLE users ADD COLUMN last_login_ms INTEGER;",
    // 3: a user's other values move from a row each in `fields` into the user's own row.
    "ALTER TABLE users ADD COLUMN fields TEXT NOT NULL DEFAULT '{}';
     UPDATE users SET fields = (SELECT json_group_object(f.target, f.value) FROM fields f WHERE f.user_id = users.id)
         WHERE id IN (SELECT user_id FROM fields);
     DROP TABLE fields;",
];

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name TEXT NOT NULL,
    email TEXT,
    active INTEGER NOT NULL,
    external_id TEXT,
    created_ms INTEGER,
    last_login_ms INTEGER,
    -- Properties and profile fields, one JSON object of target -> text (local_fields.rs): a
    -- listing reads a row per user, not a row per value.
    fields TEXT NOT NULL DEFAULT '{}'
);
-- A partial run looks up each new user's external id (a lost anchor): without this index each
-- look-up read the whole table, about 4 s of CPU for 200 new users among 100,000.
CREATE INDEX IF NOT EXISTS users_by_external_id ON users(external_id);
CREATE TABLE IF NOT EXISTS groups (name TEXT PRIMARY KEY COLLATE NOCASE);
CREATE TABLE IF NOT EXISTS memberships (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    group_name TEXT NOT NULL REFERENCES groups(name) ON DELETE CASCADE,
    PRIMARY KEY (user_id, group_name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS avatars (
    user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    image BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS locks (name TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
";

/// A user into the groups named in a JSON array. `g.name = j.value` compares with the groups'
/// own collation (NOCASE) and finds each name through their index; the group's own spelling is
/// what is inserted.
const ADD_MEMBERSHIPS: &str = "INSERT OR IGNORE INTO memberships (user_id, group_name) \
    SELECT ?1, g.name FROM json_each(?2) j JOIN groups g ON g.name = j.value WHERE EXISTS (SELECT 1 FROM users WHERE id = ?1)";

/// Runs a statement from the connection's cache of prepared statements: a run writes the same
/// few statements hundreds of thousands of times, and compiling each again was most of its CPU.
fn run(c: &Connection, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize> {
    c.prepare_cached(sql)?.execute(params)
}

fn failed(e: rusqlite::Error) -> DirError {
    DirError::Failed(format!("local directory: {e}"))
}

impl LocalDirectory {
    /// The avatar stored for a user, if any (for `usersync users` and tests).
    pub fn avatar(&self, key: &str) -> Result<Option<Vec<u8>>, DirError> {
        let id = Self::id(key)?;
        self.with(|c| {
            c.query_row("SELECT image FROM avatars WHERE user_id = ?1", params![id], |r| r.get(0))
                .optional()
                .map_err(failed)
        })
    }

    pub fn open(path: &Path) -> Result<LocalDirectory, DirError> {
        Self::init(Some(path))
    }

    pub fn in_memory() -> Result<LocalDirectory, DirError> {
        Self::init(None)
    }

    fn init(path: Option<&Path>) -> Result<LocalDirectory, DirError> {
        let conn = crate::sqlite_file::open(path, SCHEMA, SCHEMA_VERSION, &MIGRATIONS)
            .map_err(|e| DirError::Failed(format!("local directory: {e}")))?;
        // The references are kept by this file's own statements (every insert that names a user
        // checks it exists, `delete_user` removes what was the user's), not checked by SQLite
        // on every row: that check opened a statement journal and searched users and groups
        // again for each of a full run's 200,000 memberships, a sixteenth of its instructions.
        conn.execute_batch("PRAGMA foreign_keys=OFF").map_err(|e| DirError::Failed(format!("local directory: {e}")))?;
        let name = path.map(|p| p.display().to_string()).unwrap_or_else(|| "(in memory)".into());
        Ok(LocalDirectory { conn: Mutex::new(conn), name })
    }

    fn with<T>(&self, f: impl FnOnce(&Connection) -> Result<T, DirError>) -> Result<T, DirError> {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&conn).map_err(|e| match e {
            DirError::Failed(m) => DirError::Failed(format!("{m} ({})", self.name)),
            other => other,
        })
    }

    fn id(key: &str) -> Result<i64, DirError> {
        key.parse().map_err(|_| DirError::NotFound(key.to_string()))
    }

    /// Sets (or, with `None`, removes) values in a user's `fields` column, in one statement
    /// that also proves the user exists.
    fn patch_fields(&self, key: &str, writes: &[(&Target, Option<&str>)]) -> Result<(), DirError> {
        let patch = super::local_fields::patch(writes);
        // Onto no values yet (a new user), a patch that removes nothing is the column itself:
        // json_patch parsed both texts and wrote a third, half of the statement's cost.
        let sets_only = writes.iter().all(|(_, v)| v.is_some());
        self.exec_user(
            key,
            "UPDATE users SET fields = CASE WHEN ?3 AND fields = '{}' THEN ?2 ELSE json_patch(fields, ?2) END \
             WHERE id = ?1",
            params![Self::id(key)?, patch, sets_only],
        )
    }

    /// Adds a user to several groups in one statement: how many memberships it inserted. Fewer
    /// than asked means some group is missing or the user was in it already; the caller then
    /// adds them one by one to learn which. A full run adds 200,000 memberships; one statement a
    /// user instead of one a membership took a sixth off their instructions.
    fn add_memberships<'g>(&self, key: &str, groups: impl Iterator<Item = &'g str>) -> Result<usize, DirError> {
        let id = Self::id(key)?;
        let names = serde_json::to_string(&groups.collect::<Vec<_>>()).map_err(|e| DirError::Failed(e.to_string()))?;
        self.with(|c| run(c, ADD_MEMBERSHIPS, params![id, names]).map_err(failed))
    }

    /// Inserts a user with its other values (`fields`, a JSON object) and returns its key.
    fn insert_user(&self, user: &NewUser, fields: &str) -> Result<String, DirError> {
        self.with(|c| {
            match run(
                c,
                "INSERT INTO users (username, display_name, email, active, external_id, created_ms, fields) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![user.username, user.display_name, user.email, user.active, user.external_id, now_ms(), fields],
            ) {
                Ok(_) => Ok(c.last_insert_rowid().to_string()),
                Err(e) if is_unique(&e) => {
                    Err(DirError::Conflict(format!("username '{}' already exists", user.username)))
                }
                Err(e) => Err(failed(e)),
            }
        })
    }

    /// Runs one statement that must touch exactly one user row.
    fn exec_user(&self, key: &str, sql: &str, params: impl rusqlite::Params) -> Result<(), DirError> {
        self.with(|c| match run(c, sql, params) {
            Ok(0) => Err(DirError::NotFound(key.to_string())),
            Ok(_) => Ok(()),
            Err(e) if is_unique(&e) => Err(DirError::Conflict(format!("username already taken ({e})"))),
            Err(e) => Err(failed(e)),
        })
    }
}

/// Whether `set_field` may write this target here: a value beyond the core fields that the
/// local directory holds.
fn writable(target: &Target) -> Result<(), DirError> {
    if !local_capabilities().supports(target) || !target.is_value() || target.is_core() {
        return Err(DirError::Unsupported(target.to_string()));
    }
    Ok(())
}

fn is_unique(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
}

/// What the local directory can hold: the same every call, so built once (`set_field` asks for
/// every value it writes).
fn local_capabilities() -> &'static Capabilities {
    static LOCAL: std::sync::OnceLock<Capabilities> = std::sync::OnceLock::new();
    LOCAL.get_or_init(|| Capabilities {
        properties: true,
        profile_fields: PROFILE_FIELDS.iter().map(|s| s.to_string()).collect(),
        communardo: false,
        linchpin: false,
        jsm_organizations: false,
        avatars: true,
        create_groups: true,
    })
}

impl Directory for LocalDirectory {
    fn capabilities(&self) -> Result<Capabilities, DirError> {
        Ok(local_capabilities().clone())
    }

    fn list_users(&self) -> Result<Vec<DirectoryUser>, DirError> {
        self.with(|c| load_users(c, Which::All))
    }

    fn find_user(&self, username: &str) -> Result<Option<DirectoryUser>, DirError> {
        self.with(|c| Ok(load_users(c, Which::Username(username))?.pop()))
    }

    fn find_by_external_id(&self, external_id: &str) -> Result<Option<DirectoryUser>, DirError> {
        self.with(|c| Ok(load_users(c, Which::ExternalId(external_id))?.pop()))
    }

    fn users_by_keys(&self, keys: &[String]) -> Result<Vec<DirectoryUser>, DirError> {
        // Keys that are not row ids name nobody here.
        let ids: Vec<i64> = keys.iter().filter_map(|k| k.parse().ok()).collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = serde_json::to_string(&ids).expect("numbers serialise");
        self.with(|c| load_users(c, Which::Ids(ids)))
    }

    fn list_groups(&self) -> Result<BTreeSet<String>, DirError> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT name FROM groups").map_err(failed)?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(failed)?;
            rows.collect::<Result<_, _>>().map_err(failed)
        })
    }

    fn create_user(&self, user: &NewUser) -> Result<String, DirError> {
        self.insert_user(user, "{}")
    }

    /// The values a new user is given go into its row as it is inserted, not into a second
    /// statement that finds the row again and writes it anew (a 100,000-user first run wrote
    /// every new row twice). Memberships follow as `write_fields` adds them.
    fn create_user_with(
        &self,
        user: &NewUser,
        writes: &[FieldWrite<'_>],
    ) -> (Result<String, DirError>, Vec<Result<(), DirError>>) {
        let inline = |w: &FieldWrite| matches!(w, FieldWrite::Set(t, Some(_)) if writable(t).is_ok());
        let values: Vec<(&Target, Option<&str>)> = writes
            .iter()
            .filter(|w| inline(w))
            .filter_map(|w| match w {
                FieldWrite::Set(target, value) => Some((*target, *value)),
                _ => None,
            })
            .collect();
        // A removal among them (nothing to remove yet, but its order against the sets counts):
        // as two calls.
        if values.is_empty() || writes.iter().any(|w| matches!(w, FieldWrite::Set(_, None))) {
            return super::create_then_write(self, user, writes);
        }
        let key = match self.insert_user(user, &super::local_fields::patch(&values)) {
            Ok(key) => key,
            Err(e) => return (Err(e), Vec::new()),
        };
        let rest: Vec<FieldWrite> = writes.iter().filter(|w| !inline(w)).copied().collect();
        let mut rest_results = if rest.is_empty() { Vec::new() } else { self.write_fields(&key, &rest) }.into_iter();
        let results = writes
            .iter()
            .map(|w| {
                if inline(w) {
                    Ok(())
                } else {
                    rest_results.next().unwrap_or(Err(DirError::Failed("no result".into())))
                }
            })
            .collect();
        (Ok(key), results)
    }

    fn update_core(&self, key: &str, changes: &[(Target, Option<String>)]) -> Result<(), DirError> {
        let id = Self::id(key)?;
        for (target, value) in changes {
            match target {
                // The application requires a display name; clearing it falls back to the username.
                Target::DisplayName => self.exec_user(
                    key,
                    "UPDATE users SET display_name = COALESCE(?2, username) WHERE id = ?1",
                    params![id, value],
                )?,
                Target::Email => {
                    self.exec_user(key, "UPDATE users SET email = ?2 WHERE id = ?1", params![id, value])?
                }
                other => return Err(DirError::Unsupported(format!("'{other}' is not a core field"))),
            }
        }
        Ok(())
    }

    fn rename(&self, key: &str, new_username: &str) -> Result<(), DirError> {
        self.exec_user(key, "UPDATE users SET username = ?2 WHERE id = ?1", params![Self::id(key)?, new_username])
    }

    fn record_login(&self, key: &str, at: chrono::DateTime<chrono::Utc>) -> Result<(), DirError> {
        let at = at.timestamp_millis();
        self.exec_user(key, "UPDATE users SET last_login_ms = ?2 WHERE id = ?1", params![Self::id(key)?, at])
    }

    fn set_active(&self, key: &str, active: bool) -> Result<(), DirError> {
        self.exec_user(key, "UPDATE users SET active = ?2 WHERE id = ?1", params![Self::id(key)?, active])
    }

    fn delete_user(&self, key: &str) -> Result<(), DirError> {
        let id = Self::id(key)?;
        // What was the user's goes with the user (the file's foreign keys are not enforced, see
        // `init`), all or nothing.
        self.with(|c| {
            in_step(c, || {
                run(c, "DELETE FROM memberships WHERE user_id = ?1", params![id]).map_err(failed)?;
                run(c, "DELETE FROM avatars WHERE user_id = ?1", params![id]).map_err(failed)?;
                match run(c, "DELETE FROM users WHERE id = ?1", params![id]).map_err(failed)? {
                    0 => Err(DirError::NotFound(key.to_string())),
                    _ => Ok(()),
                }
            })
        })
    }

    fn anonymise(&self, key: &str) -> Result<String, DirError> {
        let id = Self::id(key)?;
        let placeholder = format!("anonymised-{id}");
        self.with(|c| {
            in_step(c, || {
                let n = run(
                    c,
                    "UPDATE users SET username = ?2, display_name = 'Anonymised user', email = NULL, active = 0, \
                     fields = '{}' WHERE id = ?1",
                    params![id, placeholder],
                )
                .map_err(failed)?;
                if n == 0 {
                    return Err(DirError::NotFound(key.to_string()));
                }
                Ok(())
            })
        })?;
        Ok(placeholder)
    }

    fn set_field(&self, key: &str, target: &Target, value: Option<&str>) -> Result<(), DirError> {
        writable(target)?;
        self.patch_fields(key, &[(target, value)])
    }

    /// A user's value writes in one statement, and its new memberships in one more, each with
    /// its own result: a target this directory cannot hold fails alone.
    fn write_fields(&self, key: &str, writes: &[FieldWrite<'_>]) -> Vec<Result<(), DirError>> {
        let mut results: Vec<Option<Result<(), DirError>>> = vec![None; writes.len()];
        let mut values = Vec::new();
        // Added together only when nothing is removed in the same run: then their order
        // against the removals cannot matter.
        let together = !writes.iter().any(|w| matches!(w, FieldWrite::RemoveGroup(_)));
        let mut added: Vec<(usize, &str)> = Vec::new();
        for (i, w) in writes.iter().enumerate() {
            match w {
                FieldWrite::Set(target, value) => match writable(target) {
                    Ok(()) => values.push((i, (*target, *value))),
                    Err(e) => results[i] = Some(Err(e)),
                },
                FieldWrite::AddGroup(group) if together => added.push((i, group)),
                FieldWrite::AddGroup(group) => results[i] = Some(self.add_membership(key, group)),
                FieldWrite::RemoveGroup(group) => results[i] = Some(self.remove_membership(key, group)),
            }
        }
        if added.len() > 1
            && matches!(self.add_memberships(key, added.iter().map(|(_, g)| *g)), Ok(n) if n == added.len())
        {
            added.clear();
            for (i, _) in writes.iter().enumerate().filter(|(_, w)| matches!(w, FieldWrite::AddGroup(_))) {
                results[i] = Some(Ok(()));
            }
        }
        // One at a time (a single one, or some of several not inserted): each tells its own fate.
        for (i, group) in added {
            results[i] = Some(self.add_membership(key, group));
        }
        if !values.is_empty() {
            let pairs: Vec<(&Target, Option<&str>)> = values.iter().map(|(_, p)| *p).collect();
            let outcome = self.patch_fields(key, &pairs);
            for (i, _) in values {
                results[i] = Some(outcome.clone());
            }
        }
        results.into_iter().map(|r| r.unwrap_or(Ok(()))).collect()
    }

    fn add_membership(&self, key: &str, group: &str) -> Result<(), DirError> {
        let id = Self::id(key)?;
        self.with(|c| {
            // The group's own spelling of its name comes from the groups table, in the insert.
            let inserted = run(
                c,
                "INSERT OR IGNORE INTO memberships (user_id, group_name) SELECT ?1, name FROM groups \
                 WHERE name = ?2 AND EXISTS (SELECT 1 FROM users WHERE id = ?1)",
                params![id, group],
            )
            .map_err(failed)?;
            if inserted == 0 {
                // Already a member, no such group or no such user: only then are they read.
                let found: Option<String> = c
                    .prepare_cached("SELECT name FROM groups WHERE name = ?1")
                    .and_then(|mut s| s.query_row(params![group], |r| r.get(0)).optional())
                    .map_err(failed)?;
                found.ok_or_else(|| DirError::NotFound(format!("group '{group}'")))?;
                if !user_exists(c, id)? {
                    return Err(DirError::NotFound(key.to_string()));
                }
            }
            Ok(())
        })
    }

    fn remove_membership(&self, key: &str, group: &str) -> Result<(), DirError> {
        let id = Self::id(key)?;
        self.with(|c| {
            run(c, "DELETE FROM memberships WHERE user_id = ?1 AND group_name = ?2 COLLATE NOCASE", params![id, group])
                .map(|_| ())
                .map_err(failed)
        })
    }

    fn create_group(&self, name: &str) -> Result<(), DirError> {
        self.with(|c| {
            run(c, "INSERT OR IGNORE INTO groups (name) VALUES (?1)", params![name]).map(|_| ()).map_err(failed)
        })
    }

    fn set_avatar(&self, key: &str, image: &[u8]) -> Result<(), DirError> {
        let id = Self::id(key)?;
        if image.is_empty() {
            return self
                .with(|c| run(c, "DELETE FROM avatars WHERE user_id = ?1", params![id]).map(|_| ()).map_err(failed));
        }
        self.exec_user(
            key,
            "INSERT INTO avatars (user_id, image) SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM users WHERE id = ?1) \
             ON CONFLICT (user_id) DO UPDATE SET image = excluded.image",
            params![id, image],
        )
    }

    /// One SQLite transaction per batch: a commit per write would cost more than the writes.
    fn begin_batch(&self) -> Result<(), DirError> {
        self.with(|c| if c.is_autocommit() { c.execute_batch("BEGIN").map_err(failed) } else { Ok(()) })
    }

    fn end_batch(&self) -> Result<(), DirError> {
        self.with(|c| {
            if c.is_autocommit() {
                return Ok(());
            }
            c.execute_batch("COMMIT").map_err(|e| {
                // Never leave the connection inside a half-done transaction.
                let _ = c.execute_batch("ROLLBACK");
                failed(e)
            })
        })
    }

    fn try_lock(&self, name: &str, ttl_seconds: u64) -> Result<bool, DirError> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        self.with(|c| {
            let n = c
                .execute(
                    "INSERT INTO locks (name, expires_at) VALUES (?1, ?2)
                     ON CONFLICT (name) DO UPDATE SET expires_at = excluded.expires_at WHERE locks.expires_at < ?3",
                    params![name, now + ttl_seconds as i64, now],
                )
                .map_err(failed)?;
            Ok(n == 1)
        })
    }

    fn unlock(&self, name: &str) -> Result<(), DirError> {
        self.with(|c| c.execute("DELETE FROM locks WHERE name = ?1", params![name]).map(|_| ()).map_err(failed))
    }
}

/// Which users `load_users` reads.
enum Which<'a> {
    All,
    /// By username, case-insensitively (the column's collation).
    Username(&'a str),
    ExternalId(&'a str),
    /// By row ids (the keys), given as a JSON array for SQLite's `json_each`.
    Ids(String),
}

/// The users `which` names, with values and groups.
fn load_users(c: &Connection, which: Which) -> Result<Vec<DirectoryUser>, DirError> {
    // The three queries are restricted to the same users.
    let condition = match which {
        Which::All => None,
        Which::Username(_) => Some("username = ?1"),
        Which::ExternalId(_) => Some("external_id = ?1"),
        Which::Ids(_) => Some("id IN (SELECT value FROM json_each(?1))"),
    };
    let (user_filter, id_filter) = match condition {
        Some(cond) => (format!(" WHERE {cond}"), format!(" WHERE user_id IN (SELECT id FROM users WHERE {cond})")),
        None => (String::new(), String::new()),
    };
    let params: Vec<&dyn rusqlite::ToSql> = match &which {
        Which::All => vec![],
        Which::Username(v) | Which::ExternalId(v) => vec![v],
        Which::Ids(ids) => vec![ids],
    };
    // Users in id order, found again by their position: no map of 100,000 entries to build, and
    // no copy of every user out of one at the end.
    // A listing of everyone is sized once by a count, not grown by doubling (each step a copy).
    let expected = match which {
        Which::All => c.query_row("SELECT COUNT(*) FROM users", [], |r| r.get::<_, i64>(0)).map_err(failed)?,
        _ => 0,
    };
    let expected = usize::try_from(expected).unwrap_or(0);
    let mut ids: Vec<i64> = Vec::with_capacity(expected);
    let mut users: Vec<DirectoryUser> = Vec::with_capacity(expected);
    let mut stmt = c
        .prepare(&format!(
            "SELECT id, username, display_name, email, active, external_id, created_ms, last_login_ms, fields \
             FROM users{user_filter} ORDER BY id"
        ))
        .map_err(failed)?;
    let mut rows = stmt.query(params.as_slice()).map_err(failed)?;
    let mut fields = super::local_fields::FieldsBuffer::default();
    while let Some(r) = rows.next().map_err(failed)? {
        let id: i64 = r.get(0).map_err(failed)?;
        let text = |i: usize| r.get_ref(i).and_then(|v| v.as_str_or_null().map_err(Into::into)).map_err(failed);
        fields.read(text(8)?.unwrap_or("{}")).map_err(|e| {
            DirError::Failed(format!("local directory: the values of user {id} are not a JSON object of texts: {e}"))
        })?;
        // Core and other values packed together, once.
        let display_name = (&Target::DisplayName, text(2)?.unwrap_or_default());
        let email = text(3)?.map(|e| (&Target::Email, e));
        let time = |i: usize| -> Result<_, DirError> {
            Ok(r.get::<_, Option<i64>>(i).map_err(failed)?.and_then(chrono::DateTime::from_timestamp_millis))
        };
        users.push(DirectoryUser {
            key: compact_str::ToCompactString::to_compact_string(&id),
            username: CompactString::new(text(1)?.unwrap_or_default()),
            active: r.get(4).map_err(failed)?,
            values: TextMap::from_pairs(std::iter::once(display_name).chain(email).chain(fields.pairs())),
            groups: NameSet::new(),
            external_id: text(5)?.map(CompactString::new),
            created_at: time(6)?,
            last_login: time(7)?,
            admin: false,
        });
        ids.push(id);
    }
    drop(rows);
    // Memberships in user order too (their key's order, so SQLite sorts nothing): each finds its
    // user by walking forward, not by a binary search with a cache miss at every step.
    let mut stmt = c
        .prepare(&format!("SELECT user_id, group_name FROM memberships{id_filter} ORDER BY user_id"))
        .map_err(failed)?;
    let mut rows = stmt.query(params.as_slice()).map_err(failed)?;
    let mut at = 0;
    while let Some(r) = rows.next().map_err(failed)? {
        let id: i64 = r.get(0).map_err(failed)?;
        while at < ids.len() && ids[at] < id {
            at += 1;
        }
        if ids.get(at) == Some(&id) {
            users[at].groups.insert(r.get_ref(1).and_then(|v| v.as_str().map_err(Into::into)).map_err(failed)?);
        }
    }
    for u in &mut users {
        u.groups.shrink_to_fit();
    }
    users.shrink_to_fit();
    Ok(users)
}

/// Runs `f` all or nothing: in a savepoint, not a transaction, so that it nests inside a batch.
fn in_step<T>(c: &Connection, f: impl FnOnce() -> Result<T, DirError>) -> Result<T, DirError> {
    c.execute_batch("SAVEPOINT step").map_err(failed)?;
    let done = f();
    let end = if done.is_ok() { "RELEASE step" } else { "ROLLBACK TO step; RELEASE step" };
    c.execute_batch(end).map_err(failed)?;
    done
}

fn user_exists(c: &Connection, id: i64) -> Result<bool, DirError> {
    c.prepare_cached("SELECT EXISTS (SELECT 1 FROM users WHERE id = ?1)")
        .and_then(|mut s| s.query_row(params![id], |r| r.get(0)))
        .map_err(failed)
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A new user named `name` everywhere.
    fn person(name: &str) -> NewUser {
        NewUser {
            username: name.into(),
            display_name: name.into(),
            email: None,
            active: true,
            external_id: name.into(),
        }
    }

    /// Writes without a read first still say which user or group is missing.
    #[test]
    fn writes_name_a_missing_user_or_group() {
        let d = LocalDirectory::in_memory().unwrap();
        let new = NewUser {
            username: "ann".into(),
            display_name: "Ann".into(),
            email: None,
            active: true,
            external_id: "1".into(),
        };
        let key = d.create_user(&new).unwrap();
        let team = Target::Property("team".into());
        d.set_field(&key, &team, Some("blue")).unwrap();
        d.set_field(&key, &team, None).unwrap();
        d.set_field(&key, &team, None).unwrap();
        assert!(matches!(d.set_field("999", &team, Some("x")), Err(DirError::NotFound(_))));
        assert!(matches!(d.set_field("999", &team, None), Err(DirError::NotFound(_))));
        d.create_group("Staff").unwrap();
        d.add_membership(&key, "staff").unwrap();
        d.add_membership(&key, "STAFF").unwrap();
        let groups = d.list_users().unwrap()[0].groups.clone();
        assert_eq!(groups.into_iter().collect::<Vec<_>>(), vec!["Staff"], "the group's own spelling");
        assert!(matches!(d.add_membership(&key, "nope"), Err(DirError::NotFound(m)) if m.contains("nope")));
        assert!(matches!(d.add_membership("999", "Staff"), Err(DirError::NotFound(_))));
    }

    /// SQLite does not check the file's references (see `init`): the writes keep them. Nothing
    /// written for a missing user is stored, and a deleted user takes its memberships and avatar
    /// along; `foreign_key_check` finds no row pointing nowhere.
    #[test]
    fn references_are_kept_without_sqlite_checking_them() {
        let d = LocalDirectory::in_memory().unwrap();
        let (ann, bo) = (d.create_user(&person("ann")).unwrap(), d.create_user(&person("bo")).unwrap());
        d.create_group("Staff").unwrap();
        d.create_group("Sales").unwrap();
        for key in [&ann, &bo] {
            let both = d.write_fields(key, &[FieldWrite::AddGroup("staff"), FieldWrite::AddGroup("sales")]);
            assert!(both.iter().all(Result::is_ok), "{both:?}");
            d.set_avatar(key, b"\x89PNG").unwrap();
        }
        let count = |sql: &str| d.with(|c| c.query_row(sql, [], |r| r.get::<_, i64>(0)).map_err(failed)).unwrap();
        let stored = || (count("SELECT COUNT(*) FROM memberships"), count("SELECT COUNT(*) FROM avatars"));
        assert_eq!(stored(), (4, 2));
        // A missing user (never created) is named, and nothing is stored for it.
        let gone = d.write_fields("99", &[FieldWrite::AddGroup("Staff"), FieldWrite::AddGroup("Sales")]);
        assert!(gone.iter().all(|r| matches!(r, Err(DirError::NotFound(k)) if k == "99")), "{gone:?}");
        assert!(matches!(d.add_membership("99", "Staff"), Err(DirError::NotFound(k)) if k == "99"));
        assert!(matches!(d.set_avatar("99", b"x"), Err(DirError::NotFound(k)) if k == "99"));
        assert_eq!(stored(), (4, 2));
        d.delete_user(&ann).unwrap();
        assert_eq!(stored(), (2, 1), "ann's memberships and avatar went with her");
        assert!(matches!(d.delete_user(&ann), Err(DirError::NotFound(_))));
        // Deleted, she is as missing as a user never created.
        assert!(matches!(d.add_membership(&ann, "Staff"), Err(DirError::NotFound(_))));
        assert!(matches!(d.set_avatar(&ann, b"x"), Err(DirError::NotFound(_))));
        assert!(matches!(d.write_fields(&ann, &[FieldWrite::AddGroup("Staff")])[0], Err(DirError::NotFound(_))));
        assert_eq!(stored(), (2, 1));
        let dangling = d
            .with(|c| {
                let mut s = c.prepare("PRAGMA foreign_key_check").map_err(failed)?;
                let rows = s.query_map([], |r| r.get::<_, String>(0)).map_err(failed)?;
                rows.collect::<Result<Vec<_>, _>>().map_err(failed)
            })
            .unwrap();
        assert!(dangling.is_empty(), "rows pointing nowhere in {dangling:?}");
        assert_eq!(d.list_users().unwrap().iter().map(|u| u.groups.len()).collect::<Vec<_>>(), [2]);
    }

    /// The statement a run repeats for each user is compiled once: its check that the user exists
    /// takes a parameter, which made SQLite compile it again for every new user until plans were
    /// fixed at preparation (`sqlite_file::open`), a third of a full run's instructions.
    #[test]
    fn memberships_are_added_without_compiling_their_statement_again() {
        let d = LocalDirectory::in_memory().unwrap();
        d.create_group("Staff").unwrap();
        d.create_group("Sales").unwrap();
        for name in ["ann", "bo", "cy"] {
            let key = d.create_user(&person(name)).unwrap();
            let both = d.write_fields(&key, &[FieldWrite::AddGroup("Staff"), FieldWrite::AddGroup("Sales")]);
            assert!(both.iter().all(Result::is_ok), "{both:?}");
        }
        let compiled_again = d
            .with(|c| {
                let s = c.prepare_cached(ADD_MEMBERSHIPS).map_err(failed)?;
                Ok(s.get_status(rusqlite::StatementStatus::RePrepare))
            })
            .unwrap();
        assert_eq!(compiled_again, 0);
        assert_eq!(d.list_users().unwrap().iter().filter(|u| u.groups.len() == 2).count(), 3);
    }

    /// A new user's values go in with it; its memberships, and values this directory cannot
    /// hold, keep their own results; the user ends as the two calls would leave it.
    #[test]
    fn a_user_created_with_its_writes_ends_as_created_then_written() {
        let d = LocalDirectory::in_memory().unwrap();
        d.create_group("Staff").unwrap();
        let (dept, team, odd) = (
            Target::Profile("department".into()),
            Target::Property("team".into()),
            Target::Profile("shoe_size".into()),
        );
        let writes = [
            FieldWrite::Set(&dept, Some("R&D")),
            FieldWrite::AddGroup("staff"),
            FieldWrite::AddGroup("nope"),
            FieldWrite::Set(&team, Some("blue")),
            FieldWrite::Set(&odd, Some("44")),
            FieldWrite::Set(&team, Some("green")),
        ];
        let (created, results) = d.create_user_with(&person("ann"), &writes);
        let two_calls = d.write_fields(&d.create_user(&person("cy")).unwrap(), &writes);
        assert!(created.is_ok(), "{created:?}");
        let fates = |rs: &[Result<(), DirError>]| rs.iter().map(|r| format!("{r:?}")).collect::<Vec<_>>();
        assert_eq!(fates(&results), fates(&two_calls));
        assert!(matches!(&results[2], Err(DirError::NotFound(m)) if m.contains("nope")), "{results:?}");
        assert!(matches!(&results[4], Err(DirError::Unsupported(_))), "{results:?}");
        let (ann, cy) = (d.find_user("ann").unwrap().unwrap(), d.find_user("cy").unwrap().unwrap());
        assert_eq!(
            (ann.values.get(&dept), ann.values.get(&team)),
            (Some("R&D"), Some("green")),
            "the later write wins"
        );
        let written =
            |u: &DirectoryUser| (u.values.get(&dept).map(str::to_string), u.values.get(&team).map(str::to_string));
        assert_eq!((written(&ann), &ann.groups), (written(&cy), &cy.groups));
        assert_eq!(ann.values.len(), cy.values.len(), "nothing else written to either");
        // A taken username fails the creation and attempts none of the writes.
        let (taken, none) = d.create_user_with(&person("ANN"), &writes);
        assert!(matches!(taken, Err(DirError::Conflict(_))) && none.is_empty(), "{taken:?} {none:?}");
        // A removal among the writes goes the two-call way, with the same results.
        let (created, results) =
            d.create_user_with(&person("di"), &[FieldWrite::Set(&team, None), FieldWrite::Set(&dept, Some("Ops"))]);
        assert!(created.is_ok() && results.iter().all(Result::is_ok), "{results:?}");
        assert_eq!(d.find_user("di").unwrap().unwrap().values.get(&dept), Some("Ops"));
    }

    /// A file of schema 2 (a row per value in `fields`) is brought to schema 3 in place: every
    /// value, escapes and all, is in its user's row, and writes and listings go on from there.
    #[test]
    fn a_schema_2_file_keeps_its_values_when_they_move_into_the_users_rows() {
        let dir = std::env::temp_dir().join(format!("usersync-local-v2-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("directory.db");
        let c = Connection::open(&path).unwrap();
        c.execute_batch(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE COLLATE NOCASE,
               display_name TEXT NOT NULL, email TEXT, active INTEGER NOT NULL, external_id TEXT,
               created_ms INTEGER, last_login_ms INTEGER);
             CREATE TABLE fields (user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
               target TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (user_id, target)) WITHOUT ROWID;
             INSERT INTO users (id, username, display_name, active) VALUES (7, 'ann', 'Ann', 1), (8, 'bo', 'Bo', 1);
             INSERT INTO fields VALUES (7, 'profile:department', 'R&D \"Labs\"'), (7, 'property:employee_id', '42');
             PRAGMA user_version = 2;",
        )
        .unwrap();
        drop(c);
        let d = LocalDirectory::open(&path).unwrap();
        let users = d.list_users().unwrap();
        let dept = Target::Profile("department".into());
        assert_eq!(users[0].values.get(&dept), Some("R&D \"Labs\""));
        assert_eq!(users[0].values.get(&Target::Property("employee_id".into())), Some("42"));
        assert_eq!((users[1].values.len(), users[1].values.get(&Target::DisplayName)), (1, Some("Bo")));
        d.set_field("8", &dept, Some("Sales")).unwrap();
        d.set_field("7", &dept, None).unwrap();
        let users = d.list_users().unwrap();
        assert_eq!((users[0].values.get(&dept), users[1].values.get(&dept)), (None, Some("Sales")));
        assert!(matches!(d.set_field("9", &dept, Some("x")), Err(DirError::NotFound(_))));
        drop(d);
        let c = Connection::open(&path).unwrap();
        assert_eq!(c.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0)).unwrap(), 3);
        let tables: i64 =
            c.query_row("SELECT count(*) FROM sqlite_master WHERE name = 'fields'", [], |r| r.get(0)).unwrap();
        assert_eq!(tables, 0, "the old table is gone");
        drop(c);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Several memberships in one call go in together; any that does not (a member already, a
    /// missing group, the same group twice in other spellings) is told apart; a missing user
    /// fails them all. The statement finds each group through its index.
    #[test]
    fn memberships_added_together_keep_their_own_results() {
        let d = LocalDirectory::in_memory().unwrap();
        let key = d.create_user(&person("di")).unwrap();
        for g in ["Staff", "Admins", "Sales"] {
            d.create_group(g).unwrap();
        }
        let dept = Target::Profile("department".into());
        let all_ok = d.write_fields(
            &key,
            &[FieldWrite::AddGroup("staff"), FieldWrite::Set(&dept, Some("R&D")), FieldWrite::AddGroup("ADMINS")],
        );
        assert!(all_ok.iter().all(Result::is_ok), "{all_ok:?}");
        let user = d.find_user("di").unwrap().unwrap();
        assert_eq!(user.groups.iter().collect::<Vec<_>>(), ["Admins", "Staff"], "the groups' own spellings");
        assert_eq!(user.values.get(&dept), Some("R&D"));
        let mixed = d.write_fields(
            &key,
            &[
                FieldWrite::AddGroup("Staff"),
                FieldWrite::AddGroup("sales"),
                FieldWrite::AddGroup("SALES"),
                FieldWrite::AddGroup("nope"),
                FieldWrite::Set(&dept, None),
            ],
        );
        assert!(mixed[0].is_ok() && mixed[1].is_ok() && mixed[2].is_ok() && mixed[4].is_ok(), "{mixed:?}");
        assert!(matches!(&mixed[3], Err(DirError::NotFound(m)) if m.contains("nope")), "{mixed:?}");
        let user = d.find_user("di").unwrap().unwrap();
        assert_eq!(user.groups.len(), 3);
        assert_eq!(user.values.get(&dept), None, "removed by the patch");
        let gone = d.write_fields("99", &[FieldWrite::AddGroup("Staff"), FieldWrite::AddGroup("Sales")]);
        assert!(gone.iter().all(|r| matches!(r, Err(DirError::NotFound(_)))), "{gone:?}");
        let plan: Vec<String> = d
            .with(|c| {
                let mut s = c.prepare(&format!("EXPLAIN QUERY PLAN {ADD_MEMBERSHIPS}")).map_err(failed)?;
                let rows = s.query_map(params![1, "[]"], |r| r.get::<_, String>(3)).map_err(failed)?;
                rows.collect::<Result<_, _>>().map_err(failed)
            })
            .unwrap();
        assert!(plan.iter().any(|step| step.starts_with("SEARCH g USING") && step.contains("INDEX")), "{plan:?}");
    }

    /// One user's writes in one call: each keeps its own result, and a target the directory
    /// cannot hold fails alone.
    #[test]
    fn a_users_writes_keep_their_own_results() {
        let d = LocalDirectory::in_memory().unwrap();
        let new = NewUser {
            username: "cy".into(),
            display_name: "Cy".into(),
            email: None,
            active: true,
            external_id: "x".into(),
        };
        let key = d.create_user(&new).unwrap();
        d.create_group("Staff").unwrap();
        let (dept, phone) = (Target::Profile("department".into()), Target::Profile("phone".into()));
        let unknown = Target::Communardo("team".into());
        let results = d.write_fields(
            &key,
            &[
                FieldWrite::Set(&dept, Some("Sales")),
                FieldWrite::Set(&unknown, Some("x")),
                FieldWrite::AddGroup("staff"),
                FieldWrite::AddGroup("nope"),
                FieldWrite::Set(&phone, Some("+45")),
                FieldWrite::Set(&dept, Some("R&D")),
            ],
        );
        assert!(results[0].is_ok() && results[2].is_ok() && results[4].is_ok() && results[5].is_ok(), "{results:?}");
        assert!(matches!(results[1], Err(DirError::Unsupported(_))));
        assert!(matches!(results[3], Err(DirError::NotFound(_))));
        let user = d.find_user("CY").unwrap().unwrap();
        assert_eq!((user.values.get(&dept), user.values.get(&phone)), (Some("R&D"), Some("+45")));
        assert_eq!(user.groups.iter().collect::<Vec<_>>(), ["Staff"]);
        let gone = d.write_fields("99", &[FieldWrite::Set(&dept, Some("x")), FieldWrite::Set(&phone, None)]);
        assert!(gone.iter().all(|r| matches!(r, Err(DirError::NotFound(_)))), "{gone:?}");
    }
}
