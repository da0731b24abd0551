//! The Google Workspace connector against the Directory API emulator on 127.0.0.1.

use serde_json::{json, Value};
use usersync::store::RunStatus;

use crate::support::google::{self, Google};
use crate::support::Harness;

const USERS: &str = "GET /admin/directory/v1/users";

pub(crate) fn connector(g: &Google, h: &Harness, patch: Value) -> Value {
    g.write_key(&h.path("service-account.json"));
    let mut c = json!({
        "id": "google",
        "type": "google",
        "source": g.source("service-account.json"),
        "mapping": [
            { "target": "username", "source": "primaryEmail", "transforms": ["strip_domain", "lowercase"] },
            { "target": "display_name", "source": "name.fullName" },
            { "target": "email", "source": "primaryEmail" },
            { "target": "profile:department", "source": "organizations.0.department" },
            { "target": "property:manager", "source": "manager.email", "transforms": ["strip_domain"], "no_match": "clear" }
        ],
        "safety": { "max_destructive_percent": 20 }
    });
    crate::support::merge(&mut c, patch);
    c
}

#[test]
fn a_domain_of_2000_users_and_50_groups_syncs_and_a_second_run_writes_nothing() {
    let g = Google::start(2000, 50);
    let h = Harness::new();
    let config = h.config(connector(&g, &h, json!({ "photos": true })));
    let r = h.sync(&config);
    // One user in twenty has a photo; user 1260 of them is archived.
    assert_eq!(r.photo_downloads, 99);
    // 50 suspended and 20 archived users are inactive: known, not created.
    assert_eq!(
        (r.status, r.counts.created, r.counts.filtered, r.counts.failed),
        (RunStatus::Done, 1930, 70, 0),
        "{:?}",
        r.failures.first()
    );
    let u = h.user("g12");
    assert_eq!(u.value(&"display_name".parse().unwrap()), Some("G User12"));
    assert_eq!(u.value(&"profile:department".parse().unwrap()), Some("Desk 0"));
    assert_eq!(u.value(&"property:manager".parse().unwrap()), Some("g2"));
    assert_eq!(u.groups.iter().collect::<Vec<_>>(), vec!["Google Group 12"]);
    assert_eq!(g.count(USERS), 4, "⌈2000/500⌉ pages");
    assert_eq!(
        g.state.lock().unwrap().last_fields.as_deref(),
        Some("nextPageToken,users(archived,etag,id,name,organizations,primaryEmail,relations,suspended,thumbnailPhotoEtag)"),
        "a partial response of what the mapping reads"
    );
    assert_eq!(g.count("POST /token"), 1);
    assert_eq!(g.count("GET /admin/directory/v1/groups/{id}/members"), 50);

    let again = h.sync(&config);
    assert_eq!((again.writes, again.counts.unchanged, again.photo_downloads), (0, 1930, 0));

    // The users are handed over page by page, not once the listing is read to the end.
    let before = g.count(USERS);
    let (handed, pages) = h.read_source_probing(&config, || g.count(USERS) - before);
    assert_eq!((handed, pages), (2000, Some(1)), "users handed over, and user pages read at the first");
}

#[test]
fn nested_groups_flatten_with_derived_membership_and_throttling_is_waited_out() {
    let g = Google::start(30, 3);
    {
        let mut s = g.state.lock().unwrap();
        s.groups[0].3 = vec![s.groups[1].0.clone()];
        s.throttle = 3;
    }
    let h = Harness::new();
    let r = h.sync(&h.config(connector(&g, &h, json!({ "source": { "groups": "transitive" } }))));
    assert_eq!((r.status, r.counts.failed), (RunStatus::Done, 0));
    assert_eq!(h.user("g1").groups.iter().collect::<Vec<_>>(), vec!["Google Group 0", "Google Group 1"]);
}

#[test]
fn a_listing_that_fails_part_way_disables_nobody() {
    let g = Google::start(1800, 0);
    let h = Harness::new();
    let config = h.config(connector(&g, &h, json!({ "source": { "groups": "none", "http": { "max_attempts": 2 } } })));
    let first = h.sync(&config);
    g.state.lock().unwrap().fail_page = Some(3);
    let r = h.sync(&config);
    assert_eq!((r.status, r.counts.disabled), (RunStatus::PartiallyFailed, 0));
    assert_eq!(h.active_usernames().len() as u64, first.counts.created);
    assert!(
        r.failures[0]
            .error
            .contains("stopped after 1000 users: google: GET /admin/directory/v1/users: 503 backendError"),
        "{}",
        r.failures[0].error
    );
}

