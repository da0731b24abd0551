//! The one boundary every export goes through: panics become `USERSYNC_STATUS_PANIC`, errors
//! become a status plus a message in the caller's error out-param.

use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::engine::host::{panic_message, ErrorKind, HostError};

/// Status codes. Append-only: a number, once published, never changes meaning.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsersyncStatus {
    Ok = 0,
    /// A required pointer argument was NULL.
    NullArgument = 1,
    /// A string argument was not UTF-8.
    InvalidUtf8 = 2,
    /// The configuration or a request is invalid; the message names what and where.
    Config = 3,
    /// The state store failed.
    State = 4,
    /// The directory failed outside a per-user operation.
    Directory = 5,
    /// The request cannot be carried out (unknown run, run not held, engine closed, ...).
    InvalidRequest = 6,
    /// Another run of the connector is in progress.
    Busy = 7,
    /// The library hit an internal error; the call had no effect beyond what its message says.
    Panic = 8,
}

pub(crate) struct FfiError {
    pub status: UsersyncStatus,
    pub message: String,
}

impl FfiError {
    pub fn new(status: UsersyncStatus, message: impl Into<String>) -> Self {
        FfiError { status, message: message.into() }
    }
}

impl From<HostError> for FfiError {
    fn from(e: HostError) -> Self {
        let status = match e.kind {
            ErrorKind::Config => UsersyncStatus::Config,
            ErrorKind::State => UsersyncStatus::State,
            ErrorKind::Directory => UsersyncStatus::Directory,
            ErrorKind::Invalid => UsersyncStatus::InvalidRequest,
            ErrorKind::Busy => UsersyncStatus::Busy,
        };
        FfiError::new(status, e.message)
    }
}

/// Runs `f`, catching panics. On failure the message goes to `*error_out` (when non-NULL), to be
/// released with `usersync_string_free`.
pub(crate) fn guard(error_out: *mut *mut c_char, f: impl FnOnce() -> Result<(), FfiError>) -> UsersyncStatus {
    let result = catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| {
        Err(FfiError::new(UsersyncStatus::Panic, format!("internal error: {}", panic_message(&*p))))
    });
    match result {
        Ok(()) => UsersyncStatus::Ok,
        Err(e) => {
            if !error_out.is_null() {
                // SAFETY: the caller passed a writable `char **` (documented contract).
                unsafe { *error_out = to_c(crate::redact::text(&e.message)) };
            }
            e.status
        }
    }
}

/// An owned C string for the caller, through the redaction layer; interior NUL bytes
/// (impossible in JSON) are dropped.
pub(crate) fn to_c(s: String) -> *mut c_char {
    let s = match crate::redact::document(&s) {
        std::borrow::Cow::Owned(clean) => clean,
        std::borrow::Cow::Borrowed(_) => s,
    };
    let bytes: Vec<u8> = s.into_bytes().into_iter().filter(|b| *b != 0).collect();
    CString::new(bytes).expect("NUL bytes removed").into_raw()
}

/// A required string argument.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that outlives the call.
pub(crate) unsafe fn arg<'a>(p: *const c_char, name: &str) -> Result<&'a str, FfiError> {
    if p.is_null() {
        return Err(FfiError::new(UsersyncStatus::NullArgument, format!("{name} is NULL")));
    }
    CStr::from_ptr(p).to_str().map_err(|_| FfiError::new(UsersyncStatus::InvalidUtf8, format!("{name} is not UTF-8")))
}

/// An optional string argument (NULL allowed).
///
/// # Safety
/// As for `arg`.
pub(crate) unsafe fn opt_arg<'a>(p: *const c_char, name: &str) -> Result<Option<&'a str>, FfiError> {
    if p.is_null() {
        Ok(None)
    } else {
        arg(p, name).map(Some)
    }
}

pub(crate) fn out_ptr<T>(p: *mut T, name: &str) -> Result<(), FfiError> {
    if p.is_null() {
        Err(FfiError::new(UsersyncStatus::NullArgument, format!("{name} is NULL")))
    } else {
        Ok(())
    }
}

/// Releases a string the library returned. NULL is ignored.
///
/// # Safety
/// `s` is NULL or a string from this library not yet freed.
#[no_mangle]
pub unsafe extern "C" fn usersync_string_free(s: *mut c_char) {
    if !s.is_null() {
        let _ = catch_unwind(|| drop(CString::from_raw(s)));
    }
}
