//! Engine exports. Each is one call into `HostEngine` inside the boundary.

use std::ffi::c_char;
use std::path::Path;

use super::boundary::{arg, guard, opt_arg, out_ptr, to_c, FfiError, UsersyncStatus};
use super::directory::{HostDirectory, UsersyncDirectory};
use super::USERSYNC_ABI_VERSION;
use crate::directory::local::LocalDirectory;
use crate::engine::host::{validate_config, HostEngine, HostError};
use crate::engine::Call;

/// An engine: a state store, a directory and a configuration. Create with
/// `usersync_engine_new` or `usersync_engine_new_local`; release with `usersync_engine_free`.
pub struct UsersyncEngine {
    host: HostEngine,
}

/// The ABI version this library implements (`USERSYNC_ABI_VERSION` in the header it was built
/// with). A host checks it once after loading the library.
#[no_mangle]
pub extern "C" fn usersync_abi_version() -> u32 {
    USERSYNC_ABI_VERSION
}

/// The engine, entered for the rest of the export: `usersync_engine_free` on another thread
/// cancels what runs and waits until this call has written its answer.
struct Entered<'a> {
    host: &'a HostEngine,
    _call: Call<'a>,
}

impl std::ops::Deref for Entered<'_> {
    type Target = HostEngine;

    fn deref(&self) -> &HostEngine {
        self.host
    }
}

/// # Safety
/// `engine` is NULL or a live engine from this library.
unsafe fn engine<'a>(engine: *const UsersyncEngine) -> Result<Entered<'a>, FfiError> {
    if engine.is_null() {
        return Err(FfiError::new(UsersyncStatus::NullArgument, "engine is NULL"));
    }
    let host = &(*engine).host;
    let call = host.engine().enter().map_err(|e| FfiError::from(HostError::from(e)))?;
    Ok(Entered { host, _call: call })
}

/// The shape of every export that answers a string: check the engine and the out-param, call,
/// and write the answer only on success.
///
/// # Safety
/// `engine` is NULL or live; `out` is NULL or writable; `error_out` as for `guard`.
unsafe fn answer(
    engine: *const UsersyncEngine,
    out: *mut *mut c_char,
    out_name: &str,
    error_out: *mut *mut c_char,
    f: impl FnOnce(&HostEngine) -> Result<String, FfiError>,
) -> UsersyncStatus {
    guard(error_out, || {
        let host = self::engine(engine)?;
        out_ptr(out, out_name)?;
        let text = f(&host)?;
        *out = to_c(text);
        Ok(())
    })
}

/// Creates an engine over a host directory. The engine takes `directory->ctx` over: `destroy`
/// is called when the engine is freed, or at once if creation fails.
///
/// # Safety
/// Pointers are NULL or valid for the call; `directory` points to a filled vtable.
#[no_mangle]
pub unsafe extern "C" fn usersync_engine_new(
    state_path: *const c_char,
    config_json: *const c_char,
    base_dir: *const c_char,
    directory: *const UsersyncDirectory,
    engine_out: *mut *mut UsersyncEngine,
    error_out: *mut *mut c_char,
) -> UsersyncStatus {
    guard(error_out, || {
        if directory.is_null() {
            return Err(FfiError::new(UsersyncStatus::NullArgument, "directory is NULL"));
        }
        // Take the vtable first, so `destroy` runs on every error path below.
        let dir = HostDirectory::new(std::ptr::read(directory))?;
        out_ptr(engine_out, "engine_out")?;
        let host = HostEngine::new(
            arg(state_path, "state_path")?,
            arg(config_json, "config_json")?,
            opt_arg(base_dir, "base_dir")?,
            Box::new(dir),
        )?;
        *engine_out = Box::into_raw(Box::new(UsersyncEngine { host }));
        Ok(())
    })
}

