//! The one shape of every call from Rust into Java: `adapter.invoke(op, a, b, c, d, e)` on an
//! adapter object held as a global reference, answering a status digit followed by text. The
//! calling thread attaches once (permanently, until it exits); a pending Java exception is taken
//! after the call and becomes the error, so none is left for the JVM to find later.
//!
//! A run makes hundreds of thousands of these calls, so what can be looked up once is: the
//! `invoke` method id (valid while its class is loaded, and the adapter's global reference keeps
//! it loaded) and the operation names as Java strings (a small fixed set). Each call then makes
//! only the argument strings, the call itself and the answer's conversion.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use jni::ids::JMethodID;
use jni::objects::{JObject, JString, JValue};
use jni::refs::Global;
use jni::signature::ReturnType;
use jni::{jni_sig, jni_str, Env, JavaVM};

/// A Java adapter object and what its calls reuse.
pub(crate) struct Adapter {
    object: Global<JObject<'static>>,
    /// Names the adapter in error messages ("the Java directory").
    who: &'static str,
    invoke: OnceLock<JMethodID>,
    ops: Mutex<HashMap<&'static str, Arc<Global<JString<'static>>>>>,
}

impl Adapter {
    pub fn new(object: Global<JObject<'static>>, who: &'static str) -> Self {
        Adapter { object, who, invoke: OnceLock::new(), ops: Mutex::new(HashMap::new()) }
    }

    /// The adapter's raw answer, or why there is none.
    pub fn invoke(&self, op: &'static str, args: [Option<&str>; 5]) -> Result<String, String> {
        let who = self.who;
        let vm = JavaVM::singleton().map_err(|e| format!("no Java VM: {e}"))?;
        let answer = vm.attach_current_thread(|env| -> jni::errors::Result<Result<String, String>> {
            let method = self.method(env)?;
            let op = self.op(env, op)?;
            let mut strings = Vec::with_capacity(5);
            for a in args {
                strings.push(match a {
                    Some(s) => JObject::from(JString::from_str(env, s)?),
                    None => JObject::null(),
                });
            }
            let jargs = [
                JValue::Object(&op).as_jni(),
                JValue::Object(&strings[0]).as_jni(),
                JValue::Object(&strings[1]).as_jni(),
                JValue::Object(&strings[2]).as_jni(),
                JValue::Object(&strings[3]).as_jni(),
                JValue::Object(&strings[4]).as_jni(),
            ];
            // SAFETY: `method` is `invoke` of this object's own class, looked up with the
            // signature `(String x6)String`; the six arguments are strings or null, and the
            // return type given is an object, as that signature says.
            let result = unsafe { env.call_method_unchecked(&self.object, method, ReturnType::Object, &jargs) };
            let value = match result {
                Ok(v) => v.l()?,
                Err(jni::errors::Error::JavaException) => {
                    return Ok(Err(match env.exception_catch() {
                        Err(jni::errors::Error::CaughtJavaException { name, msg, .. }) => format!("{name}: {msg}"),
                        _ => format!("{who} threw"),
                    }));
                }
                Err(e) => return Err(e),
            };
            if value.is_null() {
                return Ok(Err(format!("{who} answered null")));
            }
            Ok(Ok(env.cast_local::<JString>(value)?.try_to_string(env)?))
        });
        answer.map_err(|e| format!("calling {who}: {e}"))?
    }

    /// The `invoke` method id, looked up on the first call.
    fn method(&self, env: &mut Env<'_>) -> jni::errors::Result<JMethodID> {
        if let Some(m) = self.invoke.get() {
            return Ok(*m);
        }
        let class = env.get_object_class(&self.object)?;
        let m = env.get_method_id(
            &class,
            jni_str!("invoke"),
            jni_sig!("(Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;)Ljava/lang/String;"),
        )?;
        Ok(*self.invoke.get_or_init(|| m))
    }

    /// The operation's name as a Java string, made on its first use.
    fn op(&self, env: &mut Env<'_>, op: &'static str) -> jni::errors::Result<Arc<Global<JString<'static>>>> {
        let mut ops = self.ops.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = ops.get(op) {
            return Ok(s.clone());
        }
        let local = JString::from_str(env, op)?;
        let global = Arc::new(env.new_global_ref(&local)?);
        ops.insert(op, global.clone());
        Ok(global)
    }
}
