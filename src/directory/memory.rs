//! A directory in maps: the Rust twin of the Java tests' `InMemoryDirectory`
//! (java-bridge/src/test/java/org/usersync/InMemoryDirectory.java), same data, same answers. The
//! shim's benchmark syncs the same people into both: the difference is what crossing JNI costs
//! (docs/PERFORMANCE.md, "The Java phase"). It counts its operations and the time spent inside
//! them, as the benchmark's counting wrapper does on the Java side.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::{Capabilities, DirError, Directory, NewUser};
use crate::model::{CompactString, DirectoryUser, NameSet, Target, TextMap};

/// Shared: a clone reads the same directory and the same counters (the benchmark keeps one to
/// read them while the engine owns the other).
#[derive(Clone, Default)]
pub struct MemoryDirectory {
    state: Arc<Mutex<State>>,
    counters: Arc<Counters>,
}

#[derive(Default)]
struct Counters {
    operations: AtomicU64,
    inside_nanos: AtomicU64,
}

#[derive(Default)]
struct State {
    users: BTreeMap<String, User>,
    /// Keys by lower-case username: names are unique whatever their case, as in Java's
    /// case-insensitive map.
    by_name: HashMap<String, String>,
    /// Group names by their lower-case form, each in the spelling it was created with.
    groups: BTreeMap<String, String>,
    next_key: u64,
    lock: Option<String>,
    avatars: HashMap<String, Vec<u8>>,
}

struct User {
    key: String,
    username: String,
    active: bool,
    values: BTreeMap<Target, String>,
    /// Lower-case name → name, as the groups themselves.
    groups: BTreeMap<String, String>,
    external_id: Option<String>,
}

impl User {
    fn snapshot(&self) -> DirectoryUser {
        let mut groups = NameSet::new();
        for g in self.groups.values() {
            groups.insert(g.as_str());
        }
        DirectoryUser {
            key: CompactString::new(&self.key),
            username: CompactString::new(&self.username),
            active: self.active,
            values: TextMap::from_pairs(self.values.iter().map(|(t, v)| (t, v.as_str()))),
            groups,
            external_id: self.external_id.as_deref().map(CompactString::new),
            last_login: None,
            created_at: None,
            admin: false,
        }
    }
}

impl State {
    fn user(&mut self, key: &str) -> Result<&mut User, DirError> {
        self.users.get_mut(key).ok_or_else(|| DirError::NotFound(format!("no user with key {key}")))
    }

    fn set(&mut self, key: &str, target: &Target, value: Option<&str>) -> Result<(), DirError> {
        let user = self.user(key)?;
        match value {
            Some(v) => user.values.insert(target.clone(), v.to_string()),
            None => user.values.remove(target),
        };
        Ok(())
    }

    fn rename(&mut self, key: &str, username: String) -> Result<(), DirError> {
        let user = self.user(key)?;
        let old = std::mem::replace(&mut user.username, username.clone());
        self.by_name.remove(&old.to_lowercase());
        self.by_name.insert(username.to_lowercase(), key.to_string());
        Ok(())
    }
}

impl MemoryDirectory {
    pub fn new() -> Self {
        MemoryDirectory::default()
    }

    /// Operations answered since the last `reset_counters`, and the nanoseconds spent in them.
    pub fn counters(&self) -> (u64, u64) {
        (self.counters.operations.load(Ordering::Relaxed), self.counters.inside_nanos.load(Ordering::Relaxed))
    }

    pub fn reset_counters(&self) {
        self.counters.operations.store(0, Ordering::Relaxed);
        self.counters.inside_nanos.store(0, Ordering::Relaxed);
    }

    /// One operation: counted, timed, under the lock (the Java twin's methods are synchronized).
    fn op<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let started = Instant::now();
        let out = f(&mut self.state.lock().unwrap_or_else(|p| p.into_inner()));
        self.counters.operations.fetch_add(1, Ordering::Relaxed);
        self.counters.inside_nanos.fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        out
    }
}