/// Creates an engine over the embedded local directory (a SQLite file), as the CLI uses.
///
/// # Safety
/// Pointers are NULL or valid for the call.
#[no_mangle]
pub unsafe extern "C" fn usersync_engine_new_local(
    state_path: *const c_char,
    directory_path: *const c_char,
    config_json: *const c_char,
    base_dir: *const c_char,
    engine_out: *mut *mut UsersyncEngine,
    error_out: *mut *mut c_char,
) -> UsersyncStatus {
    guard(error_out, || {
        out_ptr(engine_out, "engine_out")?;
        let dir = LocalDirectory::open(Path::new(arg(directory_path, "directory_path")?))
            .map_err(|e| FfiError::new(UsersyncStatus::Directory, e.to_string()))?;
        let host = HostEngine::new(
            arg(state_path, "state_path")?,
            arg(config_json, "config_json")?,
            opt_arg(base_dir, "base_dir")?,
            Box::new(dir),
        )?;
        *engine_out = Box::into_raw(Box::new(UsersyncEngine { host }));
        Ok(())
    })
}

/// Cancels running runs, waits for them, and releases the engine. NULL is ignored.
///
/// # Safety
/// `engine` is NULL or a live engine; it must not be used afterwards.
#[no_mangle]
pub unsafe extern "C" fn usersync_engine_free(engine: *mut UsersyncEngine) {
    if engine.is_null() {
        return;
    }
    let _ = guard(std::ptr::null_mut(), || {
        let boxed = Box::from_raw(engine);
        boxed.host.close();
        drop(boxed);
        Ok(())
    });
}

/// Replaces the configuration; on error the previous one stays.
///
/// # Safety
/// Pointers are NULL or valid for the call.
#[no_mangle]
pub unsafe extern "C" fn usersync_engine_set_config(
    engine: *const UsersyncEngine,
    config_json: *const c_char,
    base_dir: *const c_char,
    error_out: *mut *mut c_char,
) -> UsersyncStatus {
    guard(error_out, || {
        let host = self::engine(engine)?;
        Ok(host.set_config(arg(config_json, "config_json")?, opt_arg(base_dir, "base_dir")?)?)
    })
}

/// Checks a configuration. `USERSYNC_STATUS_CONFIG` with every error (one per line, each with
/// its JSON path) in `*error_out` when it is invalid.
///
/// # Safety
/// Pointers are NULL or valid for the call.
#[no_mangle]
pub unsafe extern "C" fn usersync_config_validate(
    config_json: *const c_char,
    error_out: *mut *mut c_char,
) -> UsersyncStatus {
    guard(error_out, || Ok(validate_config(arg(config_json, "config_json")?)?))
}

/// Runs a sync and waits for it. `request_json` (NULL = a full run): {"connector", "mode":
/// "full"|"single_user", "user", "simulate", "trigger"}. `*report_out` receives the run report
/// JSON — the object `usersync sync --json` prints — whatever the run's status.
///
/// # Safety
/// Pointers are NULL or valid for the call.
#[no_mangle]
pub unsafe extern "C" fn usersync_engine_run(
    engine: *const UsersyncEngine,
    request_json: *const c_char,
    report_out: *mut *mut c_char,
    error_out: *mut *mut c_char,
) -> UsersyncStatus {
    answer(engine, report_out, "report_out", error_out, |host| {
        Ok(host.run(opt_arg(request_json, "request_json")?.unwrap_or(""))?)
    })
}

/// Starts a run on its own thread; `*run_id_out` receives its id.
///
/// # Safety
/// Pointers are NULL or valid for the call.
#[no_mangle]
pub unsafe extern "C" fn usersync_engine_start(
    engine: *const UsersyncEngine,
    request_json: *const c_char,
    run_id_out: *mut i64,
    error_out: *mut *mut c_char,
) -> UsersyncStatus {
    guard(error_out, || {
        let host = self::engine(engine)?;
        out_ptr(run_id_out, "run_id_out")?;
        *run_id_out = host.start(opt_arg(request_json, "request_json")?.unwrap_or(""))?;
        Ok(())
    })
}

