//! The login hook: reactivation from the source and just-in-time provisioning.

use serde_json::json;

use crate::support::{connector, people, Harness};

#[test]
fn an_active_user_is_allowed_without_a_lookup() {
    let h = Harness::new();
    h.write_users(&people(3));
    let config = h.config(connector(json!({})));
    h.sync(&config);
    let d = h.engine.on_login(&config, "hr", "USER1").unwrap();
    assert!(d.allow);
    assert_eq!((d.reason.as_str(), d.run_id), ("active", None));
}

#[test]
fn a_user_the_sync_disabled_is_reactivated_when_the_source_says_active() {
    let h = Harness::new();
    let all = people(12);
    h.write_users(&all);
    let config = h.config(connector(json!({})));
    h.sync(&config);
    h.write_users(&all[1..]);
    h.sync(&config);
    assert!(!h.user("user1").active);

    let d = h.engine.on_login(&config, "hr", "user1").unwrap();
    assert!(!d.allow, "still missing from the source");
    assert!(d.reason.contains("no source user"), "{}", d.reason);

    let mut back = all.clone();
    back[0] = back[0].replace("User1 Person", "User One");
    h.write_users(&back);
    let d = h.engine.on_login(&config, "hr", "user1").unwrap();
    assert!(d.allow, "{}", d.reason);
    assert_eq!(d.reason, "reactivated: active in the source");
    let u = h.user("user1");
    assert!(u.active);
    assert_eq!(u.value(&"display_name".parse().unwrap()), Some("User One"), "updated before the decision");
    let (run, _) = h.engine.run_details(d.run_id.unwrap()).unwrap();
    assert_eq!((run.trigger.as_str(), run.mode.as_str()), ("login", "single_user"));
}

#[test]
fn a_user_disabled_by_hand_stays_out() {
    let h = Harness::new();
    h.write_users(&people(3));
    let config = h.config(connector(json!({})));
    h.sync(&config);
    h.engine.directory().set_active(&h.user("user2").key, false).unwrap();
    let d = h.engine.on_login(&config, "hr", "user2").unwrap();
    assert!(!d.allow);
    assert_eq!(d.reason, "disabled in the directory, not by the sync");
    assert!(!h.user("user2").active);
}

#[test]
fn unknown_users_are_provisioned_just_in_time_only_when_allowed() {
    let h = Harness::new();
    h.write_users(&people(3));
    let off = h.config(connector(json!({})));
    let d = h.engine.on_login(&off, "hr", "user2").unwrap();
    assert!(!d.allow);
    assert!(d.reason.contains("just-in-time provisioning is off"), "{}", d.reason);
    assert!(h.users().is_empty());

    let on = h.config(connector(json!({ "provision_on_login": true })));
    let d = h.engine.on_login(&on, "hr", "user2").unwrap();
    assert!(d.allow, "{}", d.reason);
    assert_eq!(d.reason, "provisioned just in time from the source");
    assert_eq!(h.users().len(), 1, "only the user logging in");
    let d = h.engine.on_login(&on, "hr", "stranger").unwrap();
    assert!(!d.allow);
    assert!(h.find("stranger").is_none());
}

type Attributes = std::collections::BTreeMap<String, String>;

/// Three connectors over three files: staff (priority 10, syncs), contractors (priority 5,
/// provisions at login) and partners (priority 1, provisions at login), routed by e-mail domain,
/// username pattern and a header the host passes.
fn routed(h: &Harness) -> usersync::config::Config {
    use crate::support::{csv, row};
    h.write("staff.csv", csv(&people(3)));
    h.write(
        "contractors.csv",
        csv(&[
            row(201, "carl", "Ext"),
            "202,dora@contractors.example.com,Dora,dora@contractors.example.com,active,Ext".into(),
        ]),
    );
    h.write("partners.csv", csv(&[row(301, "ext-pat", "Partners"), row(302, "paula", "Partners")]));
    let c = |id: &str, file: &str, priority: u32, jit: bool| {
        connector(json!({ "id": id, "source": { "path": file }, "priority": priority, "provision_on_login": jit }))
    };
    let doc = json!({
        "connectors": [c("staff", "staff.csv", 10, false), c("contractors", "contractors.csv", 5, true),
            c("partners", "partners.csv", 1, true)],
        "login": { "routes": [
            { "email_domain": "contractors.example.com", "connector": "contractors" },
            { "username_pattern": "^ext-", "connector": "partners" },
            { "attribute": "header:X-Idp", "equals": "partners", "connector": "partners" }
        ] }
    });
    usersync::config::Config::from_json("test", &doc.to_string(), h.path("")).unwrap()
}

