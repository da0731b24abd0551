//! The one shape of every call from Rust into Java: `adapter.invoke(op, a, b, c, d, e)` on an
//! adapter object held as a global reference, answering a status digit followed by text. The
//! calling thread attaches once (permanently, until it exits); a pending Java exception is taken
//! after the call and becomes the error, so none is left for the JVM to find later.

use jni::objects::{JObject, JString, JValue};
use jni::refs::Global;
use jni::{jni_sig, jni_str, JavaVM};

/// The adapter's raw answer, or why there is none (`who` names the adapter in the message).
pub(crate) fn invoke(
    adapter: &Global<JObject<'static>>,
    who: &str,
    op: &str,
    args: [Option<&str>; 5],
) -> Result<String, String> {
    let vm = JavaVM::singleton().map_err(|e| format!("no Java VM: {e}"))?;
    let answer = vm.attach_current_thread(|env| -> jni::errors::Result<Result<String, String>> {
        let op = JString::from_str(env, op)?;
        let mut strings = Vec::with_capacity(5);
        for a in args {
            strings.push(match a {
                Some(s) => JObject::from(JString::from_str(env, s)?),
                None => JObject::null(),
            });
        }
        let result = env.call_method(
            adapter,
            jni_str!("invoke"),
            jni_sig!("(Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;)Ljava/lang/String;"),
            &[
                JValue::Object(&op),
                JValue::Object(&strings[0]),
                JValue::Object(&strings[1]),
                JValue::Object(&strings[2]),
                JValue::Object(&strings[3]),
                JValue::Object(&strings[4]),
            ],
        );
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
