//! The Directory contract (DESIGN §4): the engine decides what changes; the host writes it.
//! Rust trait here; the C vtable and the Java interface are other faces of the same contract.

pub mod local;
mod local_fields;
pub mod memory;

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::model::{DirectoryUser, Target};

/// What this directory can hold. A mapping that targets something absent here is a
/// configuration error, reported before any write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capabilities {
    pub properties: bool,
    pub profile_fields: BTreeSet<String>,
    pub communardo: bool,
    pub linchpin: bool,
    pub jsm_organizations: bool,
    pub avatars: bool,
    pub create_groups: bool,
}

impl Capabilities {
    /// Nothing beyond the core fields: what the engine assumes when a host cannot say.
    pub fn none() -> Self {
        Capabilities {
            properties: false,
            profile_fields: BTreeSet::new(),
            communardo: false,
            linchpin: false,
            jsm_organizations: false,
            avatars: false,
            create_groups: false,
        }
    }

    pub fn supports(&self, target: &Target) -> bool {
        match target {
            Target::Username | Target::DisplayName | Target::Email | Target::Active | Target::Groups => true,
            Target::Property(_) => self.properties,
            Target::Profile(f) => self.profile_fields.contains(f.as_ref()),
            Target::Communardo(_) => self.communardo,
            Target::Linchpin(_) => self.linchpin,
            Target::JsmOrganization => self.jsm_organizations,
            Target::Avatar => self.avatars,
        }
    }
}

/// One write failed. The message is shown to administrators; it names the user and operation
/// but carries no secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirError {
    #[error("user not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("not supported by this directory: {0}")]
    Unsupported(String),
    #[error("directory failure: {0}")]
    Failed(String),
}

/// A new user as the engine asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub active: bool,
    pub external_id: String,
}

