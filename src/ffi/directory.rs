//! A Directory implemented by a C host as a struct of function pointers.
//!
//! Threading: callbacks are made from the thread that called `usersync_engine_run` (or the
//! other blocking calls) or from a run's worker thread after `usersync_engine_start`. Calls
//! into one directory never overlap: the library serialises them.

use std::collections::BTreeSet;
use std::ffi::{c_char, c_void, CString};
use std::sync::Mutex;

use super::boundary::{arg, guard, FfiError, UsersyncStatus};
use crate::directory::{Capabilities, DirError, Directory, NewUser};
use crate::model::{DirectoryUser, Target};

/// What a directory callback returns.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsersyncDirResult {
    Ok = 0,
    NotFound = 1,
    Conflict = 2,
    Unsupported = 3,
    Failed = 4,
}

/// Where a callback puts its answer (a key, a username, JSON) or, when it fails, its error
/// message — always with `usersync_out_set`, which copies the text.
#[derive(Default)]
pub struct UsersyncOut {
    text: Option<String>,
}

/// Hands text back to the library from inside a callback; the library copies it.
///
/// # Safety
/// `out` is the pointer the callback received; `text` a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn usersync_out_set(out: *mut UsersyncOut, text: *const c_char) -> UsersyncStatus {
    guard(std::ptr::null_mut(), || {
        if out.is_null() {
            return Err(FfiError::new(UsersyncStatus::NullArgument, "out is NULL"));
        }
        let text = arg(text, "text")?;
        (*out).text = Some(text.to_string());
        Ok(())
    })
}

/// A callback that only answers (through `out`).
pub type UsersyncReadFn = Option<unsafe extern "C" fn(ctx: *mut c_void, out: *mut UsersyncOut) -> i32>;
/// A callback about one user key or one name.
pub type UsersyncKeyFn = Option<unsafe extern "C" fn(ctx: *mut c_void, a: *const c_char, out: *mut UsersyncOut) -> i32>;
/// A callback about one user key and one more argument (a username or a group).
pub type UsersyncKeyArgFn =
    Option<unsafe extern "C" fn(ctx: *mut c_void, a: *const c_char, b: *const c_char, out: *mut UsersyncOut) -> i32>;

/// The host's directory. Every callback returns a `UsersyncDirResult` value and answers through
/// `out`. String arguments are valid only during the call; a NULL `value` means "clear".
/// `destroy` (may be NULL) is called once when the engine no longer needs `ctx`.
#[repr(C)]
pub struct UsersyncDirectory {
    pub ctx: *mut c_void,
    /// JSON: {"properties": bool, "profile_fields": [..], "communardo": bool, "linchpin": bool,
    /// "jsm_organizations": bool, "avatars": bool, "create_groups": bool}.
    pub capabilities: UsersyncReadFn,
    /// JSON array of users: {"key", "username", "active", "values": {target: text}, "groups": [..],
    /// "external_id"}, and where the host knows them (for `lifecycle.idle`) "last_login" and
    /// "created_at" (RFC 3339) and "admin": true.
    pub list_users: UsersyncReadFn,
    /// JSON array of group names.
    pub list_groups: UsersyncReadFn,
    /// Answers the new user's key.
    pub create_user: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            username: *const c_char,
            display_name: *const c_char,
            email: *const c_char,
            active: bool,
            external_id: *const c_char,
            out: *mut UsersyncOut,
        ) -> i32,
    >,
    /// (key, target "display_name" or "email", value or NULL).
    pub update_core: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            key: *const c_char,
            target: *const c_char,
            value: *const c_char,
            out: *mut UsersyncOut,
        ) -> i32,
    >,
    /// (key, new username).
    pub rename: UsersyncKeyArgFn,
    pub set_active:
        Option<unsafe extern "C" fn(ctx: *mut c_void, key: *const c_char, active: bool, out: *mut UsersyncOut) -> i32>,
    pub delete_user: UsersyncKeyFn,
    /// Answers the placeholder username.
    pub anonymise: UsersyncKeyFn,
    /// (key, target such as "property:x", value or NULL).
    pub set_field: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            key: *const c_char,
            target: *const c_char,
            value: *const c_char,
            out: *mut UsersyncOut,
        ) -> i32,
    >,
    /// (key, group).
    pub add_membership: UsersyncKeyArgFn,
    /// (key, group).
    pub remove_membership: UsersyncKeyArgFn,
    pub create_group: UsersyncKeyFn,
    /// Sets `*acquired` to true when the lock was taken.
    pub try_lock: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            name: *const c_char,
            ttl_seconds: u64,
            acquired: *mut bool,
            out: *mut UsersyncOut,
        ) -> i32,
    >,
    pub unlock: UsersyncKeyFn,
    pub destroy: Option<unsafe extern "C" fn(ctx: *mut c_void)>,
    /// Optional (may be NULL): one user by username, as a JSON object like those of
    /// `list_users`, or `USERSYNC_DIR_RESULT_NOT_FOUND`. The login hook uses it; without it the
    /// library lists every user.
    pub find_user: UsersyncKeyFn,
    /// Optional (ABI 2): one user by the external id stored with it, as `find_user` answers.
    /// Without it the library lists every user.
    pub find_by_external_id: UsersyncKeyFn,
    /// Optional (ABI 2): the users with the keys in the JSON array argument, as a JSON array like
    /// `list_users` (unknown keys left out). Single-user and incremental runs read only the
    /// users they touch through it; without it the library lists every user.
    pub users_by_keys: UsersyncKeyFn,
    /// Optional (ABI 2): the writes until `end_batch` may be committed together (a transaction).
    /// A failing `end_batch` stops the run; nothing of that batch is recorded as done.
    pub begin_batch: UsersyncReadFn,
    pub end_batch: UsersyncReadFn,
    /// Optional (ABI 2): writes `len` bytes of image (JPEG or PNG, as the source sent it) as the
    /// user's avatar. Without it the directory has no avatars.
    pub set_avatar: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            key: *const c_char,
            image: *const u8,
            len: usize,
            out: *mut UsersyncOut,
        ) -> i32,
    >,
}

