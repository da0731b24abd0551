//! Secrets: a string that never prints itself, and exports that leave secrets out.

use std::fmt;

use serde::{Serialize, Serializer};
use serde_json::Value;

use super::{Config, ConnectorKind};

/// A client secret, API token or private key. `Debug` and `Display` show a placeholder, so a
/// secret cannot reach a log line or an error message by accident, and its value is registered
/// with the redaction layer. Serialising an inline secret (for an export that asked for
/// secrets) is the only way out; a secret given by reference serialises as its reference.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    value: String,
    origin: Origin,
}

/// Where a secret came from: written in the configuration, or a reference to where it lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Inline,
    /// `{"env": "NAME"}`: an environment variable of the process.
    Env(String),
    /// `{"file": "/path"}`: a file holding only the secret (trailing newline ignored).
    File(String),
}

impl Secret {
    pub fn new(value: String) -> Self {
        Secret::with_origin(value, Origin::Inline)
    }

    pub fn with_origin(value: String, origin: Origin) -> Self {
        crate::redact::register(&value);
        Secret { value, origin }
    }

    /// The value, for the one place that must send it (an authentication request).
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// Written in the configuration itself (not a reference).
    pub fn is_inline(&self) -> bool {
        self.origin == Origin::Inline
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let (key, name) = match &self.origin {
            Origin::Inline => return s.serialize_str(&self.value),
            Origin::Env(name) => ("env", name),
            Origin::File(path) => ("file", path),
        };
        let mut map = s.serialize_map(Some(1))?;
        map.serialize_entry(key, name)?;
        map.end()
    }
}

/// The largest secret file read: a key or token is a few kilobytes at most.
const MAX_SECRET_FILE_BYTES: u64 = 64 * 1024;

/// Resolves `{"env": NAME}` or `{"file": PATH}` (relative to `base_dir`). Errors name the
/// variable or the file and why, never any of the file's content.
pub fn resolve(reference: &Value, base_dir: &std::path::Path) -> Result<Secret, (&'static str, String)> {
    let obj = reference.as_object().filter(|o| o.len() == 1);
    match obj.and_then(|o| o.iter().next()).map(|(k, v)| (k.as_str(), v.as_str())) {
        Some(("env", Some(name))) => match std::env::var(name) {
            Ok(v) if !v.trim().is_empty() => Ok(Secret::with_origin(v.trim().to_string(), Origin::Env(name.into()))),
            Ok(_) => Err(("env", format!("the environment variable {name} is empty"))),
            Err(std::env::VarError::NotPresent) => Err(("env", format!("the environment variable {name} is not set"))),
            Err(std::env::VarError::NotUnicode(_)) => {
                Err(("env", format!("the environment variable {name} is not valid UTF-8")))
            }
        },
        Some(("file", Some(file))) => {
            let path = base_dir.join(file);
            let shown = path.display();
            let size = std::fs::metadata(&path).map_err(|e| ("file", format!("cannot read {shown}: {}", e.kind())))?;
            if !size.is_file() || size.len() > MAX_SECRET_FILE_BYTES {
                return Err((
                    "file",
                    format!("{shown} is not a secret file (a regular file of at most {MAX_SECRET_FILE_BYTES} bytes)"),
                ));
            }
            let bytes = std::fs::read(&path).map_err(|e| ("file", format!("cannot read {shown}: {}", e.kind())))?;
            let text = String::from_utf8(bytes).map_err(|_| ("file", format!("{shown} is not UTF-8 text")))?;
            let value = text.trim_end_matches(['\n', '\r']).to_string();
            if value.trim().is_empty() {
                return Err(("file", format!("{shown} is empty")));
            }
            Ok(Secret::with_origin(value, Origin::File(file.into())))
        }
        _ => Err((
            "",
            "expected the secret as a string, or a reference: {\"env\": \"NAME\"} or {\"file\": \"PATH\"}".into(),
        )),
    }
}

/// `auth.token` → (`auth`, `token`); `api_token` → (``, `api_token`).
fn split(key: &str) -> (&str, &str) {
    key.rsplit_once('.').unwrap_or(("", key))
}

/// The object at a dotted path inside a source (the source itself for ``).
fn at<'v>(source: &'v mut Value, path: &str) -> Option<&'v mut serde_json::Map<String, Value>> {
    let mut v = source;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        v = v.get_mut(part)?;
    }
    v.as_object_mut()
}

/// The source keys that hold secrets, per connector type (a dot reaches into an object).
pub fn secret_keys(kind: ConnectorKind) -> &'static [&'static str] {
    match kind {
        // Google's private key lives in the credentials file, never in the configuration.
        ConnectorKind::Csv | ConnectorKind::Xlsx | ConnectorKind::Google => &[],
        ConnectorKind::Entra => &["client_secret"],
        ConnectorKind::Okta => &["api_token"],
        ConnectorKind::Scim => &["bearer_token", "password", "client_secret"],
        ConnectorKind::ScimInbound => &["bearer_token"],
        ConnectorKind::Keycloak | ConnectorKind::OneLogin => &["client_secret"],
        // The `rest` connector's secrets sit in its `auth` object.
        ConnectorKind::Rest => &["auth.token", "auth.password", "auth.value", "auth.client_secret"],
        ConnectorKind::Ldap => &["bind_password"],
    }
}

/// The configuration as JSON for export. Without `include_secrets`, every secret key is removed,
/// so an exported file can be shared; `merge_secrets` puts them back on import.
pub fn export_value(config: &Config, include_secrets: bool) -> Value {
    let mut value = serde_json::to_value(config).expect("configuration serialises");
    if !include_secrets {
        if let Some(list) = value.get_mut("connectors").and_then(Value::as_array_mut) {
            for (c, json) in config.connectors.iter().zip(list.iter_mut()) {
                if let Some(source) = json.get_mut("source") {
                    // Inline secrets go; a reference (`{"env": ...}`) is no secret and stays.
                    for key in secret_keys(c.kind) {
                        let (parent, name) = split(key);
                        if let Some(obj) = at(source, parent) {
                            if obj.get(name).is_some_and(Value::is_string) {
                                obj.remove(name);
                            }
                        }
                    }
                }
            }
        }
    }
    value
}

/// For an imported document that left secrets out: copies each missing secret from the
/// connector of the same id and type in `previous` (the configuration being replaced).
pub fn merge_secrets(imported: &mut Value, previous: Option<&Config>) {
    let Some(previous) = previous else { return };
    let Some(list) = imported.get_mut("connectors").and_then(Value::as_array_mut) else { return };
    for json in list {
        let id = json.get("id").and_then(Value::as_str).map(str::to_string);
        let kind = json.get("type").and_then(Value::as_str).map(str::to_string);
        let Some(old) = previous.connectors.iter().find(|c| Some(&c.id) == id.as_ref()) else { continue };
        if Some(old.kind.name()) != kind.as_deref() {
            continue;
        }
        let mut old_source = serde_json::to_value(&old.source).expect("source serialises");
        let Some(source) = json.get_mut("source") else { continue };
        for key in secret_keys(old.kind) {
            let (parent, name) = split(key);
            let kept = at(&mut old_source, parent).and_then(|o| o.get(name).cloned());
            if let (Some(obj), Some(v)) = (at(source, parent), kept) {
                obj.entry(name.to_string()).or_insert(v);
            }
        }
    }
}
