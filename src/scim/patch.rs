//! PATCH (RFC 7644 §3.5.2): `add`, `replace` and `remove`, with and without `path`, value
//! filters (`emails[type eq "work"].value`), applied to a copy of the stored resource; the result
//! is checked like a PUT before anything is stored. The big IdPs' documented habits are
//! accepted: capitalised op names (Entra ID), booleans as text (Entra ID), `active` replaced at
//! the root without a path (Okta), a member removed by a value list (Entra ID), and an `add` or
//! `replace` through an `eq` filter that matches nothing creating the value it names.

use serde_json::{Map, Value};

use super::filter::{self, Filter, PatchPath};
use super::schema;
use super::ScimError;

pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Add,
    Replace,
    Remove,
}

fn bad(scim_type: &'static str, detail: String) -> ScimError {
    ScimError::bad(Some(scim_type), detail)
}

/// Applies a PatchOp request body to `resource` (a JSON object).
pub fn apply(resource: &mut Value, body: &Value) -> Result<(), ScimError> {
    let schemas_ok = body
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(PATCH_OP))));
    if !schemas_ok {
        return Err(bad("invalidSyntax", format!("a PATCH body's 'schemas' must be [\"{PATCH_OP}\"]")));
    }
    let ops = body
        .get("Operations")
        .or_else(|| body.get("operations"))
        .and_then(Value::as_array)
        .ok_or_else(|| bad("invalidSyntax", "a PATCH body needs 'Operations', a list".into()))?;
    for (i, op) in ops.iter().enumerate() {
        let at = |d: String| format!("Operations[{i}]: {d}");
        let name = op.get("op").and_then(Value::as_str).unwrap_or_default();
        let kind = match name.to_ascii_lowercase().as_str() {
            "add" => Kind::Add,
            "replace" => Kind::Replace,
            "remove" => Kind::Remove,
            _ => return Err(bad("invalidSyntax", at(format!("unknown op '{name}' (add, replace or remove)")))),
        };
        let value = op.get("value").cloned().unwrap_or(Value::Null);
        match op.get("path").and_then(Value::as_str).filter(|p| !p.trim().is_empty()) {
            Some(p) => {
                let path = filter::parse_path(p).map_err(|e| bad("invalidPath", at(format!("path '{p}': {e}"))))?;
                at_path(resource, kind, &path, value).map_err(|mut e| {
                    e.detail = at(e.detail);
                    e
                })?;
            }
            None if kind == Kind::Remove => return Err(bad("noTarget", at("'remove' needs a path".into()))),
            None => {
                let Value::Object(fields) = value else {
                    return Err(bad("invalidValue", at("without a path, the value must be an object".into())));
                };
                for (key, v) in fields {
                    // An extension's object: each of its attributes.
                    if key.to_ascii_lowercase().starts_with("urn:") && v.is_object() && !schema::is_core(&key) {
                        for (k, sub) in v.as_object().into_iter().flatten() {
                            let path = filter::parse_path(&format!("{key}:{k}"))
                                .map_err(|e| bad("invalidPath", at(format!("'{key}:{k}': {e}"))))?;
                            at_path(resource, kind, &path, sub.clone())?;
                        }
                        continue;
                    }
                    let path = filter::parse_path(&key).map_err(|e| bad("invalidPath", at(format!("'{key}': {e}"))))?;
                    at_path(resource, kind, &path, v)?;
                }
            }
        }
    }
    Ok(())
}

/// The object an attribute lives in (the extension's, created for add and replace).
fn container<'v>(resource: &'v mut Value, urn: &str, create: bool) -> Option<&'v mut Map<String, Value>> {
    let obj = resource.as_object_mut()?;
    if urn.is_empty() || schema::is_core(urn) {
        return Some(obj);
    }
    let key = obj.keys().find(|k| k.eq_ignore_ascii_case(urn)).cloned().unwrap_or_else(|| urn.to_string());
    if !obj.contains_key(&key) {
        if !create {
            return None;
        }
        obj.insert(key.clone(), Value::Object(Map::new()));
        if let Some(Value::Array(schemas)) = obj.get_mut("schemas") {
            if !schemas.iter().any(|s| s == urn) {
                schemas.push(Value::String(urn.to_string()));
            }
        }
    }
    obj.get_mut(&key)?.as_object_mut()
}

