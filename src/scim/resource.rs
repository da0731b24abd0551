//! What a client sends, checked against the schema before anything is stored: the resource's
//! `schemas`, no unknown attribute, values of the declared types (with the big IdPs' quirks
//! forgiven: booleans as text, one value where a list is declared), required attributes present.
//! Read-only attributes are dropped (RFC 7643 §7: a client cannot set them), and so is the
//! password: this endpoint provisions accounts, it never keeps a password.

use serde_json::{Map, Value};

use super::schema::{self, Attr, Kind, Mutability};
use super::ScimError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    User,
    Group,
}

impl ResourceKind {
    pub fn name(self) -> &'static str {
        match self {
            ResourceKind::User => "User",
            ResourceKind::Group => "Group",
        }
    }

    pub fn endpoint(self) -> &'static str {
        match self {
            ResourceKind::User => "Users",
            ResourceKind::Group => "Groups",
        }
    }

    pub fn core(self) -> &'static str {
        match self {
            ResourceKind::User => schema::USER,
            ResourceKind::Group => schema::GROUP,
        }
    }

    pub fn attrs(self) -> &'static [Attr] {
        match self {
            ResourceKind::User => schema::USER_ATTRS,
            ResourceKind::Group => schema::GROUP_ATTRS,
        }
    }

    /// The extensions this resource type may carry, with their attributes.
    pub fn extensions(self) -> &'static [(&'static str, &'static [Attr])] {
        static USER_EXTENSIONS: [(&str, &[Attr]); 1] = [(schema::ENTERPRISE, schema::ENTERPRISE_ATTRS)];
        match self {
            ResourceKind::User => &USER_EXTENSIONS,
            ResourceKind::Group => &[],
        }
    }
}

fn syntax(detail: String) -> ScimError {
    ScimError::bad(Some("invalidSyntax"), detail)
}

fn invalid(detail: String) -> ScimError {
    ScimError::bad(Some("invalidValue"), detail)
}

/// The resource as it will be stored (without `id` and `meta`, which the server sets), or why
/// the request is refused.
pub fn check(kind: ResourceKind, body: &Value) -> Result<Map<String, Value>, ScimError> {
    let Value::Object(obj) = body else { return Err(syntax(format!("a {} must be a JSON object", kind.name()))) };
    let schemas: Vec<String> = match obj.get("schemas") {
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => return Err(syntax("'schemas' is missing; it lists the resource's schema URIs".into())),
    };
    if !schemas.iter().any(|s| s.eq_ignore_ascii_case(kind.core())) {
        return Err(syntax(format!("'schemas' must list {} for a {}", kind.core(), kind.name())));
    }
    let mut out = Map::new();
    let mut listed = vec![kind.core().to_string()];
    for (key, value) in obj {
        if matches!(key.as_str(), "schemas" | "id" | "meta") {
            continue;
        }
        if key == "externalId" {
            match value {
                Value::String(_) => {
                    out.insert(key.clone(), value.clone());
                }
                Value::Null => {}
                _ => return Err(invalid("'externalId' must be a string".into())),
            }
            continue;
        }
        if let Some((urn, attrs)) = kind.extensions().iter().find(|(u, _)| u.eq_ignore_ascii_case(key)) {
            let Value::Object(ext) = value else { return Err(syntax(format!("'{key}' must be an object"))) };
            let mut checked = Map::new();
            // Some clients repeat the extension's own `schemas` inside it; it says nothing new.
            for (k, v) in ext.iter().filter(|(k, _)| k.as_str() != "schemas") {
                put(&mut checked, attrs, k, v, &format!("{urn}:{k}"))?;
            }
            if !checked.is_empty() {
                out.insert(urn.to_string(), Value::Object(checked));
                listed.push(urn.to_string());
            }
            continue;
        }
        if key.to_ascii_lowercase().starts_with("urn:") {
            return Err(syntax(format!("unknown schema extension '{key}' for a {}", kind.name())));
        }
        put(&mut out, kind.attrs(), key, value, key)?;
    }
    for attr in kind.attrs().iter().filter(|a| a.required) {
        if !out.get(attr.name).is_some_and(|v| !v.is_null() && v != "") {
            return Err(invalid(format!("'{}' is required for a {}", attr.name, kind.name())));
        }
    }
    out.insert("schemas".into(), Value::Array(listed.into_iter().map(Value::String).collect()));
    Ok(out)
}

/// Checks one attribute and puts it under its schema name; read-only and never-kept ones are
/// left out.
fn put(out: &mut Map<String, Value>, attrs: &[Attr], key: &str, value: &Value, shown: &str) -> Result<(), ScimError> {
    let Some(attr) = schema::find(attrs, key) else {
        return Err(syntax(format!("unknown attribute '{shown}'")));
    };
    if attr.mutability == Mutability::ReadOnly || attr.never {
        return Ok(());
    }
    if let Some(v) = coerce(attr, value, shown)? {
        out.insert(attr.name.to_string(), v);
    }
    Ok(())
}

/// The value in the attribute's declared type, `None` for null (an unassigned attribute).
pub fn coerce(attr: &Attr, value: &Value, shown: &str) -> Result<Option<Value>, ScimError> {
    if value.is_null() {
        return Ok(None);
    }
    if attr.multi {
        // One value where a list is declared: taken as a list of one.
        let items = match value {
            Value::Array(items) => items.clone(),
            other => vec![other.clone()],
        };
        let mut out = Vec::new();
        for item in &items {
            if let Some(v) = single(attr, item, shown)? {
                out.push(v);
            }
        }
        return Ok(Some(Value::Array(out)));
    }
    single(attr, value, shown)
}

