//! The LDAP connector against a real slapd on 127.0.0.1 (support/slapd.rs): 10,000 users read
//! over LDAPS through a 500-entry size limit (paged results), groups with nesting and
//! posixGroup, StartTLS, Active Directory's objectGUID and disabled bit.

use serde_json::{json, Value};
use usersync::store::RunStatus;

use crate::support::slapd::{guid, Slapd, READER, READER_PASSWORD, ROOT, ROOT_PASSWORD, SUFFIX};
use crate::support::Harness;

fn connector(s: &Slapd, patch: Value) -> Value {
    let mut c = json!({
        "id": "ldap", "type": "ldap", "preset": "ldap",
        "source": { "url": s.ldaps, "ca_file": s.ca().display().to_string(), "bind_dn": READER,
            "bind_password": READER_PASSWORD, "base_dn": format!("ou=people,{SUFFIX}"),
            "group_base_dn": format!("ou=groups,{SUFFIX}"), "groups": "transitive" },
        "groups": { "create_missing": true },
        "manager": { "target": "property:manager", "write": "username", "match": "id" },
        "safety": { "max_destructive_percent": 100 }
    });
    crate::support::merge(&mut c, patch);
    c
}

fn groups(h: &Harness, user: &str) -> Vec<String> {
    h.user(user).groups.into_iter().collect()
}

#[test]
fn ten_thousand_users_come_over_ldaps_in_pages_with_nested_and_posix_groups() {
    let s = Slapd::start(10_000);
    let h = Harness::new();
    let config = h.config(connector(&s, json!({})));
    let check = h.engine.check(&config, "ldap").unwrap();
    assert!(check.ok, "{check:?}");
    // A manager the search returns after their report: the report waits for the manager's id.
    modify(&s, "user00150", vec![("manager", &format!("uid=USER09990,ou=people,{SUFFIX}"))]);
    let r = h.sync(&config);
    // Every 50th account is disabled (userAccountControl 514): not created.
    assert_eq!((r.status, r.counts.created, r.counts.failed), (RunStatus::Done, 9_800, 0), "{:?}", r.failures);
    assert_eq!(groups(&h, "user00105"), vec!["engineering", "platform", "staff"], "platform is nested in engineering");
    assert_eq!(groups(&h, "user00005"), vec!["devs", "engineering", "staff"], "devs is a posixGroup (memberUid)");
    let u = h.user("user00012");
    assert_eq!(u.values.get(&usersync::model::Target::Email), Some("user12@example.test"));
    assert_eq!(u.values.get(&"property:employee_id".parse().unwrap()), Some("E12"));
    assert!(h.find("user00049").is_none(), "disabled in the directory");
    let manager = u.values.get(&"property:manager".parse().unwrap()).map(str::to_string);
    assert_eq!(manager.as_deref(), Some("user00000"), "the manager's DN resolved to the manager");
    let later = h.user("user00150").values.get(&"property:manager".parse().unwrap()).map(str::to_string);
    assert_eq!(later.as_deref(), Some("user09990"), "a manager read after the report");
    assert_eq!(h.sync(&config).writes, 0, "a second run writes nothing");
}

#[test]
fn starttls_and_active_directorys_object_guid() {
    let s = Slapd::start(60);
    let h = Harness::new();
    let patch = json!({ "preset": "active_directory",
        "source": { "url": s.ldap, "starttls": true, "flavor": "active_directory",
            "user_filter": "(objectClass=adUser)", "group_filter": "(objectClass=groupOfNames)", "groups": "direct" } });
    let config = h.config(connector(&s, patch));
    let r = h.sync(&config);
    assert_eq!((r.status, r.counts.created), (RunStatus::Done, 59), "{:?}", r.failures);
    // The immutable id is objectGUID, as AD tools print it.
    let id = usersync::connector::ldap::guid_text(&guid(7)).unwrap();
    let anchored = h.engine.store().identities("ldap").unwrap().into_iter().find(|i| i.idp_id == id);
    assert_eq!(anchored.map(|i| i.username).as_deref(), Some("user00007"));
    assert_eq!(groups(&h, "user00010"), vec!["engineering", "staff"], "direct membership only");
    assert_eq!(groups(&h, "user00000"), vec!["engineering", "platform", "staff"]);
}

