//! Preset mappings per provider: a sensible username, display name, email, department, title,
//! phone and manager. Extra fields go to user properties (Jira and the local directory have
//! them); a rule in the connector's own `mapping` replaces the preset's rule for its target.

use serde_json::{json, Value};

pub const NAMES: [(&str, &str); 9] = [
    ("entra", "entra"),
    ("okta", "okta"),
    ("google", "google"),
    ("scim", "scim"),
    ("keycloak", "keycloak"),
    ("onelogin", "onelogin"),
    ("ldap", "ldap"),
    ("active_directory", "ldap"),
    ("rest", "rest"),
];

pub fn rules(name: &str) -> Value {
    let lower = json!(["strip_domain", "lowercase"]);
    match name {
        "entra" => json!([
            { "target": "username", "source": "userPrincipalName",
              "transforms": ["entra_guest_upn", "strip_domain", "lowercase"], "no_match": "filter" },
            { "target": "display_name", "source": "displayName" },
            { "target": "email", "source": { "first_of": ["mail", "userPrincipalName"] },
              "transforms": ["entra_guest_upn", "lowercase"], "no_match": "clear" },
            { "target": "property:department", "source": "department", "no_match": "clear" },
            { "target": "property:title", "source": "jobTitle", "no_match": "clear" },
            { "target": "property:phone", "source": { "first_of": ["mobilePhone", "businessPhones.0"] }, "no_match": "clear" },
            { "target": "property:manager", "source": "manager.userPrincipalName", "transforms": lower, "no_match": "clear" }
        ]),
        "okta" => json!([
            { "target": "username", "source": "profile.login", "transforms": lower, "no_match": "filter" },
            { "target": "display_name", "source": { "first_of": [
                { "attribute": "profile.displayName" }, { "template": "{profile.firstName} {profile.lastName}" }] } },
            { "target": "email", "source": "profile.email", "transforms": ["lowercase"], "no_match": "clear" },
            { "target": "property:department", "source": "profile.department", "no_match": "clear" },
            { "target": "property:title", "source": "profile.title", "no_match": "clear" },
            { "target": "property:phone", "source": { "first_of": ["profile.mobilePhone", "profile.primaryPhone"] }, "no_match": "clear" },
            { "target": "property:manager", "source": "profile.manager", "no_match": "clear" }
        ]),
        // RFC 7643's core and enterprise user; `email` and `phone` are the primary values the
        // connector picks from `emails` and `phoneNumbers`.
        "scim" => json!([
            { "target": "username", "source": "userName", "transforms": ["lowercase"], "no_match": "filter" },
            { "target": "display_name", "source": { "first_of": [
                { "attribute": "displayName" }, { "template": "{name.givenName} {name.familyName}" }, { "attribute": "userName" }] } },
            { "target": "email", "source": "email", "transforms": ["lowercase"], "no_match": "clear" },
            { "target": "property:department", "source": "enterprise.department", "no_match": "clear" },
            { "target": "property:title", "source": "title", "no_match": "clear" },
            { "target": "property:phone", "source": "phone", "no_match": "clear" },
            { "target": "property:employee_id", "source": "enterprise.employeeNumber", "no_match": "clear" },
            { "target": "property:manager", "source": "enterprise.manager.displayName", "no_match": "clear" }
        ]),
        // The declarative connector's `users.fields` named as this preset expects them.
        "rest" => json!([
            { "target": "username", "source": { "first_of": ["username", "email"] }, "transforms": ["lowercase"], "no_match": "filter" },
            { "target": "display_name", "source": { "first_of": [
                { "attribute": "display_name" }, { "template": "{first_name} {last_name}" }, { "attribute": "username" }] } },
            { "target": "email", "source": "email", "transforms": ["lowercase"], "no_match": "clear" },
            { "target": "property:department", "source": "department", "no_match": "clear" },
            { "target": "property:title", "source": "title", "no_match": "clear" },
            { "target": "property:phone", "source": "phone", "no_match": "clear" },
            { "target": "property:employee_id", "source": "employee_id", "no_match": "clear" }
        ]),
        // inetOrgPerson (RFC 2798).
        "ldap" => json!([
            { "target": "username", "source": "uid", "transforms": ["lowercase"], "no_match": "filter" },
            { "target": "display_name", "source": { "first_of": ["displayName", "cn"] } },
            { "target": "email", "source": "mail", "transforms": ["lowercase"], "no_match": "clear" },
            { "target": "property:department", "source": { "first_of": ["departmentNumber", "ou"] }, "no_match": "clear" },
            { "target": "property:title", "source": "title", "no_match": "clear" },
            { "target": "property:phone", "source": { "first_of": ["mobile", "telephoneNumber"] }, "no_match": "clear" },
            { "target": "property:employee_id", "source": "employeeNumber", "no_match": "clear" }
        ]),
        // An Active Directory user.
        "active_directory" => json!([
            { "target": "username", "source": "sAMAccountName", "transforms": ["lowercase"], "no_match": "filter" },
            { "target": "display_name", "source": { "first_of": ["displayName", "cn"] } },
            { "target": "email", "source": { "first_of": ["mail", "userPrincipalName"] }, "transforms": ["lowercase"], "no_match": "clear" },
            { "target": "property:department", "source": "department", "no_match": "clear" },
            { "target": "property:title", "source": "title", "no_match": "clear" },
            { "target": "property:phone", "source": { "first_of": ["mobile", "telephoneNumber"] }, "no_match": "clear" },
            { "target": "property:employee_id", "source": "employeeID", "no_match": "clear" }
        ]),
        // API v2's user; custom attributes under `custom_attributes`.
        "onelogin" => json!([
            { "target": "username", "source": { "first_of": ["username", "email"] }, "transforms": ["lowercase"], "no_match": "filter" },
            { "target": "display_name", "source": { "first_of": [
                { "template": "{firstname} {lastname}" }, { "attribute": "username" }] } },
            { "target": "email", "source": "email", "transforms": ["lowercase"], "no_match": "clear" },
            { "target": "property:department", "source": "department", "no_match": "clear" },
            { "target": "property:title", "source": "title", "no_match": "clear" },
            { "target": "property:phone", "source": "phone", "no_match": "clear" },
            { "target": "property:employee_no", "source": "custom_attributes.employee_no", "no_match": "clear" }
        ]),
        // A UserRepresentation; custom attributes are lists (`attributes.department.0`).
        "keycloak" => json!([
            { "target": "username", "source": "username", "transforms": ["lowercase"], "no_match": "filter" },
            { "target": "display_name", "source": { "first_of": [
                { "template": "{firstName} {lastName}" }, { "attribute": "username" }] } },
            { "target": "email", "source": "email", "transforms": ["lowercase"], "no_match": "clear" },
            { "target": "property:department", "source": "attributes.department.0", "no_match": "clear" },
            { "target": "property:title", "source": "attributes.title.0", "no_match": "clear" },
            { "target": "property:phone", "source": "attributes.phoneNumber.0", "no_match": "clear" }
        ]),
        _ => json!([
            { "target": "username", "source": "primaryEmail", "transforms": lower, "no_match": "filter" },
            { "target": "display_name", "source": "name.fullName" },
            { "target": "email", "source": "primaryEmail", "transforms": ["lowercase"], "no_match": "clear" },
            { "target": "property:department", "source": "organizations.0.department", "no_match": "clear" },
            { "target": "property:title", "source": "organizations.0.title", "no_match": "clear" },
            { "target": "property:phone", "source": "phones.0.value", "no_match": "clear" },
            { "target": "property:manager", "source": "manager.email", "transforms": lower, "no_match": "clear" }
        ]),
    }
}
