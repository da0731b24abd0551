//! The resources the SCIM endpoint serves, as RFC 7643 defines them: the core User (§4.1) with
//! the enterprise extension (§4.3), and the Group (§4.2). The same table answers `/Schemas`
//! (§8.7.1's representation), checks what a client sends (unknown attributes, wrong types), and
//! says which attributes are never returned or compared case-sensitively.

use serde_json::{json, Value};

pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    Boolean,
    Complex,
    Reference,
    DateTime,
    Binary,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadWrite,
    ReadOnly,
    Immutable,
    WriteOnly,
}

#[derive(Debug)]
pub struct Attr {
    pub name: &'static str,
    pub kind: Kind,
    pub multi: bool,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    /// Never returned (a password).
    pub never: bool,
    pub unique: bool,
    pub canonical: &'static [&'static str],
    pub sub: &'static [Attr],
}

const fn a(name: &'static str, kind: Kind) -> Attr {
    Attr {
        name,
        kind,
        multi: false,
        required: false,
        case_exact: false,
        mutability: Mutability::ReadWrite,
        never: false,
        unique: false,
        canonical: &[],
        sub: &[],
    }
}

const fn s(name: &'static str) -> Attr {
    a(name, Kind::String)
}

const fn typed(canonical: &'static [&'static str]) -> Attr {
    Attr { canonical, ..s("type") }
}

const fn multi(name: &'static str, sub: &'static [Attr]) -> Attr {
    Attr { multi: true, sub, ..a(name, Kind::Complex) }
}

const PRIMARY: Attr = a("primary", Kind::Boolean);

const fn read_only(attr: Attr) -> Attr {
    Attr { mutability: Mutability::ReadOnly, ..attr }
}

const fn immutable(attr: Attr) -> Attr {
    Attr { mutability: Mutability::Immutable, ..attr }
}

pub static USER_ATTRS: &[Attr] = &[
    Attr { required: true, unique: true, ..s("userName") },
    Attr {
        sub: &[
            s("formatted"),
            s("familyName"),
            s("givenName"),
            s("middleName"),
            s("honorificPrefix"),
            s("honorificSuffix"),
        ],
        ..a("name", Kind::Complex)
    },
    s("displayName"),
    s("nickName"),
    a("profileUrl", Kind::Reference),
    s("title"),
    s("userType"),
    s("preferredLanguage"),
    s("locale"),
    s("timezone"),
    a("active", Kind::Boolean),
    Attr { mutability: Mutability::WriteOnly, never: true, case_exact: true, ..s("password") },
    multi("emails", &[s("value"), s("display"), typed(&["work", "home", "other"]), PRIMARY]),
    multi(
        "phoneNumbers",
        &[s("value"), s("display"), typed(&["work", "home", "mobile", "fax", "pager", "other"]), PRIMARY],
    ),
    multi(
        "ims",
        &[s("value"), s("display"), typed(&["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"]), PRIMARY],
    ),
    multi("photos", &[a("value", Kind::Reference), s("display"), typed(&["photo", "thumbnail"]), PRIMARY]),
    multi(
        "addresses",
        &[
            s("formatted"),
            s("streetAddress"),
            s("locality"),
            s("region"),
            s("postalCode"),
            s("country"),
            typed(&["work", "home", "other"]),
            PRIMARY,
        ],
    ),
    read_only(multi(
        "groups",
        &[
            read_only(s("value")),
            read_only(a("$ref", Kind::Reference)),
            read_only(s("display")),
            read_only(typed(&["direct", "indirect"])),
        ],
    )),
    multi("entitlements", &[s("value"), s("display"), s("type"), PRIMARY]),
    multi("roles", &[s("value"), s("display"), s("type"), PRIMARY]),
    multi("x509Certificates", &[a("value", Kind::Binary), s("display"), s("type"), PRIMARY]),
];

pub static ENTERPRISE_ATTRS: &[Attr] = &[
    s("employeeNumber"),
    s("costCenter"),
    s("organization"),
    s("division"),
    s("department"),
    Attr { sub: &[s("value"), a("$ref", Kind::Reference), read_only(s("displayName"))], ..a("manager", Kind::Complex) },
];

