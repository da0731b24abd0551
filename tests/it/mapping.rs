//! Mapping rules: every transform, templates, fallbacks and the no-match policies.

use serde_json::{json, Value};
use usersync::config::Config;
use usersync::mapping::{map_user, Mapped, MappingTrace};
use usersync::model::{DesiredUser, SourceUser, Target};

use crate::support::connector;

fn source(attrs: Value) -> SourceUser {
    SourceUser {
        id: "42".into(),
        attributes: attrs.as_object().unwrap().clone().into(),
        active: true,
        groups: vec![],
        manager: None,
        photo_etag: None,
        version: None,
        location: "users.csv line 3".into(),
    }
}

/// Maps `attrs` with a username rule plus `rule` (targeting property:out).
fn map_with(rule: Value, attrs: Value) -> Mapped {
    let mut rules = vec![json!({ "target": "username", "source": "user" })];
    let mut rule = rule;
    if rule.get("target").is_none() {
        rule["target"] = json!("property:out");
    }
    rules.push(rule);
    let doc = json!({ "connectors": [connector(json!({ "mapping": rules }))] });
    let config = Config::from_json("t", &doc.to_string(), ".".into()).expect("valid");
    map_user(&config.connectors[0], &source(attrs), None)
}

fn desired(m: Mapped) -> DesiredUser {
    match m {
        Mapped::User(d) => d,
        other => panic!("expected a synced user, got {other:?}"),
    }
}

/// The value `property:out` ends up with: None = left alone, Some(None) = cleared.
fn out(rule: Value, attrs: Value) -> Option<Option<String>> {
    desired(map_with(rule, attrs)).values.get(&Target::Property("out".into())).cloned()
}

fn set(v: &str) -> Option<Option<String>> {
    Some(Some(v.to_string()))
}

#[test]
fn each_transform_does_what_it_says() {
    let attrs = json!({ "user": "u", "v": "  Alice.Smith@Corp.COM  " });
    let t = |transforms: Value| out(json!({ "source": "v", "transforms": transforms }), attrs.clone());
    assert_eq!(t(json!(["trim"])), set("Alice.Smith@Corp.COM"));
    assert_eq!(t(json!(["trim", "lowercase"])), set("alice.smith@corp.com"));
    assert_eq!(t(json!(["trim", "uppercase"])), set("ALICE.SMITH@CORP.COM"));
    assert_eq!(t(json!(["trim", "strip_domain"])), set("Alice.Smith"));
    assert_eq!(
        t(json!(["trim", { "type": "regex_replace", "pattern": "^(\\w+)\\.(\\w+)@.*$", "replacement": "$2, $1" }])),
        set("Smith, Alice")
    );
    assert_eq!(t(json!(["trim", { "type": "replace", "search": ".", "with": "_" }])), set("Alice_Smith@Corp_COM"));
    // Order matters: strip first, then uppercase, is not uppercase then replace.
    assert_eq!(t(json!(["strip_domain", "trim", "uppercase"])), set("ALICE.SMITH"));
    // Case changes beyond ASCII, and strip_domain on a name without a domain.
    let v = |text: &str, transforms: Value| {
        out(json!({ "source": "v", "transforms": transforms }), json!({ "user": "u", "v": text }))
    };
    assert_eq!(v("ÄNGSTRÖM.Åsa", json!(["lowercase"])), set("ängström.åsa"));
    assert_eq!(v("straße", json!(["uppercase"])), set("STRASSE"));
    assert_eq!(v("plain", json!(["strip_domain"])), set("plain"));
    let cleared = out(
        json!({ "source": "v", "transforms": ["strip_domain"], "no_match": "clear" }),
        json!({ "user": "u", "v": "@corp.com" }),
    );
    assert_eq!(cleared, Some(None), "nothing before the domain: empty");
}