#[test]
fn delegation_and_subject_problems_are_explained_without_the_key() {
    let g = Google::start(3, 0);
    let h = Harness::new();
    g.state.lock().unwrap().delegated = false;
    let config = h.config(connector(&g, &h, json!({})));
    let check = h.engine.check(&config, "google").unwrap();
    assert!(!check.ok);
    assert!(
        check.steps[0].detail.contains("401 unauthorized_client (authorise the service account's client id"),
        "{}",
        check.steps[0].detail
    );

    g.state.lock().unwrap().delegated = true;
    let wrong = h.config(connector(&g, &h, json!({ "source": { "subject": "nobody@example.org" } })));
    let r = h.sync(&wrong);
    let e = r.error.unwrap();
    assert!(e.contains("400 invalid_grant (check that nobody@example.org is an existing administrator"), "{e}");
    assert!(!e.contains("PRIVATE KEY") && !e.contains(&google::KEY_PEM[40..80]), "{e}");

    g.state.lock().unwrap().admin_rights = false;
    let check = h.engine.check(&config, "google").unwrap();
    assert!(
        check.steps[1].detail.contains("403 forbidden (the subject admin@example.org must be an administrator"),
        "{}",
        check.steps[1].detail
    );

    let missing = h.config(connector(&g, &h, json!({ "source": { "credentials_file": "nope.json" } })));
    let r = h.sync(&missing);
    assert!(r.error.unwrap().contains("google: cannot read"));
}

#[test]
fn the_google_preset_maps_a_domain_without_rules() {
    let g = Google::start(12, 1);
    let h = Harness::new();
    g.write_key(&h.path("service-account.json"));
    let config = h.config(
        json!({ "id": "google", "type": "google", "source": g.source("service-account.json"), "preset": "google" }),
    );
    let r = h.sync(&config);
    assert_eq!((r.status, r.counts.failed), (RunStatus::Done, 0));
    let u = h.user("g7");
    assert_eq!(u.value(&"property:manager".parse().unwrap()), Some("g2"));
    assert_eq!(u.value(&"property:title".parse().unwrap()), Some("Editor"));
}

#[test]
fn photos_are_downloaded_only_when_their_etag_changed() {
    let g = Google::start(400, 0);
    let h = Harness::new();
    let config = h.config(connector(&g, &h, json!({ "photos": true, "source": { "groups": "none" } })));
    let first = h.sync(&config);
    // Users 0, 20, ..., 380 have photos; none of them is suspended or archived.
    assert_eq!((first.status, first.photo_downloads), (RunStatus::Done, 20));
    let dir = usersync::directory::local::LocalDirectory::open(&h.path("directory.db")).unwrap();
    let key = h.user("g40").key;
    let image = dir.avatar(&key).unwrap().expect("an avatar");
    assert!(String::from_utf8_lossy(&image).contains("photo-40-v1"));
    assert_eq!(dir.avatar(&h.user("g41").key).unwrap(), None);

    let again = h.sync(&config);
    assert_eq!((again.writes, again.photo_downloads), (0, 0));
    assert_eq!(g.count("GET /admin/directory/v1/users/{id}/photos/thumbnail"), 20);

    g.state.lock().unwrap().users[40]["thumbnailPhotoEtag"] = json!("\"photo-40-v2\"");
    g.state.lock().unwrap().users[60].as_object_mut().unwrap().remove("thumbnailPhotoEtag");
    let r = h.sync(&config);
    assert_eq!((r.writes, r.photo_downloads, r.counts.updated), (2, 1, 2));
    assert!(String::from_utf8_lossy(&dir.avatar(&key).unwrap().unwrap()).contains("photo-40-v2"));
    assert_eq!(dir.avatar(&h.user("g60").key).unwrap(), None, "a removed photo clears the avatar");
}