/// The Rust side of a host directory.
pub(crate) struct HostDirectory {
    vt: UsersyncDirectory,
    serial: Mutex<()>,
}

// SAFETY: the documented contract makes `ctx` usable from any thread, and `serial` makes sure
// calls never overlap.
unsafe impl Send for HostDirectory {}
unsafe impl Sync for HostDirectory {}

impl Drop for HostDirectory {
    fn drop(&mut self) {
        if let Some(destroy) = self.vt.destroy {
            // SAFETY: called once, with the host's own ctx.
            unsafe { destroy(self.vt.ctx) };
        }
    }
}

fn c(s: &str) -> Result<CString, DirError> {
    CString::new(s).map_err(|_| DirError::Failed("a value contains a NUL byte".into()))
}

fn opt_c(s: Option<&str>) -> Result<Option<CString>, DirError> {
    s.map(c).transpose()
}

fn ptr(s: &Option<CString>) -> *const c_char {
    s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr())
}

impl HostDirectory {
    /// Takes over the vtable. Missing required callbacks are an error (and `destroy` is called).
    pub fn new(vt: UsersyncDirectory) -> Result<HostDirectory, FfiError> {
        let dir = HostDirectory { vt, serial: Mutex::new(()) };
        let v = &dir.vt;
        let required = [
            ("capabilities", v.capabilities.is_some()),
            ("list_users", v.list_users.is_some()),
            ("list_groups", v.list_groups.is_some()),
            ("create_user", v.create_user.is_some()),
            ("update_core", v.update_core.is_some()),
            ("rename", v.rename.is_some()),
            ("set_active", v.set_active.is_some()),
            ("delete_user", v.delete_user.is_some()),
            ("anonymise", v.anonymise.is_some()),
            ("set_field", v.set_field.is_some()),
            ("add_membership", v.add_membership.is_some()),
            ("remove_membership", v.remove_membership.is_some()),
            ("create_group", v.create_group.is_some()),
            ("try_lock", v.try_lock.is_some()),
            ("unlock", v.unlock.is_some()),
        ];
        if let Some((name, _)) = required.iter().find(|(_, present)| !present) {
            return Err(FfiError::new(UsersyncStatus::NullArgument, format!("directory callback '{name}' is NULL")));
        }
        Ok(dir)
    }

    /// Calls one callback under the serialising lock and maps its result.
    fn call(
        &self,
        what: &str,
        f: impl FnOnce(*mut c_void, *mut UsersyncOut) -> i32,
    ) -> Result<Option<String>, DirError> {
        let _serial = self.serial.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = UsersyncOut::default();
        let code = f(self.vt.ctx, &mut out);
        let message = || out.text.clone().unwrap_or_else(|| format!("{what} failed"));
        match code {
            0 => Ok(out.text),
            1 => Err(DirError::NotFound(message())),
            2 => Err(DirError::Conflict(message())),
            3 => Err(DirError::Unsupported(message())),
            _ => Err(DirError::Failed(message())),
        }
    }

