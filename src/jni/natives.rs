//! The natives of `org.usersync.NativeEngine`, one Rust function behind each.

use jni::objects::{JClass, JObject, JString};
use jni::sys::{jint, jlong};
use jni::{jni_sig, jni_str, Env, EnvUnowned, JavaVM};

use super::boundary::{lookup, register, unregister, JniError, Throw};
use super::directory::JavaDirectory;
use super::tables::JavaTables;
use crate::engine::host::{validate_config, HostEngine};
use crate::store::table_store::TableStore;
use std::sync::Arc;

type Res<T> = Result<T, JniError>;

fn string(env: &Env, s: &JString, name: &str) -> Res<String> {
    if s.is_null() {
        return Err(JniError::illegal_argument(format!("{name} is null")));
    }
    Ok(s.try_to_string(env)?)
}

fn opt_string(env: &Env, s: &JString) -> Res<Option<String>> {
    if s.is_null() {
        Ok(None)
    } else {
        Ok(Some(s.try_to_string(env)?))
    }
}

/// The Java directory behind an adapter argument.
fn java_directory(env: &mut Env, adapter: &JObject) -> Res<JavaDirectory> {
    if adapter.is_null() {
        return Err(JniError::illegal_argument("directory is null"));
    }
    Ok(JavaDirectory::new(env.new_global_ref(adapter)?))
}

/// The state store over the Java tables behind an adapter argument.
fn table_store(env: &mut Env, tables: &JObject) -> Res<TableStore> {
    if tables.is_null() {
        return Err(JniError::illegal_argument("tables is null"));
    }
    Ok(TableStore::new(Arc::new(JavaTables::new(env.new_global_ref(tables)?))))
}

fn jstring<'l>(env: &mut Env<'l>, s: String) -> Res<JString<'l>> {
    // Every string handed to Java passes the redaction layer.
    Ok(JString::from_str(env, crate::redact::document(&s))?)
}

#[no_mangle]
pub extern "system" fn Java_org_usersync_NativeEngine_abiVersion<'l>(mut env: EnvUnowned<'l>, _c: JClass<'l>) -> jint {
    env.with_env(|_env| -> Res<jint> { Ok(crate::ffi::USERSYNC_ABI_VERSION as jint) }).resolve::<Throw>()
}

#[no_mangle]
pub extern "system" fn Java_org_usersync_NativeEngine_create<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    state_path: JString<'l>,
    config_json: JString<'l>,
    base_dir: JString<'l>,
    adapter: JObject<'l>,
) -> jlong {
    env.with_env(|env| -> Res<jlong> {
        let directory = java_directory(env, &adapter)?;
        let host = HostEngine::new(
            &string(env, &state_path, "statePath")?,
            &string(env, &config_json, "configJson")?,
            opt_string(env, &base_dir)?.as_deref(),
            Box::new(directory),
        )?;
        Ok(register(host))
    })
    .resolve::<Throw>()
}

#[no_mangle]
pub extern "system" fn Java_org_usersync_NativeEngine_createWithTables<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    tables: JObject<'l>,
    config_json: JString<'l>,
    base_dir: JString<'l>,
    adapter: JObject<'l>,
) -> jlong {
    env.with_env(|env| -> Res<jlong> {
        let directory = java_directory(env, &adapter)?;
        let store = table_store(env, &tables)?;
        let host = HostEngine::with_store(
            Box::new(store),
            &string(env, &config_json, "configJson")?,
            opt_string(env, &base_dir)?.as_deref(),
            Box::new(directory),
        )?;
        Ok(register(host))
    })
    .resolve::<Throw>()
}

#[no_mangle]
pub extern "system" fn Java_org_usersync_NativeEngine_checkStateTables<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    tables: JObject<'l>,
) {
    env.with_env(|env| -> Res<()> {
        if tables.is_null() {
            return Err(JniError::illegal_argument("tables is null"));
        }
        TableStore::check_tables(Arc::new(JavaTables::new(env.new_global_ref(&tables)?))).map_err(JniError::state)
    })
    .resolve::<Throw>()
}

#[no_mangle]
pub extern "system" fn Java_org_usersync_NativeEngine_createFromStore<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    tables: JObject<'l>,
    adapter: JObject<'l>,
    empty_base_dir: JString<'l>,
) -> jlong {
    env.with_env(|env| -> Res<jlong> {
        let directory = java_directory(env, &adapter)?;
        let store = table_store(env, &tables)?;
        // With a base directory, nothing stored yet means no connectors yet (the admin page
        // makes them); without one it is an error.
        let engine = match opt_string(env, &empty_base_dir)? {
            Some(base) => HostEngine::from_store_or_empty(Box::new(store), Box::new(directory), &base)?,
            None => HostEngine::from_stored_config(Box::new(store), Box::new(directory))?,
        };
        Ok(register(engine))
    })
    .resolve::<Throw>()
}