/// The key an attribute has in `obj` (attribute names are case-insensitive).
fn key_of(obj: &Map<String, Value>, name: &str) -> String {
    obj.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned().unwrap_or_else(|| name.to_string())
}

fn at_path(resource: &mut Value, kind: Kind, path: &PatchPath, value: Value) -> Result<(), ScimError> {
    let create = kind != Kind::Remove;
    let Some(obj) = container(resource, &path.attr.urn, create) else { return Ok(()) };
    let key = key_of(obj, &path.attr.name);
    let multi = schema::find(schema::USER_ATTRS, &key)
        .or_else(|| schema::find(schema::GROUP_ATTRS, &key))
        .is_some_and(|a| a.multi);
    match (&path.filter, &path.attr.sub) {
        (None, None) => whole(obj, kind, &key, multi, value),
        (None, Some(sub)) => {
            match kind {
                Kind::Remove => {
                    if let Some(Value::Object(inner)) = obj.get_mut(&key) {
                        let k = key_of(inner, sub);
                        inner.remove(&k);
                    }
                }
                _ => {
                    let entry = obj.entry(key.clone()).or_insert_with(|| Value::Object(Map::new()));
                    let Value::Object(inner) = entry else {
                        return Err(bad("invalidPath", format!("'{key}' has no sub-attributes")));
                    };
                    let k = key_of(inner, sub);
                    inner.insert(k, value);
                }
            }
            Ok(())
        }
        (Some(f), _) => filtered(obj, kind, &key, f, path.sub.as_deref(), value),
    }
}

/// An attribute as a whole: set, merged, appended to or removed.
fn whole(obj: &mut Map<String, Value>, kind: Kind, key: &str, multi: bool, value: Value) -> Result<(), ScimError> {
    match kind {
        Kind::Remove => {
            // Entra ID removes members by listing them as the value.
            if let (Some(Value::Array(items)), Value::Array(gone)) = (obj.get_mut(key), &value) {
                let ids: Vec<&Value> = gone.iter().filter_map(|g| g.get("value")).collect();
                items.retain(|i| !i.get("value").is_some_and(|v| ids.contains(&v)));
            } else {
                obj.remove(key);
            }
        }
        Kind::Add if multi => {
            let new = match value {
                Value::Array(items) => items,
                other => vec![other],
            };
            let entry = obj.entry(key.to_string()).or_insert_with(|| Value::Array(Vec::new()));
            match entry {
                Value::Array(items) => {
                    for n in new {
                        if !items.contains(&n) {
                            items.push(n);
                        }
                    }
                }
                other => *other = Value::Array(new),
            }
        }
        Kind::Add => match (obj.get_mut(key), value) {
            // A complex value is merged into the one there (RFC 7644 §3.5.2.1).
            (Some(Value::Object(have)), Value::Object(add)) => {
                for (k, v) in add {
                    let k2 = key_of(have, &k);
                    have.insert(k2, v);
                }
            }
            (_, v) => {
                obj.insert(key.to_string(), v);
            }
        },
        Kind::Replace => {
            obj.insert(key.to_string(), value);
        }
    }
    Ok(())
}