/// One write of `Directory::write_fields`: `set_field`, `add_membership` or `remove_membership`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldWrite<'a> {
    Set(&'a Target, Option<&'a str>),
    AddGroup(&'a str),
    RemoveGroup(&'a str),
}

pub trait Directory: Send + Sync {
    /// What this directory can hold. A host that cannot say (an exception, a null) fails the
    /// run with its reason, rather than being taken for a directory that holds nothing.
    fn capabilities(&self) -> Result<Capabilities, DirError>;
    /// Every user of the sync's own directory, with the current value of every target.
    fn list_users(&self) -> Result<Vec<DirectoryUser>, DirError>;
    /// One user by username (case-insensitive), for the login hook. The default lists everyone;
    /// a directory with an index should answer directly.
    fn find_user(&self, username: &str) -> Result<Option<DirectoryUser>, DirError> {
        Ok(self.list_users()?.into_iter().find(|u| u.username.eq_ignore_ascii_case(username)))
    }
    /// One user by the external id stored with it (the IdP id), for re-adopting a user whose
    /// anchor was lost. The default lists everyone; a directory with an index should answer
    /// directly.
    fn find_by_external_id(&self, external_id: &str) -> Result<Option<DirectoryUser>, DirError> {
        Ok(self.list_users()?.into_iter().find(|u| u.external_id.as_deref() == Some(external_id)))
    }
    /// The users with these keys (unknown keys are left out), in any order: what single-user and
    /// incremental runs read instead of the whole directory. The default lists everyone.
    fn users_by_keys(&self, keys: &[String]) -> Result<Vec<DirectoryUser>, DirError> {
        let wanted: BTreeSet<&str> = keys.iter().map(String::as_str).collect();
        Ok(self.list_users()?.into_iter().filter(|u| wanted.contains(u.key.as_str())).collect())
    }
    /// One user by key. Answered through `users_by_keys`.
    fn find_by_key(&self, key: &str) -> Result<Option<DirectoryUser>, DirError> {
        Ok(self.users_by_keys(&[key.to_string()])?.pop())
    }
    fn list_groups(&self) -> Result<BTreeSet<String>, DirError>;
    /// Returns the new user's stable key.
    fn create_user(&self, user: &NewUser) -> Result<String, DirError>;
    /// Core fields: `Target::DisplayName` and `Target::Email`; `None` clears.
    fn update_core(&self, key: &str, changes: &[(Target, Option<String>)]) -> Result<(), DirError>;
    fn rename(&self, key: &str, new_username: &str) -> Result<(), DirError>;
    fn set_active(&self, key: &str, active: bool) -> Result<(), DirError>;
    fn delete_user(&self, key: &str) -> Result<(), DirError>;
    /// Replaces personal data with placeholders; the key (and so the anchor) stays. Returns
    /// the placeholder username.
    fn anonymise(&self, key: &str) -> Result<String, DirError>;
    fn set_field(&self, key: &str, target: &Target, value: Option<&str>) -> Result<(), DirError>;
    fn add_membership(&self, key: &str, group: &str) -> Result<(), DirError>;
    fn remove_membership(&self, key: &str, group: &str) -> Result<(), DirError>;
    fn create_group(&self, name: &str) -> Result<(), DirError>;
    fn set_avatar(&self, key: &str, image: &[u8]) -> Result<(), DirError>;
    /// A new user and the field and membership writes that follow its creation, with one result
    /// each, as if `create_user` and then `write_fields` were called (which the default does).
    /// The writes are not attempted if the creation fails. A directory that can store a user's
    /// values as it inserts the user saves a write per new user.
    fn create_user_with(
        &self,
        user: &NewUser,
        writes: &[FieldWrite<'_>],
    ) -> (Result<String, DirError>, Vec<Result<(), DirError>>) {
        create_then_write(self, user, writes)
    }
    /// Several field and membership writes to one user, in order, with one result each, as if
    /// each were its own call. A directory behind a costly crossing (the Java shim) answers
    /// them in one; the default makes one call each.
    fn write_fields(&self, key: &str, writes: &[FieldWrite<'_>]) -> Vec<Result<(), DirError>> {
        writes
            .iter()
            .map(|w| match w {
                FieldWrite::Set(target, value) => self.set_field(key, target, *value),
                FieldWrite::AddGroup(group) => self.add_membership(key, group),
                FieldWrite::RemoveGroup(group) => self.remove_membership(key, group),
            })
            .collect()
    }
    /// The writes until `end_batch` may be committed together (a database transaction). A
    /// directory that writes each change at once keeps these defaults. A batch holds at most a few
    /// hundred users' writes; one that is never ended (a crash) loses only those, which the next
    /// run writes again.
    fn begin_batch(&self) -> Result<(), DirError> {
        Ok(())
    }

    fn end_batch(&self) -> Result<(), DirError> {
        Ok(())
    }

    /// Records a successful login (the login hook calls it), for directories that do not keep
    /// last-login times themselves; those report them in `DirectoryUser::last_login` and ignore
    /// this.
    fn record_login(&self, _key: &str, _at: chrono::DateTime<chrono::Utc>) -> Result<(), DirError> {
        Ok(())
    }

    /// A cluster-wide lock; `false` when another holder has it. `ttl_seconds` is a backstop for
    /// a holder that vanished; the engine does not rely on it (run leases do that).
    fn try_lock(&self, name: &str, ttl_seconds: u64) -> Result<bool, DirError>;
    /// Releases the lock, whoever holds it. The engine releases a lock it did not take only after
    /// proving its holder dead (that run's lease expired and this engine marked it interrupted).
    fn unlock(&self, name: &str) -> Result<(), DirError>;
}

/// `Directory::create_user_with` as two calls: the default, and the fallback of a directory
/// that overrides it for the common case only.
pub fn create_then_write<D: Directory + ?Sized>(
    dir: &D,
    user: &NewUser,
    writes: &[FieldWrite<'_>],
) -> (Result<String, DirError>, Vec<Result<(), DirError>>) {
    match dir.create_user(user) {
        Ok(key) => {
            let results = if writes.is_empty() { Vec::new() } else { dir.write_fields(&key, writes) };
            (Ok(key), results)
        }
        Err(e) => (Err(e), Vec::new()),
    }
}
