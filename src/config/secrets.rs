//! Secrets: a string that never prints itself, and exports that leave secrets out.

use std::fmt;

use serde::{Serialize, Serializer};
use serde_json::Value;

use super::{Config, ConnectorKind};

/// A client secret, API token or private key. `Debug` and `Display` show a placeholder, so a
/// secret cannot reach a log line or an error message by accident. Serialising it (for an
/// export that asked for secrets) is the only way out.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Secret(value)
    }

    /// The value, for the one place that must send it (an authentication request).
    pub fn expose(&self) -> &str {
        &self.0
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
        s.serialize_str(&self.0)
    }
}

/// The source keys that hold secrets, per connector type.
pub fn secret_keys(kind: ConnectorKind) -> &'static [&'static str] {
    match kind {
        // Google's private key lives in the credentials file, never in the configuration.
        ConnectorKind::Csv | ConnectorKind::Xlsx | ConnectorKind::Google => &[],
        ConnectorKind::Entra => &["client_secret"],
        ConnectorKind::Okta => &["api_token"],
    }
}

/// The configuration as JSON for export. Without `include_secrets`, every secret key is removed,
/// so an exported file can be shared; `merge_secrets` puts them back on import.
pub fn export_value(config: &Config, include_secrets: bool) -> Value {
    let mut value = serde_json::to_value(config).expect("configuration serialises");
    if !include_secrets {
        if let Some(list) = value.get_mut("connectors").and_then(Value::as_array_mut) {
            for (c, json) in config.connectors.iter().zip(list.iter_mut()) {
                if let Some(source) = json.get_mut("source").and_then(Value::as_object_mut) {
                    for key in secret_keys(c.kind) {
                        source.remove(*key);
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
        let old_source = serde_json::to_value(&old.source).expect("source serialises");
        let Some(source) = json.get_mut("source").and_then(Value::as_object_mut) else { continue };
        for key in secret_keys(old.kind) {
            if !source.contains_key(*key) {
                if let Some(v) = old_source.get(*key) {
                    source.insert(key.to_string(), v.clone());
                }
            }
        }
    }
}