/// Progress of a started run as JSON: {"run_id", "phase", "done", "total"}.
///
/// # Safety
/// Pointers are NULL or valid for the call.
#[no_mangle]
pub unsafe extern "C" fn usersync_engine_progress(
    engine: *const UsersyncEngine,
    run_id: i64,
    progress_out: *mut *mut c_char,
    error_out: *mut *mut c_char,
) -> UsersyncStatus {
    answer(engine, progress_out, "progress_out", error_out, |host| Ok(host.progress(run_id)?))
}

/// Asks a started run to stop between users; it ends CANCELLED.
///
/// # Safety
/// Pointers are NULL or valid for the call.
#[no_mangle]
pub unsafe extern "C" fn usersync_engine_cancel(
    engine: *const UsersyncEngine,
    run_id: i64,
    error_out: *mut *mut c_char,
) -> UsersyncStatus {
    guard(error_out, || Ok(self::engine(engine)?.cancel(run_id)?))
}

/// Waits for a started run; `*report_out` receives its report JSON.
///
/// # Safety
/// Pointers are NULL or valid for the call.
#[no_mangle]
pub unsafe extern "C" fn usersync_engine_wait(
    engine: *const UsersyncEngine,
    run_id: i64,
    report_out: *mut *mut c_char,
    error_out: *mut *mut c_char,
) -> UsersyncStatus {
    answer(engine, report_out, "report_out", error_out, |host| Ok(host.wait(run_id)?))
}

/// Applies what a HELD run held back, after re-checking; `*report_out` receives the new run's
/// report JSON.
///
/// # Safety
/// Pointers are NULL or valid for the call.
#[no_mangle]
pub unsafe extern "C" fn usersync_engine_approve(
    engine: *const UsersyncEngine,
    run_id: i64,
    report_out: *mut *mut c_char,
    error_out: *mut *mut c_char,
) -> UsersyncStatus {
    answer(engine, report_out, "report_out", error_out, |host| Ok(host.approve(run_id)?))
}

/// Starts the scheduler on the engine's configuration: each connector's `schedule` starts its
/// runs on threads of the engine (recorded with trigger `schedule`). Engines sharing a state store
/// start one run per fire time between them. `USERSYNC_STATUS_INVALID_REQUEST` when no connector
/// has a schedule.
///
/// # Safety
/// Pointers are NULL or valid for the call.
#[no_mangle]
pub unsafe extern "C" fn usersync_engine_scheduler_start(
    engine: *const UsersyncEngine,
    error_out: *mut *mut c_char,
) -> UsersyncStatus {
    guard(error_out, || Ok(self::engine(engine)?.start_scheduler()?))
}

/// Stops the scheduler; runs it started are cancelled between users and waited for. Blocks
/// until they have ended.
///
/// # Safety
/// Pointers are NULL or valid for the call.
#[no_mangle]
pub unsafe extern "C" fn usersync_engine_scheduler_stop(
    engine: *const UsersyncEngine,
    error_out: *mut *mut c_char,
) -> UsersyncStatus {
    guard(error_out, || {
        self::engine(engine)?.stop_scheduler();
        Ok(())
    })
}

/// The next `count` fire times of the configured schedules as a JSON array of
/// `{"connector", "kind", "at"}`, soonest first.
///
/// # Safety
/// Pointers are NULL or valid for the call.
#[no_mangle]
pub unsafe extern "C" fn usersync_engine_next_fire_times(
    engine: *const UsersyncEngine,
    count: u32,
    fire_times_out: *mut *mut c_char,
    error_out: *mut *mut c_char,
) -> UsersyncStatus {
    answer(engine, fire_times_out, "fire_times_out", error_out, |host| Ok(host.next_fire_times(count as usize)))
}

/// The newest `limit` runs as a JSON array.
///
/// # Safety
/// Pointers are NULL or valid for the call.
#[no_mangle]
pub unsafe extern "C" fn usersync_engine_history(
    engine: *const UsersyncEngine,
    limit: u32,
    history_out: *mut *mut c_char,
    error_out: *mut *mut c_char,
) -> UsersyncStatus {
    answer(engine, history_out, "history_out", error_out, |host| Ok(host.history(limit as usize)?))
}