#[test]
fn users_whose_etag_did_not_change_are_not_mapped_again() {
    let g = Google::start(60, 2);
    let h = Harness::new();
    let config = h.config(connector(&g, &h, json!({})));
    assert_eq!(h.sync(&config).counts.failed, 0);
    // The record changes but its etag does not (which Google never does): the rules are not
    // evaluated again, so the change is not seen — proof that the rules were skipped.
    g.state.lock().unwrap().users[12]["name"]["fullName"] = json!("Renamed Without Etag");
    let r = h.sync(&config);
    // Every user's rules are skipped but the suspended one's, which has no directory user.
    assert_eq!((r.writes, r.timings.rules_skipped), (0, 59));
    assert_eq!(h.user("g12").value(&"display_name".parse().unwrap()), Some("G User12"));
    // Memberships are not covered by the etag and are still followed.
    {
        let mut s = g.state.lock().unwrap();
        let id = s.users[12]["id"].as_str().unwrap().to_string();
        s.groups[1].2.push(id);
    }
    let r = h.sync(&config);
    assert_eq!((r.counts.updated, r.writes), (1, 1));
    // A new etag: mapped again.
    g.state.lock().unwrap().users[12]["etag"] = json!("\"etag-12-v2\"");
    h.sync(&config);
    assert_eq!(h.user("g12").value(&"display_name".parse().unwrap()), Some("Renamed Without Etag"));
    // A local edit of a mapped field is corrected by the next run: the user's directory record
    // no longer digests as it was stored, so that user's rules run again.
    let dir = usersync::directory::local::LocalDirectory::open(&h.path("directory.db")).unwrap();
    use usersync::directory::Directory as _;
    dir.update_core(&h.user("g14").key, &[("display_name".parse().unwrap(), Some("Edited in Jira".into()))]).unwrap();
    let r = h.sync(&config);
    assert_eq!((r.writes, r.timings.rules_skipped), (1, 58), "only the edited user is mapped again");
    assert_eq!(h.user("g14").value(&"display_name".parse().unwrap()), Some("G User14"));
    assert_eq!(h.sync(&config).timings.rules_skipped, 59, "corrected, it is in step again");
    // A new window maps everyone again.
    h.advance_days(2);
    let r = h.sync(&config);
    assert_eq!((r.writes, r.timings.rules_skipped), (0, 0));
    // A changed mapping re-maps everyone.
    let changed = h.config(connector(
        &g,
        &h,
        json!({ "mapping": [
            { "target": "username", "source": "primaryEmail", "transforms": ["strip_domain", "lowercase"] },
            { "target": "display_name", "source": "name.fullName", "transforms": ["uppercase"] }
        ]}),
    ));
    h.sync(&changed);
    assert_eq!(h.user("g13").value(&"display_name".parse().unwrap()), Some("G USER13"));
}

#[test]
fn custom_schemas_are_read_when_asked_for() {
    let g = Google::start(5, 0);
    let h = Harness::new();
    let c = connector(
        &g,
        &h,
        json!({ "source": { "custom_schemas": ["HR"], "groups": "none" }, "mapping": [
            { "target": "username", "source": "primaryEmail", "transforms": ["strip_domain"] },
            { "target": "property:cost_center", "source": "customSchemas.HR.costCenter" }
        ]}),
    );
    let r = h.sync(&h.config(c));
    assert_eq!(r.counts.created, 5);
    assert_eq!(h.user("g3").value(&"property:cost_center".parse().unwrap()), Some("CC-0003"));
}

#[test]
fn a_login_reads_only_that_google_user() {
    let g = Google::start(600, 3);
    let h = Harness::new();
    let config = h.config(connector(&g, &h, json!({})));
    h.sync(&config);
    g.state.lock().unwrap().users[8]["suspended"] = json!(true);
    assert_eq!(h.sync(&config).counts.disabled, 1);
    g.state.lock().unwrap().users[8]["suspended"] = json!(false);
    g.state.lock().unwrap().requests.clear();
    let d = h.engine.on_login(&config, "google", "g8").unwrap();
    assert!(d.allow, "{}", d.reason);
    assert_eq!(g.count(USERS), 0, "no domain listing for one login");
    assert_eq!((g.count("GET /admin/directory/v1/users/{id}"), g.count("GET /admin/directory/v1/groups")), (1, 1));
    assert_eq!(h.user("g8").groups.iter().collect::<Vec<_>>(), vec!["Google Group 2"]);
}
