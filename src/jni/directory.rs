//! A Directory implemented in Java. Rust holds the Java `DirectoryAdapter` as a global
//! reference and calls its one method, `invoke(op, a, b, c, d, e)`, which answers a status
//! digit followed by text. Threads attach once (permanently, until they exit); after every
//! upcall a pending Java exception is taken and becomes that operation's error.

use std::collections::BTreeSet;
use std::sync::Mutex;

use jni::objects::JObject;
use jni::refs::Global;

use crate::directory::{Capabilities, DirError, Directory, NewUser};
use crate::model::{DirectoryUser, Target};

pub(crate) struct JavaDirectory {
    adapter: super::upcall::Adapter,
    serial: Mutex<()>,
}

impl JavaDirectory {
    pub fn new(adapter: Global<JObject<'static>>) -> Self {
        JavaDirectory { adapter: super::upcall::Adapter::new(adapter, "the Java directory"), serial: Mutex::new(()) }
    }

    /// One upcall. `Ok(text)` for status 0; the other statuses and any exception are errors.
    fn invoke(&self, op: &'static str, args: [Option<&str>; 5]) -> Result<String, DirError> {
        let _serial = self.serial.lock().unwrap_or_else(|p| p.into_inner());
        decode(&self.adapter.invoke(op, args).map_err(DirError::Failed)?)
    }

    fn unit(&self, op: &'static str, args: [Option<&str>; 5]) -> Result<(), DirError> {
        self.invoke(op, args).map(|_| ())
    }

    fn json<T: serde::de::DeserializeOwned>(&self, op: &'static str) -> Result<T, DirError> {
        let text = self.invoke(op, [None; 5])?;
        serde_json::from_str(&text)
            .map_err(|e| DirError::Failed(format!("{op}: the Java directory's JSON is invalid: {e}")))
    }
}

/// "0text" is success; "1".."4" are not found, conflict, unsupported, failed.
fn decode(text: &str) -> Result<String, DirError> {
    let mut chars = text.chars();
    let code = chars.next();
    let rest = chars.as_str().to_string();
    match code {
        Some('0') => Ok(rest),
        Some('1') => Err(DirError::NotFound(rest)),
        Some('2') => Err(DirError::Conflict(rest)),
        Some('3') => Err(DirError::Unsupported(rest)),
        _ => Err(DirError::Failed(rest)),
    }
}

impl Directory for JavaDirectory {
    fn capabilities(&self) -> Result<Capabilities, DirError> {
        self.json("capabilities")
    }

    fn list_users(&self) -> Result<Vec<DirectoryUser>, DirError> {
        self.json("list_users")
    }

    fn find_user(&self, username: &str) -> Result<Option<DirectoryUser>, DirError> {
        match self.invoke("find_user", [Some(username), None, None, None, None]) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| DirError::Failed(format!("find_user: the Java directory's JSON is invalid: {e}"))),
            Err(DirError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn find_by_external_id(&self, external_id: &str) -> Result<Option<DirectoryUser>, DirError> {
        match self.invoke("find_by_external_id", [Some(external_id), None, None, None, None]) {
            Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| {
                DirError::Failed(format!("find_by_external_id: the Java directory's JSON is invalid: {e}"))
            }),
            Err(DirError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn users_by_keys(&self, keys: &[String]) -> Result<Vec<DirectoryUser>, DirError> {
        // One key per line; a key with a line break cannot be a key of any directory here.
        let list: Vec<&str> = keys.iter().map(String::as_str).filter(|k| !k.contains('\n')).collect();
        let text = self.invoke("users_by_keys", [Some(&list.join("\n")), None, None, None, None])?;
        serde_json::from_str(&text)
            .map_err(|e| DirError::Failed(format!("users_by_keys: the Java directory's JSON is invalid: {e}")))
    }

    fn begin_batch(&self) -> Result<(), DirError> {
        self.unit("begin_batch", [None; 5])
    }

    fn end_batch(&self) -> Result<(), DirError> {
        self.unit("end_batch", [None; 5])
    }

    fn list_groups(&self) -> Result<BTreeSet<String>, DirError> {
        self.json("list_groups")
    }

    fn create_user(&self, u: &NewUser) -> Result<String, DirError> {
        let active = if u.active { "true" } else { "false" };
        let key = self.invoke(
            "create_user",
            [Some(&u.username), Some(&u.display_name), u.email.as_deref(), Some(active), Some(&u.external_id)],
        )?;
        if key.is_empty() {
            return Err(DirError::Failed("create_user: the Java directory answered no key".into()));
        }
        Ok(key)
    }

    fn update_core(&self, key: &str, changes: &[(Target, Option<String>)]) -> Result<(), DirError> {
        for (target, value) in changes {
            let target = target.to_string();
            self.unit("update_core", [Some(key), Some(&target), value.as_deref(), None, None])?;
        }
        Ok(())
    }

    fn rename(&self, key: &str, new_username: &str) -> Result<(), DirError> {
        self.unit("rename", [Some(key), Some(new_username), None, None, None])
    }

    fn set_active(&self, key: &str, active: bool) -> Result<(), DirError> {
        self.unit("set_active", [Some(key), Some(if active { "true" } else { "false" }), None, None, None])
    }

    fn delete_user(&self, key: &str) -> Result<(), DirError> {
        self.unit("delete_user", [Some(key), None, None, None, None])
    }

    fn anonymise(&self, key: &str) -> Result<String, DirError> {
        self.invoke("anonymise", [Some(key), None, None, None, None])
    }

    fn set_field(&self, key: &str, target: &Target, value: Option<&str>) -> Result<(), DirError> {
        let target = target.to_string();
        self.unit("set_field", [Some(key), Some(&target), value, None, None])
    }

    fn add_membership(&self, key: &str, group: &str) -> Result<(), DirError> {
        self.unit("add_membership", [Some(key), Some(group), None, None, None])
    }

    fn remove_membership(&self, key: &str, group: &str) -> Result<(), DirError> {
        self.unit("remove_membership", [Some(key), Some(group), None, None, None])
    }

    fn create_group(&self, name: &str) -> Result<(), DirError> {
        self.unit("create_group", [Some(name), None, None, None, None])
    }

    fn set_avatar(&self, key: &str, image: &[u8]) -> Result<(), DirError> {
        // Bytes travel as base64 through the one string-typed upcall.
        use base64::Engine as _;
        let encoded = base64::engine::general_purpose::STANDARD.encode(image);
        self.unit("set_avatar", [Some(key), Some(&encoded), None, None, None])
    }

    fn try_lock(&self, name: &str, ttl_seconds: u64) -> Result<bool, DirError> {
        let ttl = ttl_seconds.to_string();
        Ok(self.invoke("try_lock", [Some(name), Some(&ttl), None, None, None])? == "true")
    }

    fn unlock(&self, name: &str) -> Result<(), DirError> {
        self.unit("unlock", [Some(name), None, None, None, None])
    }
}