#[test]
fn entra_guest_upn_recovers_the_home_address() {
    let g =
        |upn: &str| out(json!({ "source": "v", "transforms": ["entra_guest_upn"] }), json!({ "user": "u", "v": upn }));
    assert_eq!(g("alice_corp.com#EXT#@tenant.onmicrosoft.com"), set("alice@corp.com"));
    assert_eq!(g("first_last_partner.co.uk#EXT#@tenant.onmicrosoft.com"), set("first_last@partner.co.uk"));
    assert_eq!(g("bob@corp.com"), set("bob@corp.com"), "a member UPN is left alone");
    assert_eq!(g("carol_corp.com#ext#@tenant.onmicrosoft.com"), set("carol@corp.com"), "the marker in any case");
    assert_eq!(g("odd#EXT#name@corp.com"), set("odd#EXT#name@corp.com"), "a marker without the guest shape");
}

#[test]
fn default_fills_only_empty_values() {
    let rule = json!({ "source": "v", "transforms": ["trim", { "type": "default", "value": "n/a" }] });
    assert_eq!(out(rule.clone(), json!({ "user": "u", "v": "   " })), set("n/a"));
    assert_eq!(out(rule.clone(), json!({ "user": "u" })), set("n/a"));
    assert_eq!(out(rule, json!({ "user": "u", "v": "x" })), set("x"));
}

#[test]
fn templates_literals_fallbacks_and_paths() {
    let attrs =
        json!({ "user": "u", "given": "Alice", "sur": "", "alt": "Al", "manager": { "email": "boss@corp.com" } });
    assert_eq!(out(json!({ "source": { "template": "{given} {sur}" } }), attrs.clone()), set("Alice"));
    assert_eq!(out(json!({ "source": { "template": "{{{given}}}" } }), attrs.clone()), set("{Alice}"));
    assert_eq!(out(json!({ "source": { "literal": "fixed" } }), attrs.clone()), set("fixed"));
    assert_eq!(out(json!({ "source": { "first_of": ["nickname", "sur", "alt"] } }), attrs.clone()), set("Al"));
    assert_eq!(out(json!({ "source": "manager.email" }), attrs.clone()), set("boss@corp.com"));
    // A template with no values at all is empty, which is a no-match.
    assert_eq!(out(json!({ "source": { "template": "{sur} {nope}" }, "no_match": "ignore" }), attrs), None);
}

#[test]
fn no_match_policies() {
    let rule = |policy: &str| {
        json!({ "source": "v", "no_match": policy, "transforms": [
            { "type": "regex_replace", "pattern": "^EMP-(\\d+)$", "replacement": "$1" }
        ]})
    };
    let matching = json!({ "user": "u", "v": "EMP-7" });
    let odd = json!({ "user": "u", "v": "contractor" });
    for policy in ["keep", "ignore", "clear", "filter"] {
        assert_eq!(out(rule(policy), matching.clone()), set("7"), "a match is a match under '{policy}'");
    }
    assert_eq!(out(rule("keep"), odd.clone()), set("contractor"), "keep: the value as read");
    assert_eq!(out(rule("ignore"), odd.clone()), None, "ignore: the directory value is left alone");
    assert_eq!(out(rule("clear"), odd.clone()), Some(None), "clear: the target is cleared");
    match map_with(rule("filter"), odd) {
        Mapped::Filtered { idp_id, reason } => {
            assert_eq!(idp_id, "42");
            assert!(reason.contains("property:out") && reason.contains("did not match"), "{reason}");
        }
        other => panic!("filter must filter, got {other:?}"),
    }
    // An empty source is a no-match too.
    assert_eq!(out(json!({ "source": "missing", "no_match": "ignore" }), json!({ "user": "u" })), None);
    assert_eq!(out(json!({ "source": "missing", "no_match": "keep" }), json!({ "user": "u" })), Some(None));
}