impl Directory for MemoryDirectory {
    fn capabilities(&self) -> Result<Capabilities, DirError> {
        self.op(|_| {
            Ok(Capabilities {
                properties: true,
                profile_fields: ["phone", "im", "website", "position", "department", "location"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
                communardo: false,
                linchpin: false,
                jsm_organizations: false,
                avatars: false,
                create_groups: true,
            })
        })
    }

    fn list_users(&self) -> Result<Vec<DirectoryUser>, DirError> {
        self.op(|s| Ok(s.users.values().map(User::snapshot).collect()))
    }

    fn find_user(&self, username: &str) -> Result<Option<DirectoryUser>, DirError> {
        self.op(|s| Ok(s.by_name.get(&username.to_lowercase()).and_then(|k| s.users.get(k)).map(User::snapshot)))
    }

    fn users_by_keys(&self, keys: &[String]) -> Result<Vec<DirectoryUser>, DirError> {
        self.op(|s| Ok(keys.iter().filter_map(|k| s.users.get(k)).map(User::snapshot).collect()))
    }

    fn list_groups(&self) -> Result<BTreeSet<String>, DirError> {
        self.op(|s| Ok(s.groups.values().cloned().collect()))
    }

    fn create_user(&self, user: &NewUser) -> Result<String, DirError> {
        self.op(|s| {
            let folded = user.username.to_lowercase();
            if s.by_name.contains_key(&folded) {
                return Err(DirError::Conflict(format!("username {} is taken", user.username)));
            }
            s.next_key += 1;
            let key = format!("j{}", s.next_key);
            let mut values = BTreeMap::new();
            values.insert(Target::DisplayName, user.display_name.clone());
            if let Some(email) = &user.email {
                values.insert(Target::Email, email.clone());
            }
            let created = User {
                key: key.clone(),
                username: user.username.clone(),
                active: user.active,
                values,
                groups: BTreeMap::new(),
                external_id: Some(user.external_id.clone()),
            };
            s.users.insert(key.clone(), created);
            s.by_name.insert(folded, key.clone());
            Ok(key)
        })
    }

    fn update_core(&self, key: &str, changes: &[(Target, Option<String>)]) -> Result<(), DirError> {
        self.op(|s| changes.iter().try_for_each(|(target, value)| s.set(key, target, value.as_deref())))
    }

    fn rename(&self, key: &str, new_username: &str) -> Result<(), DirError> {
        self.op(|s| s.rename(key, new_username.to_string()))
    }

    fn set_active(&self, key: &str, active: bool) -> Result<(), DirError> {
        self.op(|s| {
            s.user(key)?.active = active;
            Ok(())
        })
    }

    fn delete_user(&self, key: &str) -> Result<(), DirError> {
        self.op(|s| {
            let folded = s.user(key)?.username.to_lowercase();
            s.by_name.remove(&folded);
            s.users.remove(key);
            Ok(())
        })
    }

    fn anonymise(&self, key: &str) -> Result<String, DirError> {
        self.op(|s| {
            let placeholder = format!("anonymised-{key}");
            s.rename(key, placeholder.clone())?;
            let user = s.user(key)?;
            user.values.clear();
            user.values.insert(Target::DisplayName, "Anonymised user".into());
            user.active = false;
            Ok(placeholder)
        })
    }

    fn set_field(&self, key: &str, target: &Target, value: Option<&str>) -> Result<(), DirError> {
        self.op(|s| s.set(key, target, value))
    }

    fn add_membership(&self, key: &str, group: &str) -> Result<(), DirError> {
        self.op(|s| {
            let folded = group.to_lowercase();
            let name = s.groups.get(&folded).cloned().ok_or_else(|| DirError::NotFound(format!("no group {group}")))?;
            s.user(key)?.groups.entry(folded).or_insert(name);
            Ok(())
        })
    }

    fn remove_membership(&self, key: &str, group: &str) -> Result<(), DirError> {
        self.op(|s| {
            s.user(key)?.groups.remove(&group.to_lowercase());
            Ok(())
        })
    }

    fn create_group(&self, name: &str) -> Result<(), DirError> {
        self.op(|s| {
            s.groups.entry(name.to_lowercase()).or_insert_with(|| name.to_string());
            Ok(())
        })
    }

    fn set_avatar(&self, key: &str, image: &[u8]) -> Result<(), DirError> {
        self.op(|s| {
            s.user(key)?;
            s.avatars.insert(key.to_string(), image.to_vec());
            Ok(())
        })
    }

    fn begin_batch(&self) -> Result<(), DirError> {
        self.op(|_| Ok(()))
    }

    fn end_batch(&self) -> Result<(), DirError> {
        self.op(|_| Ok(()))
    }

    fn try_lock(&self, name: &str, _ttl_seconds: u64) -> Result<bool, DirError> {
        self.op(|s| {
            if s.lock.is_some() {
                return Ok(false);
            }
            s.lock = Some(name.to_string());
            Ok(true)
        })
    }

    fn unlock(&self, name: &str) -> Result<(), DirError> {
        self.op(|s| {
            if s.lock.as_deref() == Some(name) {
                s.lock = None;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_user(name: &str) -> NewUser {
        NewUser {
            username: name.into(),
            display_name: format!("{name} Name"),
            email: None,
            active: true,
            external_id: format!("id-{name}"),
        }
    }

    #[test]
    fn names_are_unique_whatever_their_case_and_writes_reach_the_listing() {
        let dir = MemoryDirectory::new();
        let key = dir.create_user(&new_user("Alice")).unwrap();
        assert!(matches!(dir.create_user(&new_user("alice")), Err(DirError::Conflict(_))));
        dir.create_group("Staff").unwrap();
        dir.add_membership(&key, "staff").unwrap();
        assert!(matches!(dir.add_membership(&key, "nobody-group"), Err(DirError::NotFound(_))));
        let dept = Target::Profile("department".into());
        dir.set_field(&key, &dept, Some("Sales")).unwrap();
        dir.rename(&key, "alice2").unwrap();
        let found = dir.find_user("ALICE2").unwrap().expect("found by its new name, any case");
        assert_eq!(found.values.get(&dept), Some("Sales"));
        assert_eq!(found.groups.iter().collect::<Vec<_>>(), ["Staff"]);
        assert!(dir.find_user("alice").unwrap().is_none(), "the old name is free");
        dir.set_field(&key, &dept, None).unwrap();
        assert_eq!(dir.list_users().unwrap()[0].values.get(&dept), None);
        assert!(matches!(dir.set_active("j99", false), Err(DirError::NotFound(_))));
        // Every call above was one operation, the failed ones too.
        assert_eq!(dir.counters().0, 12);
    }
}
