//! Connectors and the configuration: list, read, create or update, delete, validate, presets,
//! mapping test, export and import. Every change is validated whole and imported (stored and
//! made active); a secret an update leaves out keeps its stored value.

use serde_json::{json, Value};

use super::{AdminApi, ApiResponse};
use crate::config::{export_value, merge_secrets, parse_value, secrets::secret_keys, Config, ConfigError};

pub(super) fn presets() -> ApiResponse {
    let list: Vec<Value> = crate::config::presets::NAMES
        .iter()
        .map(|(name, kind)| json!({ "preset": name, "type": kind, "mapping": crate::config::presets::rules(name) }))
        .collect();
    ApiResponse::json(200, &json!({ "presets": list }))
}

/// A connector as the API shows it: its settings without inline secrets, and which secrets are set.
fn view(config: &Config, id: &str) -> Option<Value> {
    let index = config.connectors.iter().position(|c| c.id == id)?;
    let with = export_value(config, true)["connectors"][index].clone();
    let mut out = export_value(config, false)["connectors"][index].clone();
    // A list of {name, state} rather than {name: state}: a "client_secret": "..." pair is what the
    // redaction layer takes for a credential, even when the value only says "set".
    let mut secrets = Vec::new();
    for key in secret_keys(config.connectors[index].kind) {
        let value = key.split('.').fold(&with["source"], |v, part| &v[part]);
        let state = match value {
            Value::String(s) if !s.is_empty() => "set",
            Value::Object(_) => "reference",
            _ => "not set",
        };
        secrets.push(json!({ "name": key, "state": state }));
    }
    out["secrets"] = Value::Array(secrets);
    Some(out)
}

pub(super) fn list(api: &AdminApi) -> ApiResponse {
    let config = api.host().current_config();
    let list: Vec<Value> = config.connectors.iter().filter_map(|c| view(&config, &c.id)).collect();
    ApiResponse::json(200, &json!({ "connectors": list }))
}

pub(super) fn read(api: &AdminApi, id: &str) -> ApiResponse {
    match view(&api.host().current_config(), id) {
        Some(v) => ApiResponse::json(200, &v),
        None => ApiResponse::error(404, format!("no connector with id '{id}'")),
    }
}

fn errors(list: &[ConfigError]) -> ApiResponse {
    let errors: Vec<Value> = list.iter().map(|e| json!({ "path": e.path, "message": e.message })).collect();
    ApiResponse::json(422, &json!({ "error": "the configuration is not valid", "errors": errors }))
}

/// Validates a whole configuration document: `{"valid", "errors": [{"path", "message"}]}`.
pub(super) fn validate(api: &AdminApi, doc: &Value) -> ApiResponse {
    let mut doc = doc.clone();
    let current = api.host().current_config();
    merge_secrets(&mut doc, Some(&current));
    let list = match checked(api, &doc) {
        Ok(()) => Vec::new(),
        Err(Ok(list)) => list,
        Err(Err(answer)) => return answer,
    };
    let errors: Vec<Value> = list.iter().map(|e| json!({ "path": e.path, "message": e.message })).collect();
    ApiResponse::json(200, &json!({ "valid": list.is_empty(), "errors": errors }))
}

/// A configuration document (secrets merged already) checked as the engine would run it: parsed,
/// and asking nothing of the directory it cannot hold. The errors, or an answer when the
/// directory could not be asked.
fn checked(api: &AdminApi, doc: &Value) -> Result<(), Result<Vec<ConfigError>, ApiResponse>> {
    let config = parse_value(doc, api.host().current_config().base_dir).map_err(Ok)?;
    match api.host().engine().directory_errors(&config) {
        Ok(list) if list.is_empty() => Ok(()),
        Ok(list) => Err(Ok(list)),
        Err(e) => Err(Err(crate::engine::host::HostError::from(e).into())),
    }
}

/// Validates `doc` (secrets merged from the active configuration) and makes it the active one.
fn apply(api: &AdminApi, mut doc: Value) -> Result<(), ApiResponse> {
    let current = api.host().current_config();
    merge_secrets(&mut doc, Some(&current));
    match checked(api, &doc) {
        Ok(()) => {}
        Err(Ok(list)) => return Err(errors(&list)),
        Err(Err(answer)) => return Err(answer),
    }
    let base = current.base_dir.to_string_lossy().into_owned();
    api.host().import_config(&doc.to_string(), Some(&base)).map_err(ApiResponse::from)
}

pub(super) fn put(api: &AdminApi, id: &str, mut connector: Value) -> ApiResponse {
    let Some(obj) = connector.as_object_mut() else {
        return ApiResponse::error(400, "expected a connector object");
    };
    match obj.get("id") {
        None => {
            obj.insert("id".into(), json!(id));
        }
        Some(Value::String(s)) if s == id => {}
        Some(_) => return ApiResponse::error(422, format!("the connector's id must be '{id}', as in the path")),
    }
    obj.remove("secrets");
    let current = api.host().current_config();
    let mut doc = export_value(&current, true);
    let list = doc["connectors"].as_array_mut().expect("a configuration has a connector list");
    let created = match list.iter().position(|c| c["id"] == json!(id)) {
        Some(i) => {
            list[i] = connector;
            false
        }
        None => {
            list.push(connector);
            true
        }
    };
    match apply(api, doc) {
        Ok(()) => ApiResponse::json(
            if created { 201 } else { 200 },
            &view(&api.host().current_config(), id).unwrap_or_default(),
        ),
        Err(e) => e,
    }
}

pub(super) fn delete(api: &AdminApi, id: &str) -> ApiResponse {
    let current = api.host().current_config();
    let mut doc = export_value(&current, true);
    let list = doc["connectors"].as_array_mut().expect("a configuration has a connector list");
    let before = list.len();
    list.retain(|c| c["id"] != json!(id));
    if list.len() == before {
        return ApiResponse::error(404, format!("no connector with id '{id}'"));
    }
    match apply(api, doc) {
        Ok(()) => ApiResponse::json(200, &json!({ "deleted": id })),
        Err(e) => e,
    }
}

pub(super) fn mapping_test(api: &AdminApi, id: &str, body: &Value) -> ApiResponse {
    let Some(user) = body["user"].as_str() else {
        return ApiResponse::error(400, "give the source user's id as {\"user\": ...}");
    };
    match api.host().engine().test_mapping(&api.host().current_config(), id, user) {
        Ok(test) => ApiResponse::json(200, &serde_json::to_value(&test).unwrap_or_default()),
        Err(e) => ApiResponse::from(crate::engine::host::HostError::from(e)),
    }
}

/// The active configuration without its secrets, as a download.
pub(super) fn export(api: &AdminApi) -> ApiResponse {
    let mut answer = ApiResponse::json(200, &export_value(&api.host().current_config(), false));
    answer.filename = Some("usersync-config.json".into());
    answer
}

/// Replaces the whole configuration (secrets it leaves out are kept).
pub(super) fn import(api: &AdminApi, text: &[u8]) -> ApiResponse {
    let text = String::from_utf8_lossy(text);
    let doc = match crate::config::parse_document("the imported configuration", &text) {
        Ok(doc) => doc,
        Err(e) => return errors(&e.errors),
    };
    match apply(api, doc) {
        Ok(()) => list(api),
        Err(e) => e,
    }
}