pub static GROUP_ATTRS: &[Attr] = &[
    Attr { required: true, ..s("displayName") },
    multi(
        "members",
        &[
            immutable(s("value")),
            immutable(a("$ref", Kind::Reference)),
            immutable(s("display")),
            immutable(typed(&["User", "Group"])),
        ],
    ),
];

/// Attributes every resource has (RFC 7643 §3.1), kept by the server.
pub static COMMON: &[&str] = &["id", "externalId", "meta", "schemas"];

pub fn is_extension(urn: &str) -> bool {
    urn.eq_ignore_ascii_case(ENTERPRISE)
}

pub fn is_core(urn: &str) -> bool {
    urn.eq_ignore_ascii_case(USER) || urn.eq_ignore_ascii_case(GROUP)
}

/// `id` and `externalId` compare case-sensitively (RFC 7643 §3.1), and so do `$ref`s; everything
/// else this endpoint serves does not.
pub fn case_exact(name: &str, sub: Option<&str>) -> bool {
    match sub {
        Some(s) => s == "$ref",
        None => name == "id" || name == "externalId",
    }
}

pub fn find<'a>(attrs: &'a [Attr], name: &str) -> Option<&'a Attr> {
    attrs.iter().find(|a| a.name.eq_ignore_ascii_case(name))
}

fn attr_json(a: &Attr) -> Value {
    let kind = match a.kind {
        Kind::String => "string",
        Kind::Boolean => "boolean",
        Kind::Complex => "complex",
        Kind::Reference => "reference",
        Kind::DateTime => "dateTime",
        Kind::Binary => "binary",
    };
    let mutability = match a.mutability {
        Mutability::ReadWrite => "readWrite",
        Mutability::ReadOnly => "readOnly",
        Mutability::Immutable => "immutable",
        Mutability::WriteOnly => "writeOnly",
    };
    let mut v = json!({
        "name": a.name, "type": kind, "multiValued": a.multi, "description": "",
        "required": a.required, "caseExact": a.case_exact, "mutability": mutability,
        "returned": if a.never { "never" } else { "default" },
        "uniqueness": if a.unique { "server" } else { "none" },
    });
    if !a.canonical.is_empty() {
        v["canonicalValues"] = json!(a.canonical);
    }
    if a.kind == Kind::Reference {
        v["referenceTypes"] = json!(if a.name == "$ref" { vec!["User", "Group"] } else { vec!["external"] });
    }
    if !a.sub.is_empty() {
        v["subAttributes"] = Value::Array(a.sub.iter().map(attr_json).collect());
    }
    v
}

/// `/Schemas` resources (RFC 7643 §7, §8.7.1), with locations under `base`.
pub fn schemas(base: &str) -> Vec<Value> {
    [
        (USER, "User", "User Account", USER_ATTRS),
        (ENTERPRISE, "EnterpriseUser", "Enterprise User", ENTERPRISE_ATTRS),
        (GROUP, "Group", "Group", GROUP_ATTRS),
    ]
    .iter()
    .map(|(id, name, description, attrs)| {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": id, "name": name, "description": description,
            "attributes": attrs.iter().map(attr_json).collect::<Vec<_>>(),
            "meta": { "resourceType": "Schema", "location": format!("{base}/Schemas/{id}") }
        })
    })
    .collect()
}

/// `/ResourceTypes` resources (RFC 7643 §6).
pub fn resource_types(base: &str) -> Vec<Value> {
    vec![
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "User", "name": "User", "endpoint": "/Users", "description": "User Account",
            "schema": USER, "schemaExtensions": [{ "schema": ENTERPRISE, "required": false }],
            "meta": { "resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/User") }
        }),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "Group", "name": "Group", "endpoint": "/Groups", "description": "Group",
            "schema": GROUP, "schemaExtensions": [],
            "meta": { "resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/Group") }
        }),
    ]
}