fn single(attr: &Attr, value: &Value, shown: &str) -> Result<Option<Value>, ScimError> {
    let wrong = |want: &str| invalid(format!("'{shown}' must be {want}"));
    Ok(Some(match (attr.kind, value) {
        (_, Value::Null) => return Ok(None),
        (Kind::Boolean, Value::Bool(_)) => value.clone(),
        // Entra ID sends booleans as "True"/"False" in PATCH values.
        (Kind::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("true") => Value::Bool(true),
        (Kind::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("false") => Value::Bool(false),
        (Kind::Boolean, _) => return Err(wrong("true or false")),
        (Kind::Complex, Value::Object(o)) => {
            let mut out = Map::new();
            for (k, v) in o {
                let Some(sub) = schema::find(attr.sub, k) else {
                    return Err(syntax(format!("unknown attribute '{shown}.{k}'")));
                };
                if sub.mutability == Mutability::ReadOnly {
                    continue;
                }
                if let Some(v) = single(sub, v, &format!("{shown}.{k}"))? {
                    out.insert(sub.name.to_string(), v);
                }
            }
            Value::Object(out)
        }
        // The enterprise manager given as its id alone (some clients do).
        (Kind::Complex, Value::String(s)) if attr.name == "manager" => serde_json::json!({ "value": s }),
        (Kind::Complex, _) => return Err(wrong("an object")),
        (_, Value::String(_)) => value.clone(),
        (_, _) => return Err(wrong("a string")),
    }))
}

/// The resource as a client sees it: never-returned attributes are never stored; `attributes`
/// (only these, plus `id`, `schemas` and `meta`) or `excludedAttributes` (RFC 7644 §3.4.2.5)
/// narrow it.
pub fn project(resource: &Value, attributes: &[String], excluded: &[String]) -> Value {
    let Some(obj) = resource.as_object() else { return resource.clone() };
    let always = |k: &str| matches!(k, "id" | "schemas" | "meta");
    let named = |list: &[String], key: &str, sub: Option<&str>| {
        list.iter().any(|a| {
            let a = a
                .rsplit_once(':')
                .filter(|(u, _)| u.to_ascii_lowercase().starts_with("urn:"))
                .map(|(_, n)| n)
                .unwrap_or(a);
            match (a.split_once('.'), sub) {
                (Some((top, s)), Some(sub)) => top.eq_ignore_ascii_case(key) && s.eq_ignore_ascii_case(sub),
                (Some((top, _)), None) => top.eq_ignore_ascii_case(key),
                (None, _) => a.eq_ignore_ascii_case(key),
            }
        })
    };
    let mut out = Map::new();
    for (k, v) in obj {
        if always(k) {
            out.insert(k.clone(), v.clone());
            continue;
        }
        if k.starts_with("urn:") {
            // An extension: its attributes are named by their own names.
            let inner = project(v, attributes, excluded);
            let keep: Map<String, Value> = inner
                .as_object()
                .map(|o| {
                    o.iter()
                        .filter(|(ik, _)| {
                            (attributes.is_empty() || named(attributes, ik, None)) && !named(excluded, ik, None)
                        })
                        .map(|(a, b)| (a.clone(), b.clone()))
                        .collect()
                })
                .unwrap_or_default();
            if !keep.is_empty() {
                out.insert(k.clone(), Value::Object(keep));
            }
            continue;
        }
        if !attributes.is_empty() && !named(attributes, k, None) {
            continue;
        }
        if named(excluded, k, None) && !excluded.iter().any(|e| e.contains('.')) {
            continue;
        }
        out.insert(k.clone(), v.clone());
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn what_a_client_sends_is_checked() {
        let ok = json!({ "schemas": [schema::USER, schema::ENTERPRISE], "userName": "ann", "active": "False",
            "password": "s3cret", "groups": [{ "value": "g" }], "emails": { "value": "a@x.example" },
            schema::ENTERPRISE: { "manager": "m1", "department": "Eng" } });
        let r = check(ResourceKind::User, &ok).unwrap();
        assert_eq!(r["active"], json!(false));
        assert!(r.get("password").is_none() && r.get("groups").is_none());
        assert_eq!(r["emails"], json!([{ "value": "a@x.example" }]));
        assert_eq!(r[schema::ENTERPRISE]["manager"], json!({ "value": "m1" }));
        let refused = [
            (json!({ "userName": "a" }), "invalidSyntax"),
            (json!({ "schemas": [schema::GROUP], "userName": "a" }), "invalidSyntax"),
            (json!({ "schemas": [schema::USER], "userName": "a", "shoeSize": 4 }), "invalidSyntax"),
            (json!({ "schemas": [schema::USER], "userName": "a", "name": { "nick": "x" } }), "invalidSyntax"),
            (json!({ "schemas": [schema::USER], "userName": "a", "active": 3 }), "invalidValue"),
            (json!({ "schemas": [schema::USER], "displayName": "no user name" }), "invalidValue"),
            (json!([]), "invalidSyntax"),
        ];
        for (body, scim_type) in refused {
            let e = check(ResourceKind::User, &body).unwrap_err();
            assert_eq!((e.status, e.scim_type), (400, Some(scim_type)), "{body}: {}", e.detail);
        }
    }
}