/// A run and its per-user results: {"run": {...}, "results": [...]}.
///
/// # Safety
/// Pointers are NULL or valid for the call.
#[no_mangle]
pub unsafe extern "C" fn usersync_engine_results(
    engine: *const UsersyncEngine,
    run_id: i64,
    results_out: *mut *mut c_char,
    error_out: *mut *mut c_char,
) -> UsersyncStatus {
    answer(engine, results_out, "results_out", error_out, |host| Ok(host.results(run_id)?))
}

/// The login hook: `*decision_out` receives {"allow", "reason", "run_id"}. `connector` may be
/// NULL when the configuration has one connector.
///
/// # Safety
/// Pointers are NULL or valid for the call.
#[no_mangle]
pub unsafe extern "C" fn usersync_engine_on_login(
    engine: *const UsersyncEngine,
    connector: *const c_char,
    username: *const c_char,
    decision_out: *mut *mut c_char,
    error_out: *mut *mut c_char,
) -> UsersyncStatus {
    answer(engine, decision_out, "decision_out", error_out, |host| {
        Ok(host.on_login(opt_arg(connector, "connector")?, arg(username, "username")?)?)
    })
}

/// The login hook with what the host knows of the login: `attributes_json` is a JSON object of
/// strings (`{"header:X-Idp": "partners"}`) or NULL. Without a connector, `login.routes` and the
/// connectors' priorities choose the one that answers. `*decision_out` as for
/// `usersync_engine_on_login`.
///
/// # Safety
/// Pointers are NULL or valid for the call.
#[no_mangle]
pub unsafe extern "C" fn usersync_engine_on_login_with(
    engine: *const UsersyncEngine,
    connector: *const c_char,
    username: *const c_char,
    attributes_json: *const c_char,
    decision_out: *mut *mut c_char,
    error_out: *mut *mut c_char,
) -> UsersyncStatus {
    answer(engine, decision_out, "decision_out", error_out, |host| {
        let attributes = match opt_arg(attributes_json, "attributes_json")? {
            Some(text) => serde_json::from_str(text).map_err(|e| {
                FfiError::new(
                    UsersyncStatus::InvalidRequest,
                    format!("attributes_json is not a JSON object of strings: {e}"),
                )
            })?,
            None => Default::default(),
        };
        Ok(host.on_login_with(opt_arg(connector, "connector")?, arg(username, "username")?, &attributes)?)
    })
}

/// The login attributes the configured `login.routes` compare, as a JSON array of names
/// (`["header:X-Idp"]`): what a host passes to `usersync_engine_on_login_with`, and nothing more.
///
/// # Safety
/// Pointers are NULL or valid for the call.
#[no_mangle]
pub unsafe extern "C" fn usersync_engine_login_attributes(
    engine: *const UsersyncEngine,
    names_out: *mut *mut c_char,
    error_out: *mut *mut c_char,
) -> UsersyncStatus {
    answer(engine, names_out, "names_out", error_out, |host| Ok(host.login_attributes()))
}

/// A connection test of one connector: `*report_out` receives {"connector", "ok", "steps":
/// [{"step", "ok", "detail"}]}. A failed test is a successful call; read "ok".
///
/// # Safety
/// Pointers are NULL or valid for the call.
#[no_mangle]
pub unsafe extern "C" fn usersync_engine_check(
    engine: *const UsersyncEngine,
    connector: *const c_char,
    report_out: *mut *mut c_char,
    error_out: *mut *mut c_char,
) -> UsersyncStatus {
    answer(engine, report_out, "report_out", error_out, |host| Ok(host.check(arg(connector, "connector")?)?))
}

/// For tests of the boundary: panics inside it. Returns `USERSYNC_STATUS_PANIC`.
///
/// # Safety
/// `error_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn usersync_testing_panic(error_out: *mut *mut c_char) -> UsersyncStatus {
    guard(error_out, || panic!("usersync_testing_panic was called"))
}