/// The values of a multi-valued attribute a filter selects.
fn filtered(
    obj: &mut Map<String, Value>,
    kind: Kind,
    key: &str,
    f: &Filter,
    sub: Option<&str>,
    value: Value,
) -> Result<(), ScimError> {
    let items = match obj.get_mut(key) {
        Some(Value::Array(items)) => items,
        _ if kind == Kind::Remove => return Ok(()),
        _ => {
            obj.insert(key.to_string(), Value::Array(Vec::new()));
            match obj.get_mut(key) {
                Some(Value::Array(items)) => items,
                _ => unreachable!("just inserted"),
            }
        }
    };
    let hits: Vec<usize> = (0..items.len()).filter(|&i| filter::matches(&items[i], f)).collect();
    match kind {
        Kind::Remove => match sub {
            None => {
                let mut i = 0;
                items.retain(|_| {
                    let keep = !hits.contains(&i);
                    i += 1;
                    keep
                });
            }
            Some(s) => {
                for &i in &hits {
                    if let Value::Object(o) = &mut items[i] {
                        let k = key_of(o, s);
                        o.remove(&k);
                    }
                }
            }
        },
        _ if hits.is_empty() => {
            // `emails[type eq "work"].value` on a user without a work e-mail: the value it names
            // is created (what Entra ID expects).
            let Filter::Compare(attr, filter::Op::Eq, want) = f else {
                return Err(bad("noTarget", format!("no value of '{key}' matches the filter")));
            };
            let mut new = Map::new();
            new.insert(attr.name.clone(), want.clone());
            match (sub, value) {
                (Some(s), v) => {
                    new.insert(s.to_string(), v);
                }
                (None, Value::Object(o)) => new.extend(o),
                (None, _) => return Err(bad("invalidValue", format!("a value of '{key}' must be an object"))),
            }
            items.push(Value::Object(new));
        }
        _ => {
            for &i in &hits {
                match (sub, &value, &mut items[i]) {
                    (Some(s), v, Value::Object(o)) => {
                        let k = key_of(o, s);
                        o.insert(k, v.clone());
                    }
                    (None, Value::Object(v), Value::Object(o)) if kind == Kind::Add => {
                        o.extend(v.clone());
                    }
                    (None, v, slot) => *slot = v.clone(),
                    _ => {}
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patch(resource: &mut Value, ops: Value) -> Result<(), ScimError> {
        apply(resource, &json!({ "schemas": [PATCH_OP], "Operations": ops }))
    }

    #[test]
    fn operations_with_and_without_paths_and_the_idps_habits() {
        let mut u = json!({ "schemas": [schema::USER], "userName": "ann", "active": true,
            "emails": [{ "value": "a@work.example", "type": "work", "primary": true }] });
        // Okta: active replaced at the root.
        patch(&mut u, json!([{ "op": "replace", "value": { "active": false } }])).unwrap();
        assert_eq!(u["active"], json!(false));
        // Entra ID: capitalised ops, a value filter, booleans as text (coerced when checked).
        patch(&mut u, json!([{ "op": "Replace", "path": "emails[type eq \"work\"].value", "value": "b@work.example" },
            { "op": "Add", "path": "emails[type eq \"home\"].value", "value": "b@home.example" },
            { "op": "Replace", "path": "active", "value": "True" },
            { "op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "m1" },
            { "op": "add", "path": "name.givenName", "value": "Ann" }]))
        .unwrap();
        assert_eq!(u["emails"][0]["value"], json!("b@work.example"));
        assert_eq!(u["emails"][1], json!({ "type": "home", "value": "b@home.example" }));
        assert_eq!(u["active"], json!("True"));
        assert_eq!(u[schema::ENTERPRISE]["manager"], json!("m1"));
        assert_eq!(u["name"]["givenName"], json!("Ann"));
        patch(&mut u, json!([{ "op": "remove", "path": "emails[type eq \"home\"]" }])).unwrap();
        assert_eq!(u["emails"].as_array().unwrap().len(), 1);

        let mut g = json!({ "schemas": [schema::GROUP], "displayName": "Staff", "members": [{ "value": "1" }, { "value": "2" }] });
        patch(&mut g, json!([{ "op": "add", "path": "members", "value": [{ "value": "3" }, { "value": "1" }] }]))
            .unwrap();
        assert_eq!(g["members"].as_array().unwrap().len(), 3);
        patch(&mut g, json!([{ "op": "Remove", "path": "members", "value": [{ "value": "2" }] }])).unwrap();
        patch(&mut g, json!([{ "op": "remove", "path": "members[value eq \"3\"]" }])).unwrap();
        assert_eq!(g["members"], json!([{ "value": "1" }]));

        for (ops, scim_type) in [
            (json!([{ "op": "remove" }]), "noTarget"),
            (json!([{ "op": "move", "path": "x" }]), "invalidSyntax"),
            (json!([{ "op": "add", "path": "emails[type zz \"x\"]", "value": 1 }]), "invalidPath"),
            (json!([{ "op": "replace", "path": "emails[type ne \"x\"].value", "value": "v" }]), "noTarget"),
        ] {
            let mut copy =
                json!({ "schemas": [schema::USER], "userName": "x", "emails": [{ "value": "a", "type": "x" }] });
            let e = patch(&mut copy, ops.clone()).unwrap_err();
            assert_eq!(e.scim_type, Some(scim_type), "{ops}: {}", e.detail);
        }
        assert!(apply(&mut u, &json!({ "Operations": [] })).is_err(), "schemas required");
    }
}