#[no_mangle]
pub extern "system" fn Java_org_usersync_NativeEngine_importConfig<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    handle: jlong,
    config_json: JString<'l>,
    base_dir: JString<'l>,
) {
    env.with_env(|env| -> Res<()> {
        let engine = lookup(handle)?;
        Ok(engine.import_config(&string(env, &config_json, "configJson")?, opt_string(env, &base_dir)?.as_deref())?)
    })
    .resolve::<Throw>()
}

#[no_mangle]
pub extern "system" fn Java_org_usersync_NativeEngine_setConfig<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    handle: jlong,
    config_json: JString<'l>,
    base_dir: JString<'l>,
) {
    env.with_env(|env| -> Res<()> {
        let engine = lookup(handle)?;
        Ok(engine.set_config(&string(env, &config_json, "configJson")?, opt_string(env, &base_dir)?.as_deref())?)
    })
    .resolve::<Throw>()
}

#[no_mangle]
pub extern "system" fn Java_org_usersync_NativeEngine_validateConfig<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    config_json: JString<'l>,
) {
    env.with_env(|env| -> Res<()> { Ok(validate_config(&string(env, &config_json, "configJson")?)?) })
        .resolve::<Throw>()
}

#[no_mangle]
pub extern "system" fn Java_org_usersync_NativeEngine_run<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    handle: jlong,
    request_json: JString<'l>,
) -> JString<'l> {
    answer(&mut env, handle, |env, e| Ok(e.run(&opt_string(env, &request_json)?.unwrap_or_default())?))
}

#[no_mangle]
pub extern "system" fn Java_org_usersync_NativeEngine_start<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    handle: jlong,
    request_json: JString<'l>,
) -> jlong {
    env.with_env(|env| -> Res<jlong> {
        let engine = lookup(handle)?;
        Ok(engine.start(&opt_string(env, &request_json)?.unwrap_or_default())?)
    })
    .resolve::<Throw>()
}

/// The shape of every native that answers a string: look the engine up, call, convert.
fn answer<'l>(
    env: &mut EnvUnowned<'l>,
    handle: jlong,
    f: impl FnOnce(&Env<'l>, &HostEngine) -> Res<String>,
) -> JString<'l> {
    env.with_env(|env| -> Res<JString<'l>> {
        let engine = lookup(handle)?;
        let text = f(env, &engine)?;
        jstring(env, text)
    })
    .resolve::<Throw>()
}

/// One call of the admin API (src/admin): the servlet inside Jira or Confluence forwards its
/// requests here, so both servers answer with the same handlers. The answer is an envelope:
/// `{"status", "content_type", "filename", "body"}`.
#[no_mangle]
pub extern "system" fn Java_org_usersync_NativeEngine_adminCall<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    handle: jlong,
    method: JString<'l>,
    path: JString<'l>,
    query: JString<'l>,
    body: JString<'l>,
) -> JString<'l> {
    env.with_env(|env| -> Res<JString<'l>> {
        let api = crate::admin::AdminApi::new(lookup(handle)?);
        let method = string(env, &method, "method")?;
        let path = string(env, &path, "path")?;
        let query = opt_string(env, &query)?.unwrap_or_default();
        let body = opt_string(env, &body)?.unwrap_or_default();
        let answer = api.handle(&crate::admin::ApiRequest {
            method: &method,
            path: &path,
            query: &query,
            body: body.as_bytes(),
        });
        let envelope = serde_json::json!({
            "status": answer.status,
            "content_type": answer.content_type,
            "filename": answer.filename,
            "body": String::from_utf8_lossy(&answer.body),
        });
        jstring(env, envelope.to_string())
    })
    .resolve::<Throw>()
}

/// One request to the SCIM endpoint (src/scim): the plugin's servlet forwards what an IdP sent.
/// The bearer token in `authorization` picks the `scim-inbound` connector; `base` is the
/// endpoint's URL as the IdP reaches it. The answer is an envelope: `{"status", "location",
/// "www_authenticate", "body"}` (`body` the JSON text, or null for 204).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_org_usersync_NativeEngine_scimCall<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    handle: jlong,
    base: JString<'l>,
    authorization: JString<'l>,
    method: JString<'l>,
    path: JString<'l>,
    query: JString<'l>,
    body: JString<'l>,
) -> JString<'l> {
    answer(&mut env, handle, |env, e| {
        let base = string(env, &base, "base")?;
        let authorization = opt_string(env, &authorization)?;
        let method = string(env, &method, "method")?;
        let path = string(env, &path, "path")?;
        let query = opt_string(env, &query)?.unwrap_or_default();
        let body = opt_string(env, &body)?.unwrap_or_default();
        let a = e.scim(&base, authorization.as_deref(), &method, &path, &query, body.as_bytes())?;
        Ok(serde_json::json!({
            "status": a.response.status,
            "location": a.response.location,
            "www_authenticate": a.www_authenticate,
            "body": a.response.body.map(|b| b.to_string()),
        })
        .to_string())
    })
}