#[test]
fn a_wrong_password_and_an_untrusted_certificate_are_named() {
    let s = Slapd::start(3);
    let h = Harness::new();
    let wrong = h.config(connector(&s, json!({ "source": { "bind_password": "not-the-password" } })));
    let steps = h.engine.check(&wrong, "ldap").unwrap().steps;
    assert!(!steps[0].ok && steps[0].detail.contains(&format!("bind as {READER}")), "{steps:?}");
    assert!(!format!("{steps:?}").contains("not-the-password"));
    let untrusted = h.config(connector(&s, json!({ "source": { "ca_file": null } })));
    let steps = h.engine.check(&untrusted, "ldap").unwrap().steps;
    assert!(!steps[0].ok && steps[0].detail.contains("connect"), "{steps:?}");
    assert!(h.sync(&untrusted).status == RunStatus::Failed);
    assert!(h.users().is_empty());
}

#[test]
fn a_clear_text_bind_to_another_host_is_refused() {
    let h = Harness::new();
    let doc = json!({ "connectors": [{ "id": "ldap", "type": "ldap", "preset": "ldap",
        "source": { "url": "ldap://dc1.corp.example", "bind_dn": "cn=x", "bind_password": "p", "base_dn": "dc=corp" } }] });
    let errors = usersync::config::Config::from_json("test", &doc.to_string(), h.path("")).unwrap_err().to_string();
    assert!(errors.contains("connectors[0].source.url: ldap:// sends the bind password in the clear"), "{errors}");
}

/// Changes an entry as an administrator would.
fn modify(s: &Slapd, uid: &str, changes: Vec<(&str, &str)>) {
    let mut conn = ldap3::LdapConn::new(&s.ldap).unwrap();
    conn.simple_bind(ROOT, ROOT_PASSWORD).unwrap().success().unwrap();
    let mods = changes
        .into_iter()
        .map(|(attr, value)| {
            ldap3::Mod::Replace(attr.to_string(), std::collections::HashSet::from([value.to_string()]))
        })
        .collect();
    conn.modify(&format!("uid={uid},ou=people,{SUFFIX}"), mods).unwrap().success().unwrap();
    let _ = conn.unbind();
}

fn incremental() -> usersync::engine::RunRequest {
    usersync::engine::RunRequest {
        mode: usersync::engine::Mode::Incremental,
        ..usersync::engine::RunRequest::full(Some("ldap"))
    }
}

#[test]
fn incremental_runs_read_the_users_changed_since_by_modify_timestamp_or_usn_changed() {
    let s = Slapd::start(60);
    // OpenLDAP: modifyTimestamp, at second granularity.
    let h = Harness::new();
    let config = h.config(connector(&s, json!({})));
    assert_eq!(h.engine.run(&config, &incremental(), &|_| {}).unwrap().counts.created, 59);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    modify(&s, "user00007", vec![("title", "Architect")]);
    let second = h.engine.run(&config, &incremental(), &|_| {}).unwrap();
    assert_eq!((second.status, second.counts.updated), (RunStatus::Done, 1), "{:?}", second.counts);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    modify(&s, "user00008", vec![("title", "Architect")]);
    let third = h.engine.run(&config, &incremental(), &|_| {}).unwrap();
    // user00008, and user00007 again (the same second as the watermark): two, not 59.
    assert_eq!((third.counts.updated, third.counts.unchanged), (1, 1), "{:?}", third.counts);
    assert_eq!(third.mode, "incremental");

    // Active Directory: uSNChanged.
    let h = Harness::new();
    let patch = json!({ "preset": "active_directory", "source": { "flavor": "active_directory",
        "user_filter": "(objectClass=adUser)", "group_filter": "(objectClass=groupOfNames)" } });
    let config = h.config(connector(&s, patch));
    assert_eq!(h.engine.run(&config, &incremental(), &|_| {}).unwrap().counts.created, 59);
    modify(&s, "user00005", vec![("title", "Director"), ("uSNChanged", "5000")]);
    let next = h.engine.run(&config, &incremental(), &|_| {}).unwrap();
    assert_eq!((next.counts.updated, next.counts.unchanged), (1, 0), "{:?}", next.counts);
}

#[test]
fn a_listing_the_server_cuts_short_disables_nobody() {
    let mut s = Slapd::start(1_200);
    let h = Harness::new();
    let config = h.config(connector(&s, json!({ "source": { "groups": "none", "page_size": 200 } })));
    assert_eq!(h.sync(&config).counts.created, 1_176);
    // The server now stops every paged search after 1,000 entries (an administrative limit).
    s.restart_with_paged_total(1_000);
    let r = h.sync(&config);
    assert_eq!(r.counts.disabled, 0, "{:?}", r.counts);
    assert!(format!("{:?}", r.failures).contains("the user search stopped after"), "{:?}", r.failures);
    assert_eq!(h.active_usernames().len(), 1_176);
}