    fn json<T: serde::de::DeserializeOwned>(&self, what: &str, text: Option<String>) -> Result<T, DirError> {
        let text = text.ok_or_else(|| DirError::Failed(format!("{what}: the host answered nothing")))?;
        serde_json::from_str(&text).map_err(|e| DirError::Failed(format!("{what}: the host's JSON is invalid: {e}")))
    }

    fn unit(&self, r: Result<Option<String>, DirError>) -> Result<(), DirError> {
        r.map(|_| ())
    }
}

// The callbacks were checked to be present in `new`, so the `expect`s below cannot fire.
impl Directory for HostDirectory {
    fn capabilities(&self) -> Result<Capabilities, DirError> {
        let cb = self.vt.capabilities.expect("checked");
        self.call("capabilities", |ctx, out| unsafe { cb(ctx, out) }).and_then(|t| self.json("capabilities", t))
    }

    fn list_users(&self) -> Result<Vec<DirectoryUser>, DirError> {
        let cb = self.vt.list_users.expect("checked");
        let text = self.call("list_users", |ctx, out| unsafe { cb(ctx, out) })?;
        self.json("list_users", text)
    }

    fn find_user(&self, username: &str) -> Result<Option<DirectoryUser>, DirError> {
        let Some(cb) = self.vt.find_user else {
            return Ok(self.list_users()?.into_iter().find(|u| u.username.eq_ignore_ascii_case(username)));
        };
        let name = c(username)?;
        match self.call("find_user", |ctx, out| unsafe { cb(ctx, name.as_ptr(), out) }) {
            Ok(text) => self.json("find_user", text).map(Some),
            Err(DirError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn find_by_external_id(&self, external_id: &str) -> Result<Option<DirectoryUser>, DirError> {
        let Some(cb) = self.vt.find_by_external_id else {
            return Ok(self.list_users()?.into_iter().find(|u| u.external_id.as_deref() == Some(external_id)));
        };
        let id = c(external_id)?;
        match self.call("find_by_external_id", |ctx, out| unsafe { cb(ctx, id.as_ptr(), out) }) {
            Ok(text) => self.json("find_by_external_id", text).map(Some),
            Err(DirError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn users_by_keys(&self, keys: &[String]) -> Result<Vec<DirectoryUser>, DirError> {
        let Some(cb) = self.vt.users_by_keys else {
            let wanted: BTreeSet<&str> = keys.iter().map(String::as_str).collect();
            return Ok(self.list_users()?.into_iter().filter(|u| wanted.contains(u.key.as_str())).collect());
        };
        let list = c(&serde_json::to_string(keys).expect("strings serialise"))?;
        let text = self.call("users_by_keys", |ctx, out| unsafe { cb(ctx, list.as_ptr(), out) })?;
        self.json("users_by_keys", text)
    }

    fn begin_batch(&self) -> Result<(), DirError> {
        let Some(cb) = self.vt.begin_batch else { return Ok(()) };
        self.unit(self.call("begin_batch", |ctx, out| unsafe { cb(ctx, out) }))
    }

    fn end_batch(&self) -> Result<(), DirError> {
        let Some(cb) = self.vt.end_batch else { return Ok(()) };
        self.unit(self.call("end_batch", |ctx, out| unsafe { cb(ctx, out) }))
    }

    fn list_groups(&self) -> Result<BTreeSet<String>, DirError> {
        let cb = self.vt.list_groups.expect("checked");
        let text = self.call("list_groups", |ctx, out| unsafe { cb(ctx, out) })?;
        self.json("list_groups", text)
    }

    fn create_user(&self, user: &NewUser) -> Result<String, DirError> {
        let cb = self.vt.create_user.expect("checked");
        let (u, d, e, x) =
            (c(&user.username)?, c(&user.display_name)?, opt_c(user.email.as_deref())?, c(&user.external_id)?);
        self.call("create_user", |ctx, out| unsafe {
            cb(ctx, u.as_ptr(), d.as_ptr(), ptr(&e), user.active, x.as_ptr(), out)
        })?
        .filter(|k| !k.is_empty())
        .ok_or_else(|| DirError::Failed("create_user: the host answered no key".into()))
    }

    fn update_core(&self, key: &str, changes: &[(Target, Option<String>)]) -> Result<(), DirError> {
        let cb = self.vt.update_core.expect("checked");
        let k = c(key)?;
        for (target, value) in changes {
            let (t, v) = (c(&target.to_string())?, opt_c(value.as_deref())?);
            self.call("update_core", |ctx, out| unsafe { cb(ctx, k.as_ptr(), t.as_ptr(), ptr(&v), out) })?;
        }
        Ok(())
    }

    fn rename(&self, key: &str, new_username: &str) -> Result<(), DirError> {
        let cb = self.vt.rename.expect("checked");
        let (k, n) = (c(key)?, c(new_username)?);
        self.unit(self.call("rename", |ctx, out| unsafe { cb(ctx, k.as_ptr(), n.as_ptr(), out) }))
    }

    fn set_active(&self, key: &str, active: bool) -> Result<(), DirError> {
        let cb = self.vt.set_active.expect("checked");
        let k = c(key)?;
        self.unit(self.call("set_active", |ctx, out| unsafe { cb(ctx, k.as_ptr(), active, out) }))
    }

    fn delete_user(&self, key: &str) -> Result<(), DirError> {
        let cb = self.vt.delete_user.expect("checked");
        let k = c(key)?;
        self.unit(self.call("delete_user", |ctx, out| unsafe { cb(ctx, k.as_ptr(), out) }))
    }

    fn anonymise(&self, key: &str) -> Result<String, DirError> {
        let cb = self.vt.anonymise.expect("checked");
        let k = c(key)?;
        self.call("anonymise", |ctx, out| unsafe { cb(ctx, k.as_ptr(), out) })?
            .ok_or_else(|| DirError::Failed("anonymise: the host answered no username".into()))
    }

    fn set_field(&self, key: &str, target: &Target, value: Option<&str>) -> Result<(), DirError> {
        let cb = self.vt.set_field.expect("checked");
        let (k, t, v) = (c(key)?, c(&target.to_string())?, opt_c(value)?);
        self.unit(self.call("set_field", |ctx, out| unsafe { cb(ctx, k.as_ptr(), t.as_ptr(), ptr(&v), out) }))
    }

    fn add_membership(&self, key: &str, group: &str) -> Result<(), DirError> {
        let cb = self.vt.add_membership.expect("checked");
        let (k, g) = (c(key)?, c(group)?);
        self.unit(self.call("add_membership", |ctx, out| unsafe { cb(ctx, k.as_ptr(), g.as_ptr(), out) }))
    }

    fn remove_membership(&self, key: &str, group: &str) -> Result<(), DirError> {
        let cb = self.vt.remove_membership.expect("checked");
        let (k, g) = (c(key)?, c(group)?);
        self.unit(self.call("remove_membership", |ctx, out| unsafe { cb(ctx, k.as_ptr(), g.as_ptr(), out) }))
    }

    fn create_group(&self, name: &str) -> Result<(), DirError> {
        let cb = self.vt.create_group.expect("checked");
        let n = c(name)?;
        self.unit(self.call("create_group", |ctx, out| unsafe { cb(ctx, n.as_ptr(), out) }))
    }

    fn set_avatar(&self, key: &str, image: &[u8]) -> Result<(), DirError> {
        let Some(cb) = self.vt.set_avatar else {
            return Err(DirError::Unsupported("this directory has no set_avatar callback".into()));
        };
        let k = c(key)?;
        self.unit(self.call("set_avatar", |ctx, out| unsafe { cb(ctx, k.as_ptr(), image.as_ptr(), image.len(), out) }))
    }

    fn try_lock(&self, name: &str, ttl_seconds: u64) -> Result<bool, DirError> {
        let cb = self.vt.try_lock.expect("checked");
        let n = c(name)?;
        let mut acquired = false;
        self.call("try_lock", |ctx, out| unsafe { cb(ctx, n.as_ptr(), ttl_seconds, &mut acquired, out) })?;
        Ok(acquired)
    }

    fn unlock(&self, name: &str) -> Result<(), DirError> {
        let cb = self.vt.unlock.expect("checked");
        let n = c(name)?;
        self.unit(self.call("unlock", |ctx, out| unsafe { cb(ctx, n.as_ptr(), out) }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A minimal host: every required callback answers OK; `set_avatar` and the batch callbacks
    // record what reached them.
    unsafe extern "C" fn read_ok(_: *mut c_void, _: *mut UsersyncOut) -> i32 {
        0
    }
    unsafe extern "C" fn key_ok(_: *mut c_void, _: *const c_char, _: *mut UsersyncOut) -> i32 {
        0
    }
    unsafe extern "C" fn key_arg_ok(_: *mut c_void, _: *const c_char, _: *const c_char, _: *mut UsersyncOut) -> i32 {
        0
    }
    unsafe extern "C" fn create_ok(
        _: *mut c_void,
        _: *const c_char,
        _: *const c_char,
        _: *const c_char,
        _: bool,
        _: *const c_char,
        _: *mut UsersyncOut,
    ) -> i32 {
        0
    }
    unsafe extern "C" fn set3_ok(
        _: *mut c_void,
        _: *const c_char,
        _: *const c_char,
        _: *const c_char,
        _: *mut UsersyncOut,
    ) -> i32 {
        0
    }
    unsafe extern "C" fn active_ok(_: *mut c_void, _: *const c_char, _: bool, _: *mut UsersyncOut) -> i32 {
        0
    }
    unsafe extern "C" fn lock_ok(
        _: *mut c_void,
        _: *const c_char,
        _: u64,
        acquired: *mut bool,
        _: *mut UsersyncOut,
    ) -> i32 {
        *acquired = true;
        0
    }
    unsafe extern "C" fn batch_begun(ctx: *mut c_void, _: *mut UsersyncOut) -> i32 {
        (*(ctx as *mut Seen)).batches += 1;
        0
    }
    unsafe extern "C" fn avatar(
        ctx: *mut c_void,
        key: *const c_char,
        image: *const u8,
        len: usize,
        _: *mut UsersyncOut,
    ) -> i32 {
        let seen = &mut *(ctx as *mut Seen);
        seen.avatar = Some((
            std::ffi::CStr::from_ptr(key).to_string_lossy().into_owned(),
            std::slice::from_raw_parts(image, len).to_vec(),
        ));
        0
    }

    #[derive(Default)]
    struct Seen {
        batches: usize,
        avatar: Option<(String, Vec<u8>)>,
    }

    fn host(seen: &mut Seen, optional: bool) -> HostDirectory {
        let vt = UsersyncDirectory {
            ctx: seen as *mut Seen as *mut c_void,
            capabilities: Some(read_ok),
            list_users: Some(read_ok),
            list_groups: Some(read_ok),
            create_user: Some(create_ok),
            update_core: Some(set3_ok),
            rename: Some(key_arg_ok),
            set_active: Some(active_ok),
            delete_user: Some(key_ok),
            anonymise: Some(key_ok),
            set_field: Some(set3_ok),
            add_membership: Some(key_arg_ok),
            remove_membership: Some(key_arg_ok),
            create_group: Some(key_ok),
            try_lock: Some(lock_ok),
            unlock: Some(key_ok),
            destroy: None,
            find_user: None,
            find_by_external_id: None,
            users_by_keys: None,
            begin_batch: optional.then_some(batch_begun as unsafe extern "C" fn(*mut c_void, *mut UsersyncOut) -> i32),
            end_batch: None,
            set_avatar: optional.then_some(
                avatar as unsafe extern "C" fn(*mut c_void, *const c_char, *const u8, usize, *mut UsersyncOut) -> i32,
            ),
        };
        HostDirectory::new(vt).unwrap_or_else(|e| panic!("{}", e.message))
    }

    #[test]
    fn avatars_and_batches_reach_a_c_host_and_are_optional() {
        let mut seen = Seen::default();
        let dir = host(&mut seen, true);
        dir.begin_batch().unwrap();
        dir.end_batch().unwrap(); // absent: nothing to do
        dir.set_avatar("k7", &[0xff, 0xd8, 0xff, 0x00, 0x01]).unwrap();
        drop(dir);
        assert_eq!(seen.batches, 1);
        assert_eq!(seen.avatar, Some(("k7".to_string(), vec![0xff, 0xd8, 0xff, 0x00, 0x01])), "every byte, NULs too");

        let mut seen = Seen::default();
        let dir = host(&mut seen, false);
        assert!(matches!(dir.set_avatar("k7", b"x"), Err(DirError::Unsupported(_))));
        dir.begin_batch().unwrap();
    }
}