#[test]
fn an_invalid_email_is_a_per_user_error_naming_line_and_column() {
    match map_with(json!({ "target": "email", "source": "mail" }), json!({ "user": "u", "mail": "bob@" })) {
        Mapped::Invalid { idp_id, location, message } => {
            assert_eq!(idp_id, "42");
            assert_eq!(location, "users.csv line 3, column mail");
            assert_eq!(message, "invalid email 'bob@'");
        }
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn an_empty_username_is_an_error_and_a_filter_rule_filters() {
    match map_with(json!({ "source": "x" }), json!({ "user": "" })) {
        Mapped::Invalid { message, location, .. } => {
            assert_eq!(message, "the username is empty");
            assert_eq!(location, "users.csv line 3, column user");
        }
        other => panic!("expected an error, got {other:?}"),
    }
    let doc = json!({ "connectors": [connector(json!({ "mapping": [
        { "target": "username", "source": "user", "transforms": [{ "type": "regex_replace", "pattern": "^svc-", "replacement": "" }], "no_match": "filter" }
    ]}))] });
    let config = Config::from_json("t", &doc.to_string(), ".".into()).unwrap();
    assert!(matches!(
        map_user(&config.connectors[0], &source(json!({ "user": "alice" })), None),
        Mapped::Filtered { .. }
    ));
    assert!(
        matches!(map_user(&config.connectors[0], &source(json!({ "user": "svc-alice" })), None), Mapped::User(d) if d.username == "alice")
    );
}

#[test]
fn the_trace_explains_each_rule() {
    let doc = json!({ "connectors": [connector(json!({ "mapping": [
        { "target": "username", "source": "user", "transforms": ["lowercase"] },
        { "target": "email", "source": "mail", "no_match": "clear", "transforms": [
            { "type": "regex_replace", "pattern": "@old\\.com$", "replacement": "@new.com" }
        ]}
    ]}))] });
    let config = Config::from_json("t", &doc.to_string(), ".".into()).unwrap();
    let mut trace = MappingTrace::default();
    let m =
        map_user(&config.connectors[0], &source(json!({ "user": "ALICE", "mail": "a@other.com" })), Some(&mut trace));
    assert!(matches!(m, Mapped::User(_)));
    assert_eq!(trace.rules.len(), 2);
    assert_eq!(trace.rules[0].read.as_deref(), Some("ALICE"));
    assert_eq!(trace.rules[0].steps, vec![("lowercase".to_string(), Some("alice".to_string()))]);
    assert_eq!(trace.rules[1].outcome, "a pattern did not match; clear");
}

/// A sync maps records it owns and moves values out of them: the result must be what mapping a
/// borrowed record gives, also when several rules read one attribute or paths under one name.
#[test]
fn an_owned_record_maps_exactly_as_a_borrowed_one() {
    use usersync::mapping::{map_user_owned, Takes};
    let rules = json!([
        { "target": "username", "source": "upn", "transforms": ["strip_domain", "lowercase"] },
        { "target": "email", "source": { "first_of": ["mail", "upn"] }, "transforms": ["lowercase"] },
        { "target": "display_name", "source": "name" },
        { "target": "property:manager", "source": "manager.upn" },
        { "target": "property:manager_mail", "source": "manager.mail", "no_match": "clear" },
        { "target": "property:name_again", "source": { "template": "{name} ({dept})" } },
        { "target": "property:dept", "source": "dept", "transforms": ["uppercase"], "no_match": "keep" },
        { "target": "property:phone", "source": "phones.0" },
        { "target": "property:flag", "source": "flag" },
        { "target": "property:dotted", "source": "a.b" }
    ]);
    let doc = json!({ "connectors": [connector(json!({ "mapping": rules }))] });
    let config = Config::from_json("t", &doc.to_string(), ".".into()).expect("valid");
    let c = &config.connectors[0];
    let takes = Takes::new(c);
    let records = [
        json!({ "user": "u", "upn": "Ada@Corp.com", "name": "Ada L", "dept": "r&d", "phones": ["+1 5"], "flag": true,
                "manager": { "upn": "Bo@corp.com", "mail": "bo@corp.com" }, "a.b": "literal key", "a": { "b": "nested" } }),
        json!({ "user": "u", "upn": "Cy@Corp.com", "mail": "CY@mail.com", "name": " ", "dept": "", "manager": {} }),
        json!({ "user": "u", "upn": "Di@corp.com", "a": { "b": "nested only" } }),
    ];
    for attrs in records {
        let record = source(attrs.clone());
        let borrowed = map_user(c, &record, None);
        assert_eq!(map_user_owned(c, &takes, record, true), borrowed, "for {attrs}");
    }
    // The first record, in detail: the shared and nested values all arrive.
    let d = desired(map_user_owned(
        c,
        &takes,
        source(json!({ "upn": "Ada@Corp.com", "name": "Ada L", "dept": "r&d",
        "manager": { "upn": "Bo@corp.com", "mail": "bo@corp.com" } })),
        true,
    ));
    let get = |t: &str| d.values.get(&t.parse().unwrap()).cloned().flatten();
    assert_eq!(d.username, "ada");
    assert_eq!(get("email").as_deref(), Some("ada@corp.com"));
    assert_eq!(get("property:manager").as_deref(), Some("Bo@corp.com"));
    assert_eq!(get("property:manager_mail").as_deref(), Some("bo@corp.com"));
    assert_eq!(get("property:name_again").as_deref(), Some("Ada L (r&d)"));
    assert_eq!(get("property:dept").as_deref(), Some("R&D"));
}

/// A run whose rows, mapping and directory records are as they were skips the rules; a changed
/// row, a local edit of the directory (drift) or a changed mapping maps that user again, and the
/// edit is corrected in the same run.
#[test]
fn unchanged_rows_onto_unchanged_directory_records_skip_the_rules() {
    use crate::support::{people, Harness};
    use usersync::directory::Directory as _;
    let h = Harness::new();
    let mut rows = people(20);
    h.write_users(&rows);
    let config = h.config(connector(json!({})));
    let first = h.sync(&config);
    assert_eq!((first.counts.created, first.timings.rules_skipped), (20, 0));
    let r = h.sync(&config);
    assert_eq!((r.writes, r.counts.unchanged, r.timings.rules_skipped), (0, 20, 20));

    // A changed row: that user's rules run, and the change is written.
    rows[4] = rows[4].replace("User5 Person", "Fifth Person");
    h.write_users(&rows);
    let r = h.sync(&config);
    assert_eq!((r.writes, r.timings.rules_skipped), (1, 19));
    let name: Target = "display_name".parse().unwrap();
    assert_eq!(h.user("user5").value(&name), Some("Fifth Person"));
    assert_eq!(h.sync(&config).timings.rules_skipped, 20);

    // An edit in the directory is corrected by the next run, not a day later.
    let dir = usersync::directory::local::LocalDirectory::open(&h.path("directory.db")).unwrap();
    dir.update_core(&h.user("user7").key, &[(name.clone(), Some("Edited by hand".into()))]).unwrap();
    let r = h.sync(&config);
    assert_eq!((r.writes, r.timings.rules_skipped), (1, 19));
    assert_eq!(h.user("user7").value(&name), Some("User7 Person"));

    // A value the mapping does not write, edited by hand: mapped again, nothing to write, and
    // skipped again from the run after.
    let other: Target = "property:note".parse().unwrap();
    dir.set_field(&h.user("user9").key, &other, Some("kept")).unwrap();
    let r = h.sync(&config);
    assert_eq!((r.writes, r.timings.rules_skipped), (0, 19));
    assert_eq!(h.sync(&config).timings.rules_skipped, 20);
    assert_eq!(h.user("user9").value(&other), Some("kept"));

    // A changed mapping maps everyone.
    let changed = h.config(connector(json!({ "mapping": [
        { "target": "username", "source": "user" },
        { "target": "display_name", "source": "name", "transforms": ["uppercase"] },
        { "target": "email", "source": "mail" }
    ]})));
    let r = h.sync(&changed);
    assert_eq!((r.writes, r.timings.rules_skipped), (20, 0));
    assert_eq!(h.user("user3").value(&name), Some("USER3 PERSON"));
}
