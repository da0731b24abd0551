//! A Directory implemented in Java. Rust holds the Java `DirectoryAdapter` as a global
//! reference and calls its one method, `invoke(op, a, b, c, d, e)`, which answers a status
//! digit followed by text. Threads attach once (permanently, until they exit); after every
//! upcall a pending Java exception is taken and becomes that operation's error.

use std::collections::BTreeSet;
use std::sync::Mutex;

use jni::objects::JObject;
use jni::refs::Global;

use crate::directory::{Capabilities, DirError, Directory, FieldWrite, NewUser};
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

    /// One upcall for all the writes: a line each, `S`et (or `C`lear) a target, `A`dd or
    /// `R`emove a group, fields escaped; the adapter answers a line each, `0` or the status digit
    /// and message of that write's failure (`DirectoryAdapter.writeFields`).
    fn write_fields(&self, key: &str, writes: &[FieldWrite<'_>]) -> Vec<Result<(), DirError>> {
        let mut lines = String::new();
        for w in writes {
            let (kind, name, value) = match w {
                FieldWrite::Set(target, Some(v)) => ('S', target.to_string(), Some(*v)),
                FieldWrite::Set(target, None) => ('C', target.to_string(), None),
                FieldWrite::AddGroup(g) => ('A', g.to_string(), None),
                FieldWrite::RemoveGroup(g) => ('R', g.to_string(), None),
            };
            lines.push(kind);
            lines.push('\t');
            escape_into(&mut lines, &name);
            if let Some(v) = value {
                lines.push('\t');
                escape_into(&mut lines, v);
            }
            lines.push('\n');
        }
        match self.invoke("write_fields", [Some(key), Some(&lines), None, None, None]) {
            Ok(answer) => {
                let mut results: Vec<Result<(), DirError>> =
                    answer.lines().take(writes.len()).map(|line| decode(&unescape(line)).map(|_| ())).collect();
                results.resize_with(writes.len(), || {
                    Err(DirError::Failed("write_fields: the Java directory answered fewer results than writes".into()))
                });
                results
            }
            // The call as a whole failed: so did every write in it.
            Err(e) => writes.iter().map(|_| Err(e.clone())).collect(),
        }
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

/// Writes `s` with backslash, tab, newline and carriage return escaped, so that fields and
/// lines of `write_fields` stay apart whatever a value holds.
fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// The reverse of `escape_into`.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_fields_come_back_as_they_were() {
        for s in ["plain", "tab\there", "two\nlines\r\n", "back\\slash\\t", "", "\\"] {
            let mut e = String::new();
            escape_into(&mut e, s);
            assert!(!e.contains('\t') && !e.contains('\n') && !e.contains('\r'), "{e:?}");
            assert_eq!(unescape(&e), s);
        }
    }
}