#[test]
fn login_routes_answer_for_a_table_of_logins() {
    let h = Harness::new();
    let config = routed(&h);
    // staff syncs its users: they are in the directory and staff manages them.
    h.engine.run(&config, &usersync::engine::RunRequest::full(Some("staff")), &|_| {}).unwrap();
    let header = |v: &str| Attributes::from([("header:x-idp".to_string(), v.to_string())]);
    let none = Attributes::new();
    let table: Vec<(&str, Attributes, Option<&str>, &str)> = vec![
        ("dora@contractors.example.com", none.clone(), Some("contractors"), "login.routes[0]: e-mail domain"),
        ("DORA@Contractors.Example.com", none.clone(), Some("contractors"), "login.routes[0]"),
        ("ext-pat", none.clone(), Some("partners"), "login.routes[1]: username matches ^ext-"),
        // The answer names the configured value, not the text the request sent.
        ("paula", header("Partners"), Some("partners"), "login.routes[2]: header:X-Idp is partners"),
        ("user1", none.clone(), Some("staff"), "it manages the user"),
        ("user1", header("partners"), Some("partners"), "login.routes[2]"),
        ("carl", none.clone(), Some("contractors"), "the highest-priority connector that provisions at login"),
        ("someone@example.com", none.clone(), Some("contractors"), "provisions at login"),
    ];
    for (login, attributes, want, why) in table {
        let r = h.engine.route_login(&config, login, &attributes).unwrap();
        assert_eq!(r.connector.as_deref(), want, "{login}: {}", r.why);
        assert!(r.why.contains(why), "{login}: {}", r.why);
    }
    // A user in the directory whom no connector manages is nobody's to answer for.
    let mut none_provision = config.clone();
    none_provision.connectors.iter_mut().for_each(|c| c.provision_on_login = false);
    let r = h.engine.route_login(&none_provision, "stranger", &none).unwrap();
    assert_eq!(r.connector, None);
    assert!(r.why.contains("no connector provisions"), "{}", r.why);
}

#[test]
fn on_login_without_a_connector_uses_the_routes() {
    let h = Harness::new();
    let config = routed(&h);
    let none = std::collections::BTreeMap::new();
    // Routed by domain to contractors, which has her: provisioned from there.
    let d = h.engine.on_login_routed(&config, "dora@contractors.example.com", &none).unwrap();
    assert!(d.allow, "{}", d.reason);
    assert!(d.reason.starts_with("connector 'contractors' (login.routes[0]"), "{}", d.reason);
    assert!(d.reason.ends_with("provisioned just in time from the source"), "{}", d.reason);
    // Routed by pattern to partners.
    let d = h.engine.on_login_routed(&config, "ext-pat", &none).unwrap();
    assert!(d.allow && d.reason.starts_with("connector 'partners'"), "{}", d.reason);
    // Nobody routes paula and contractors (the highest-priority provisioner) does not have her.
    let d = h.engine.on_login_routed(&config, "paula", &none).unwrap();
    assert!(!d.allow && d.reason.starts_with("connector 'contractors'"), "{}", d.reason);
    // With the header the host passes, partners answers and has her.
    let header = std::collections::BTreeMap::from([("header:X-Idp".to_string(), "partners".to_string())]);
    let d = h.engine.on_login_routed(&config, "paula", &header).unwrap();
    assert!(d.allow, "{}", d.reason);
    // An active user logs in without a look-up, whoever would answer.
    let d = h.engine.on_login_routed(&config, "paula", &none).unwrap();
    assert_eq!((d.allow, d.reason.as_str(), d.run_id), (true, "active", None));
    let made: Vec<String> = h.users().into_iter().map(|u| u.username.to_string()).collect();
    assert_eq!(made, vec!["dora@contractors.example.com", "ext-pat", "paula"], "only the users who logged in");
}

#[test]
fn login_routes_are_checked_when_the_configuration_is_read() {
    let h = Harness::new();
    let bad = json!({ "connectors": [connector(json!({}))], "login": { "routes": [
        { "email_domain": "x.com", "connector": "nope" },
        { "connector": "hr" },
        { "attribute": "header:X", "connector": "hr" },
        { "username_pattern": "(", "connector": "hr" }
    ] } });
    let errors = usersync::config::Config::from_json("test", &bad.to_string(), h.path("")).unwrap_err().to_string();
    for expected in [
        "login.routes[0].connector: no connector with id 'nope' (configured: hr)",
        "login.routes[1]: a route needs a condition",
        "login.routes[2]: 'attribute' needs 'equals'",
        "login.routes[3].username_pattern: invalid regex",
    ] {
        assert!(errors.contains(expected), "{expected}\nin: {errors}");
    }
}
