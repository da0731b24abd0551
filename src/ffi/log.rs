//! The host's log sink over the C ABI.

use std::ffi::{c_char, c_void, CString};
use std::sync::Mutex;

use super::boundary::{guard, FfiError, UsersyncStatus};
use crate::logging::{clear_sink, set_sink};

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsersyncLogLevel {
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
    Trace = 5,
}

/// A log callback. `log` receives level ("ERROR" .. "TRACE"), target and message, valid only
/// during the call; calls never overlap. `destroy` (may be NULL) is called when the sink is
/// replaced or cleared.
#[repr(C)]
pub struct UsersyncLogSink {
    pub ctx: *mut c_void,
    pub log: Option<
        unsafe extern "C" fn(ctx: *mut c_void, level: *const c_char, target: *const c_char, message: *const c_char),
    >,
    pub destroy: Option<unsafe extern "C" fn(ctx: *mut c_void)>,
}

struct HostSink(UsersyncLogSink);

// SAFETY: the documented contract makes `ctx` usable from any thread; calls are serialised.
unsafe impl Send for HostSink {}

impl Drop for HostSink {
    fn drop(&mut self) {
        if let Some(destroy) = self.0.destroy {
            // SAFETY: called once with the host's ctx.
            unsafe { destroy(self.0.ctx) };
        }
    }
}

/// Installs the process-wide log sink (replacing any earlier one).
///
/// # Safety
/// `sink` is NULL or points to a filled struct; the library takes `ctx` over.
#[no_mangle]
pub unsafe extern "C" fn usersync_log_sink_set(
    sink: *const UsersyncLogSink,
    max_level: UsersyncLogLevel,
    error_out: *mut *mut c_char,
) -> UsersyncStatus {
    guard(error_out, || {
        if sink.is_null() {
            return Err(FfiError::new(UsersyncStatus::NullArgument, "sink is NULL"));
        }
        let host = HostSink(std::ptr::read(sink));
        let Some(log) = host.0.log else {
            return Err(FfiError::new(UsersyncStatus::NullArgument, "sink->log is NULL"));
        };
        let level = match max_level {
            UsersyncLogLevel::Error => tracing::Level::ERROR,
            UsersyncLogLevel::Warn => tracing::Level::WARN,
            UsersyncLogLevel::Info => tracing::Level::INFO,
            UsersyncLogLevel::Debug => tracing::Level::DEBUG,
            UsersyncLogLevel::Trace => tracing::Level::TRACE,
        };
        let host = Mutex::new(host);
        set_sink(
            level,
            Box::new(move |r| {
                let host = host.lock().unwrap_or_else(|p| p.into_inner());
                let text = |s: &str| CString::new(s.replace('\0', "")).expect("NUL removed");
                let (l, t, m) = (text(r.level), text(&r.target), text(&r.message));
                // SAFETY: the host's callback, with strings valid for the call.
                unsafe { log(host.0.ctx, l.as_ptr(), t.as_ptr(), m.as_ptr()) };
            }),
        );
        Ok(())
    })
}

/// Removes the log sink (calling its `destroy`).
#[no_mangle]
pub extern "C" fn usersync_log_sink_clear() {
    let _ = guard(std::ptr::null_mut(), || {
        clear_sink();
        Ok(())
    });
}