#[no_mangle]
pub extern "system" fn Java_org_usersync_NativeEngine_progress<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    handle: jlong,
    run_id: jlong,
) -> JString<'l> {
    answer(&mut env, handle, |_, e| Ok(e.progress(run_id)?))
}

#[no_mangle]
pub extern "system" fn Java_org_usersync_NativeEngine_waitFor<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    handle: jlong,
    run_id: jlong,
) -> JString<'l> {
    answer(&mut env, handle, |_, e| Ok(e.wait(run_id)?))
}

#[no_mangle]
pub extern "system" fn Java_org_usersync_NativeEngine_approve<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    handle: jlong,
    run_id: jlong,
) -> JString<'l> {
    answer(&mut env, handle, |_, e| Ok(e.approve(run_id)?))
}

#[no_mangle]
pub extern "system" fn Java_org_usersync_NativeEngine_results<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    handle: jlong,
    run_id: jlong,
) -> JString<'l> {
    answer(&mut env, handle, |_, e| Ok(e.results(run_id)?))
}

#[no_mangle]
pub extern "system" fn Java_org_usersync_NativeEngine_cancel<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    handle: jlong,
    run_id: jlong,
) {
    env.with_env(|_env| -> Res<()> { Ok(lookup(handle)?.cancel(run_id)?) }).resolve::<Throw>()
}

#[no_mangle]
pub extern "system" fn Java_org_usersync_NativeEngine_startScheduler<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    handle: jlong,
) {
    env.with_env(|_env| -> Res<()> { Ok(lookup(handle)?.start_scheduler()?) }).resolve::<Throw>()
}

#[no_mangle]
pub extern "system" fn Java_org_usersync_NativeEngine_stopScheduler<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    handle: jlong,
) {
    env.with_env(|_env| -> Res<()> {
        lookup(handle)?.stop_scheduler();
        Ok(())
    })
    .resolve::<Throw>()
}

#[no_mangle]
pub extern "system" fn Java_org_usersync_NativeEngine_nextFireTimes<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    handle: jlong,
    count: jint,
) -> JString<'l> {
    answer(&mut env, handle, |_, e| Ok(e.next_fire_times(count.max(0) as usize)))
}

#[no_mangle]
pub extern "system" fn Java_org_usersync_NativeEngine_history<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    handle: jlong,
    limit: jint,
) -> JString<'l> {
    answer(&mut env, handle, |_, e| Ok(e.history(limit.max(0) as usize)?))
}

#[no_mangle]
pub extern "system" fn Java_org_usersync_NativeEngine_onLogin<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    handle: jlong,
    connector: JString<'l>,
    username: JString<'l>,
    attributes_json: JString<'l>,
) -> JString<'l> {
    answer(&mut env, handle, |env, e| {
        let attributes: std::collections::BTreeMap<String, String> = match opt_string(env, &attributes_json)? {
            Some(text) => serde_json::from_str(&text).map_err(|err| {
                JniError::illegal_argument(format!("attributesJson is not a JSON object of strings: {err}"))
            })?,
            None => Default::default(),
        };
        let connector = opt_string(env, &connector)?;
        Ok(e.on_login_with(connector.as_deref(), &string(env, &username, "username")?, &attributes)?)
    })
}

#[no_mangle]
pub extern "system" fn Java_org_usersync_NativeEngine_loginAttributes<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    handle: jlong,
) -> JString<'l> {
    answer(&mut env, handle, |_, e| Ok(e.login_attributes()))
}

#[no_mangle]
pub extern "system" fn Java_org_usersync_NativeEngine_schedules<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    handle: jlong,
) -> JString<'l> {
    answer(&mut env, handle, |_, e| Ok(e.schedules()))
}

#[no_mangle]
pub extern "system" fn Java_org_usersync_NativeEngine_check<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    handle: jlong,
    connector: JString<'l>,
) -> JString<'l> {
    answer(&mut env, handle, |env, e| Ok(e.check(&string(env, &connector, "connector")?)?))
}

/// Closes the engine: cancels and joins its runs, so no attached worker thread outlives it,
/// and releases the Java directory. A second close is a no-op.
#[no_mangle]
pub extern "system" fn Java_org_usersync_NativeEngine_close<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    handle: jlong,
) {
    env.with_env(|_env| -> Res<()> {
        if let Some(engine) = unregister(handle) {
            engine.close();
        }
        Ok(())
    })
    .resolve::<Throw>()
}

