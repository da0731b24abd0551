//! How a native's outcome reaches Java: typed exceptions for errors, `IllegalStateException`
//! for panics, and a registry of live engines behind the `long` handles Java holds.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use jni::errors::ErrorPolicy;
use jni::strings::JNIStr;
use jni::{jni_str, Env};

use crate::engine::host::{ErrorKind, HostEngine, HostError};

/// A failure to report to Java as an exception of `class`.
#[derive(Debug)]
pub(crate) struct JniError {
    class: &'static JNIStr,
    message: String,
    /// A Java exception is already pending (a JNI call failed because Java threw): leave it.
    pending: bool,
}

impl JniError {
    pub fn illegal_state(message: impl Into<String>) -> Self {
        JniError { class: jni_str!("java/lang/IllegalStateException"), message: message.into(), pending: false }
    }

    /// A `StateException`: the state store (or a host's tables) failed.
    pub fn state(message: impl Into<String>) -> Self {
        JniError { class: jni_str!("org/usersync/StateException"), message: message.into(), pending: false }
    }

    pub fn illegal_argument(message: impl Into<String>) -> Self {
        JniError { class: jni_str!("java/lang/IllegalArgumentException"), message: message.into(), pending: false }
    }
}

impl From<jni::errors::Error> for JniError {
    fn from(e: jni::errors::Error) -> Self {
        let pending = matches!(e, jni::errors::Error::JavaException);
        JniError { pending, ..JniError::illegal_state(format!("JNI: {e}")) }
    }
}

impl From<HostError> for JniError {
    fn from(e: HostError) -> Self {
        let class = match e.kind {
            ErrorKind::Config => jni_str!("org/usersync/ConfigurationException"),
            ErrorKind::State => jni_str!("org/usersync/StateException"),
            ErrorKind::Directory => jni_str!("org/usersync/DirectoryException"),
            ErrorKind::Invalid => jni_str!("org/usersync/InvalidRequestException"),
            ErrorKind::Busy => jni_str!("org/usersync/BusyException"),
        };
        JniError { class, message: e.message, pending: false }
    }
}

/// The error policy of every native: throw the mapped exception and return a default value.
pub(crate) struct Throw;

impl<T: Default> ErrorPolicy<T, JniError> for Throw {
    type Captures<'unowned_env_local: 'native_method, 'native_method> = ();

    fn on_error<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _cap: &mut (),
        err: JniError,
    ) -> jni::errors::Result<T> {
        if !(err.pending && env.exception_check()) {
            let message = jni::strings::JNIString::from(crate::redact::text(&err.message));
            // `throw_new` reports the now-pending exception as an error; that is the point.
            let _ = env.throw_new(err.class, message);
        }
        Ok(T::default())
    }

    fn on_panic<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _cap: &mut (),
        payload: Box<dyn std::any::Any + Send + 'static>,
    ) -> jni::errors::Result<T> {
        let message =
            crate::redact::text(&format!("usersync internal error: {}", crate::engine::host::panic_message(&*payload)));
        if env.exception_check() {
            env.exception_clear();
        }
        let _ = env.throw_new(jni_str!("java/lang/IllegalStateException"), jni::strings::JNIString::from(message));
        Ok(T::default())
    }
}

static ENGINES: Mutex<Option<HashMap<i64, Arc<HostEngine>>>> = Mutex::new(None);
static NEXT_HANDLE: AtomicI64 = AtomicI64::new(1);

fn engines() -> std::sync::MutexGuard<'static, Option<HashMap<i64, Arc<HostEngine>>>> {
    ENGINES.lock().unwrap_or_else(|p| p.into_inner())
}

pub(crate) fn register(engine: HostEngine) -> i64 {
    let handle = NEXT_HANDLE.fetch_add(1, Ordering::SeqCst);
    engines().get_or_insert_with(HashMap::new).insert(handle, Arc::new(engine));
    handle
}

/// The engine behind a handle, or `IllegalStateException` when it was closed (or never existed).
pub(crate) fn lookup(handle: i64) -> Result<Arc<HostEngine>, JniError> {
    engines()
        .as_ref()
        .and_then(|m| m.get(&handle).cloned())
        .ok_or_else(|| JniError::illegal_state("the engine is closed"))
}

/// Removes the handle; the caller closes the engine outside the registry lock.
pub(crate) fn unregister(handle: i64) -> Option<Arc<HostEngine>> {
    engines().as_mut().and_then(|m| m.remove(&handle))
}
