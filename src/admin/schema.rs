//! The connector settings the admin page builds its form from (`GET /api/1/schema`): per
//! connector type the source's fields, then the settings every connector has, then what a mapping
//! rule may say. Each field is a JSON path inside the connector, a kind the page knows how to show
//! (`text`, `number`, `bool`, `choice`, `secret`, `list`), whether it is required, and the help
//! line from docs/CONFIG.md. The parser stays the judge: the page sends what the form holds and
//! shows the parser's errors beside the fields their paths name. A test keeps this list and the
//! parser in step (every field here is a key the parser reads, every required one it requires).

use serde_json::{json, Value};

/// One form field: `(path, kind, required, help)`; choices follow `choice:` in the kind.
type Field = (&'static str, &'static str, bool, &'static str);

const FILE: [Field; 7] = [
    ("source.path", "text", true, "the file (relative paths resolve against the data directory)"),
    ("source.id_column", "text", true, "column with the immutable user id (the anchor)"),
    ("source.active_column", "text", false, "a cell whose value is in inactive_values marks the user inactive"),
    ("source.groups_column", "text", false, "multi-valued column with the user's groups"),
    ("source.manager_column", "text", false, "the user's manager reference"),
    ("source.list_separator", "text", false, "separator for multi-valued columns (default ;)"),
    ("source.inactive_values", "list", false, "default: false, 0, no, inactive, disabled, suspended"),
];

const CSV_ONLY: [Field; 1] = [("source.delimiter", "text", false, "one character; default , (\\t for tab)")];
const XLSX_ONLY: [Field; 1] = [("source.sheet", "text", false, "default: the first sheet")];

const ENTRA: [Field; 5] = [
    ("source.tenant_id", "text", true, "the Entra tenant id"),
    ("source.client_id", "text", true, "the app registration's client id"),
    ("source.client_secret", "secret", true, "needs User.Read.All and GroupMember.Read.All with admin consent"),
    ("source.groups", "choice:direct,transitive,none", false, "direct members, nested groups flattened, or none"),
    ("source.graph_url", "text", false, "default https://graph.microsoft.com"),
];

const OKTA: [Field; 5] = [
    ("source.org_url", "text", true, "e.g. https://example.okta.com"),
    ("source.api_token", "secret", false, "an SSWS token (or client_id and private_key_file)"),
    ("source.client_id", "text", false, "an OAuth service app using private_key_jwt, instead of api_token"),
    ("source.private_key_file", "text", false, "the service app's PEM (PKCS#8) key file"),
    ("source.groups", "choice:direct,none", false, "direct or none (Okta groups do not nest)"),
];

const GOOGLE: [Field; 4] = [
    ("source.credentials_file", "text", true, "the service account's JSON key file"),
    ("source.subject", "text", true, "the administrator the service account acts as"),
    ("source.customer", "text", false, "default my_customer"),
    ("source.groups", "choice:direct,transitive,none", false, "direct, transitive or none"),
];

const SCIM: [Field; 10] = [
    ("source.base_url", "text", true, "the service's SCIM base URL, the one /Users is under"),
    (
        "source.bearer_token",
        "secret",
        false,
        "a bearer token (or username and password, or token_url, client_id and client_secret)",
    ),
    ("source.username", "text", false, "HTTP Basic user, with password"),
    ("source.password", "secret", false, "HTTP Basic password"),
    ("source.token_url", "text", false, "OAuth client credentials: the token endpoint"),
    ("source.client_id", "text", false, "OAuth client credentials: the client id"),
    ("source.client_secret", "secret", false, "OAuth client credentials: the client secret"),
    ("source.groups", "choice:direct,transitive,none", false, "direct members, nested groups flattened, or none"),
    (
        "source.groups_from",
        "choice:groups,users",
        false,
        "the groups' members (default) or the users' groups attribute",
    ),
    ("source.paging", "choice:auto,index,cursor", false, "auto: cursor paging when the server announces it"),
];

const SCIM_INBOUND: [Field; 3] = [
    ("source.bearer_token", "secret", true, "the IdP's token (20+ random characters); it pushes to /scim/v2"),
    (
        "source.deactivation_window_seconds",
        "number",
        false,
        "deactivations wait this long, then pass the guard together",
    ),
    ("source.groups", "choice:direct,transitive,none", false, "direct members, nested groups flattened, or none"),
];

const KEYCLOAK: [Field; 8] = [
    ("source.base_url", "text", true, "e.g. https://sso.example.com (with /auth before Keycloak 17)"),
    ("source.realm", "text", true, "the realm whose users are read"),
    ("source.client_id", "text", true, "a confidential client with service accounts enabled"),
    ("source.client_secret", "secret", true, "its service account needs view-users and query-groups"),
    ("source.groups", "choice:direct,transitive,none", false, "transitive: sub-group members are in the parents too"),
    ("source.group_names", "choice:name,path", false, "a group's name, or its path such as /engineering/platform"),
    ("source.roles", "bool", false, "realm roles as groups too"),
    ("source.manager_attribute", "text", false, "the user attribute holding the manager's id"),
];

const ONELOGIN: [Field; 5] = [
    ("source.base_url", "text", true, "https://<subdomain>.onelogin.com"),
    ("source.client_id", "text", true, "an API credential with the Read users scope"),
    ("source.client_secret", "secret", true, "the API credential's secret"),
    ("source.groups_from", "choice:roles,group,both,none", false, "roles (default), the user's group, both, or none"),
    ("source.api_budget_percent", "number", false, "the share of the hourly API budget a sync may take (default 50)"),
];

const LDAP: [Field; 9] = [
    ("source.url", "text", true, "ldaps://host:636, or ldap://host:389 with starttls"),
    ("source.starttls", "bool", false, "upgrade an ldap:// connection with StartTLS"),
    ("source.bind_dn", "text", true, "the account usersync reads as"),
    ("source.bind_password", "secret", true, "its password"),
    ("source.base_dn", "text", true, "where users are searched"),
    ("source.flavor", "choice:openldap,active_directory", false, "entryUUID or objectGUID as the id"),
    ("source.user_filter", "text", false, "default: inetOrgPerson, or AD's person users"),
    ("source.groups", "choice:direct,transitive,none", false, "direct, nested groups flattened, or none"),
    ("source.ca_file", "text", false, "PEM CA certificates of the directory's TLS certificate"),
];

/// The declarative connector's `auth`, `users` and `paging` are objects: they are edited in the
/// configuration's JSON (docs/CONFIG.md); the form holds the address.
const REST: [Field; 1] =
    [("source.base_url", "text", true, "the API's address; auth, users and paging: see CONFIG.md")];

/// Settings of every connector, beside its source.
const CONNECTOR: [Field; 13] = [
    ("schedule", "text", false, "cron for full runs, seconds first: 0 0 2 * * ? is 02:00 every day"),
    ("priority", "number", false, "0 to 1000; the higher answers first where connectors meet"),
    ("link_existing", "list", false, "link an existing user by: none, username, email, or a field such as property:employee_id; several are tried in order"),
    ("provision_on_login", "bool", false, "create an unknown user at login when the source has them"),
    ("photos", "bool", false, "write profile photos as avatars"),
    ("lifecycle.missing", "choice:disable,delete,anonymise,keep", false, "users absent from a complete listing"),
    ("lifecycle.inactive", "choice:disable,delete,anonymise,keep", false, "users the source marks inactive"),
    ("lifecycle.filtered", "choice:disable,delete,anonymise,keep", false, "users a rule filters out"),
    ("lifecycle.grace_days", "number", false, "days a user may be missing before the action"),
    ("lifecycle.reactivate", "choice:if_disabled_by_sync,always,never", false, "who comes back when active again"),
    ("lifecycle.protected_groups", "list", false, "members are never disabled, deleted or anonymised"),
    ("safety.max_destructive_percent", "number", false, "hold a run that would disable more than this share"),
    ("safety.max_destructive_count", "number", false, "... or more than this many users"),
];

/// The fields of one connector type's source.
fn source_fields(kind: &str) -> Vec<Field> {
    match kind {
        "csv" => FILE.iter().chain(&CSV_ONLY).copied().collect(),
        "xlsx" => FILE.iter().chain(&XLSX_ONLY).copied().collect(),
        "entra" => ENTRA.to_vec(),
        "okta" => OKTA.to_vec(),
        "google" => GOOGLE.to_vec(),
        "scim" => SCIM.to_vec(),
        "scim-inbound" => SCIM_INBOUND.to_vec(),
        "keycloak" => KEYCLOAK.to_vec(),
        "onelogin" => ONELOGIN.to_vec(),
        "rest" => REST.to_vec(),
        "ldap" => LDAP.to_vec(),
        _ => Vec::new(),
    }
}

fn field(f: &Field) -> Value {
    let (path, kind, required, help) = *f;
    let label = path.rsplit('.').next().unwrap_or(path).replace('_', " ");
    match kind.strip_prefix("choice:") {
        Some(choices) => json!({ "path": path, "label": label, "kind": "choice", "required": required,
            "choices": choices.split(',').collect::<Vec<_>>(), "help": help }),
        None => json!({ "path": path, "label": label, "kind": kind, "required": required, "help": help }),
    }
}

const TYPES: [(&str, &str); 11] = [
    ("csv", "CSV file"),
    ("xlsx", "Excel workbook"),
    ("entra", "Microsoft Entra ID"),
    ("okta", "Okta"),
    ("google", "Google Workspace"),
    ("scim", "Any SCIM 2.0 service"),
    ("scim-inbound", "SCIM pushed by an IdP"),
    ("keycloak", "Keycloak"),
    ("onelogin", "OneLogin"),
    ("rest", "Any REST API (declarative)"),
    ("ldap", "LDAP or Active Directory"),
];

/// The transforms a rule may name by themselves (the others take settings and are written as
/// objects in the rule's JSON).
const TRANSFORMS: [&str; 5] = ["lowercase", "uppercase", "trim", "strip_domain", "entra_guest_upn"];

pub(super) fn schema() -> Value {
    let types: Vec<Value> = TYPES
        .iter()
        .map(|(kind, label)| {
            let fields: Vec<Value> = source_fields(kind).iter().map(field).collect();
            json!({ "type": kind, "label": label, "source": fields })
        })
        .collect();
    let connector: Vec<Value> = CONNECTOR.iter().map(field).collect();
    json!({
        "types": types,
        "connector": connector,
        "mapping": {
            "targets": ["username", "display_name", "email", "property:department", "profile:department",
                "profile:position", "profile:phone", "profile:location", "profile:about_me", "jsm:organization"],
            "transforms": TRANSFORMS,
            "no_match": ["keep", "ignore", "clear", "filter"],
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_value;

    /// A value of the field's kind that the parser accepts.
    fn sample(f: &Field) -> Value {
        let (path, kind, _, _) = *f;
        match kind {
            "number" => json!(5),
            "bool" => json!(true),
            "list" => json!(["x"]),
            k if k.starts_with("choice:") => json!(k["choice:".len()..].split(',').next()),
            _ if path.ends_with("_url") => json!("https://example.com"),
            _ if path == "schedule" => json!("0 0 2 * * ?"),
            _ if path.ends_with("delimiter") => json!(";"),
            _ => json!("value"),
        }
    }

    fn set(doc: &mut Value, path: &str, value: Value) {
        let mut at = doc;
        let parts: Vec<&str> = path.split('.').collect();
        for p in &parts[..parts.len() - 1] {
            if at.get(*p).is_none() {
                at[*p] = json!({});
            }
            at = &mut at[*p];
        }
        at[parts[parts.len() - 1]] = value;
    }

    fn errors(connector: Value) -> Vec<(String, String)> {
        let doc = json!({ "connectors": [connector] });
        match parse_value(&doc, std::env::temp_dir()) {
            Ok(_) => Vec::new(),
            Err(list) => list.into_iter().map(|e| (e.path, e.message)).collect(),
        }
    }

    #[test]
    fn every_field_is_a_key_the_parser_reads_and_every_required_one_it_requires() {
        for (kind, _) in TYPES {
            let mut all: Vec<Field> = source_fields(kind);
            all.extend(CONNECTOR);
            let mut connector =
                json!({ "id": "c", "type": kind, "mapping": [{ "target": "username", "source": "u" }] });
            for f in &all {
                set(&mut connector, f.0, sample(f));
            }
            let unknown: Vec<_> =
                errors(connector.clone()).into_iter().filter(|(_, m)| m.contains("unknown key")).collect();
            assert!(unknown.is_empty(), "{kind}: fields the parser does not read: {unknown:?}");
            for f in all.iter().filter(|f| f.2) {
                let mut without = connector.clone();
                let (parent, key) = f.0.rsplit_once('.').unwrap_or(("", f.0));
                let target = if parent.is_empty() { &mut without } else { &mut without[parent] };
                target.as_object_mut().unwrap().remove(key);
                let said = errors(without);
                assert!(
                    said.iter().any(|(p, _)| p == &format!("connectors[0].{}", f.0)),
                    "{kind}: {} is marked required but the parser does not require it: {said:?}",
                    f.0
                );
            }
        }
        for name in TRANSFORMS {
            let said = errors(json!({ "id": "c", "type": "csv", "source": { "path": "p", "id_column": "id" },
                "mapping": [{ "target": "username", "source": "u", "transforms": [name] }] }));
            assert!(said.is_empty(), "the transform {name}: {said:?}");
        }
    }
}