/// Installs a Java log sink (an object with `void log(String level, String target, String message)`).
#[no_mangle]
pub extern "system" fn Java_org_usersync_NativeEngine_setLogSink<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    sink: JObject<'l>,
    max_level: jint,
) {
    env.with_env(|env| -> Res<()> {
        if sink.is_null() {
            return Err(JniError::illegal_argument("sink is null"));
        }
        let level = match max_level {
            1 => tracing::Level::ERROR,
            2 => tracing::Level::WARN,
            3 => tracing::Level::INFO,
            4 => tracing::Level::DEBUG,
            _ => tracing::Level::TRACE,
        };
        let sink = std::sync::Mutex::new(env.new_global_ref(&sink)?);
        crate::logging::set_sink(
            level,
            Box::new(move |r| {
                let Ok(vm) = JavaVM::singleton() else { return };
                let sink = sink.lock().unwrap_or_else(|p| p.into_inner());
                let _ = vm.attach_current_thread(|env| -> jni::errors::Result<()> {
                    let (l, t, m) = (
                        JString::from_str(env, r.level)?,
                        JString::from_str(env, &r.target)?,
                        JString::from_str(env, &r.message)?,
                    );
                    let called = env.call_method(
                        &*sink,
                        jni_str!("log"),
                        jni_sig!("(Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;)V"),
                        &[(&l).into(), (&t).into(), (&m).into()],
                    );
                    if called.is_err() {
                        // A sink that throws loses that line; it must not break the run.
                        let _ = env.exception_catch();
                    }
                    Ok(())
                });
            }),
        );
        Ok(())
    })
    .resolve::<Throw>()
}

#[no_mangle]
pub extern "system" fn Java_org_usersync_NativeEngine_clearLogSink<'l>(mut env: EnvUnowned<'l>, _c: JClass<'l>) {
    env.with_env(|_env| -> Res<()> {
        crate::logging::clear_sink();
        Ok(())
    })
    .resolve::<Throw>()
}

/// Diagnostics for the shim's benchmark: `times` calls of the read-only operation `op`
/// (`find_user`, `capabilities` or `list_groups`) with `arg` on `directory`, made from Rust
/// exactly as a run makes them (the same adapter, the same decoding of the answer); answers the
/// nanoseconds they took in all. Measured against `timeRustDirectoryCalls`, it is the cost of
/// the crossing.
#[no_mangle]
pub extern "system" fn Java_org_usersync_NativeEngine_timeDirectoryCalls<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    directory: JObject<'l>,
    op: JString<'l>,
    arg: JString<'l>,
    times: jint,
) -> jlong {
    env.with_env(|env| -> Res<jlong> {
        let dir = java_directory(env, &directory)?;
        let op = string(env, &op, "op")?;
        let arg = opt_string(env, &arg)?.unwrap_or_default();
        Ok(super::bench::time_calls(&dir, &op, &arg, times)? as jlong)
    })
    .resolve::<Throw>()
}

/// `timeDirectoryCalls` against the Rust twin of the tests' in-memory directory: no crossing.
#[no_mangle]
pub extern "system" fn Java_org_usersync_NativeEngine_timeRustDirectoryCalls<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    op: JString<'l>,
    arg: JString<'l>,
    times: jint,
) -> jlong {
    env.with_env(|env| -> Res<jlong> {
        let op = string(env, &op, "op")?;
        let arg = opt_string(env, &arg)?.unwrap_or_default();
        Ok(super::bench::time_rust_calls(&op, &arg, times)? as jlong)
    })
    .resolve::<Throw>()
}

/// Diagnostics for the shim's benchmark: the configured sync, `runs` times, into the Rust twin of
/// the tests' in-memory directory (no crossing); a JSON array with one object per run.
#[no_mangle]
pub extern "system" fn Java_org_usersync_NativeEngine_syncRustDirectory<'l>(
    mut env: EnvUnowned<'l>,
    _c: JClass<'l>,
    state_path: JString<'l>,
    config_json: JString<'l>,
    base_dir: JString<'l>,
    runs: jint,
) -> JString<'l> {
    env.with_env(|env| -> Res<JString<'l>> {
        let answer = super::bench::sync_rust_directory(
            &string(env, &state_path, "statePath")?,
            &string(env, &config_json, "configJson")?,
            opt_string(env, &base_dir)?.as_deref(),
            runs,
        )?;
        jstring(env, answer)
    })
    .resolve::<Throw>()
}

/// For tests of the boundary: panics inside a native; Java sees `IllegalStateException`.
#[no_mangle]
pub extern "system" fn Java_org_usersync_NativeEngine_testingPanic<'l>(mut env: EnvUnowned<'l>, _c: JClass<'l>) {
    env.with_env(|_env| -> Res<()> { panic!("NativeEngine.testingPanic was called") }).resolve::<Throw>()
}
