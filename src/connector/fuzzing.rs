//! Entry points for the fuzzer (`cargo bench --bench fuzz`, docs/RELIABILITY.md): each feeds
//! arbitrary bytes to one parser exactly as the engine does, and maps what it read through the
//! provider's preset, so mapping sees whatever a hostile source can produce. None may panic,
//! abort or allocate without bound; errors are the expected outcome for most inputs.
//! Not an API: hidden from the docs and subject to change.

use std::path::Path;

use serde_json::{json, Value};

use crate::config::{Config, ConnectorConfig};
use crate::mapping::map_user;
use crate::model::SourceUser;

/// A configuration document (the JSON reader and the validating walker).
pub fn config(input: &[u8]) {
    let text = String::from_utf8_lossy(input);
    let _ = Config::from_json("fuzz", &text, ".".into());
}

/// Mapping expressions: the input as a template, a regex replacement and a literal, mapped over
/// a sample user whose attributes hold the input too.
pub fn mapping(input: &[u8]) {
    let text = String::from_utf8_lossy(input).into_owned();
    let doc = json!({ "connectors": [{
        "id": "fuzz", "type": "csv", "source": { "path": "x.csv", "id_column": "id" },
        "mapping": [
            { "target": "username", "source": "user", "transforms": [
                { "type": "replace", "search": text, "with": "$1" }, "trim", "lowercase", "strip_domain" ] },
            { "target": "display_name", "source": { "template": text } },
            { "target": "property:x", "source": { "first_of": [ { "attribute": text }, { "literal": text } ] } }
        ]
    }]});
    let Ok(config) = Config::from_json("fuzz", &doc.to_string(), ".".into()) else { return };
    let mut attributes = serde_json::Map::new();
    attributes.insert("id".into(), json!("1"));
    attributes.insert("user".into(), json!(text));
    attributes.insert(text.clone(), json!([text, { "a": text }]));
    map_all(&config.connectors[0], vec![sample("1", Value::Object(attributes))]);
}

/// A CSV file, read with the default settings and limits.
pub fn csv(input: &[u8]) {
    file_source(input, "csv", "fuzz.csv");
}

/// An XLSX file, read with the default settings and limits. An input that is not a ZIP is
/// taken as the sheet's XML (and, after a line `--sst--`, the shared strings' XML) and packed
/// into a well-formed workbook first: mutated bytes inside a ZIP mostly fail its checksums, so
/// this is how mutations reach the XML readers.
pub fn xlsx(input: &[u8]) {
    if input.starts_with(b"PK") {
        file_source(input, "xlsx", "fuzz.xlsx");
        return;
    }
    let text = String::from_utf8_lossy(input);
    let (sheet, strings) = match text.split_once("\n--sst--\n") {
        Some((sheet, strings)) => (sheet, Some(strings)),
        None => (&*text, None),
    };
    if let Some(book) = workbook(sheet, strings) {
        file_source(&book, "xlsx", "fuzz.xlsx");
    }
}

fn workbook(sheet: &str, strings: Option<&str>) -> Option<Vec<u8>> {
    use std::io::Write;
    const TYPES: &str = r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#;
    const RELS: &str = r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
    const BOOK: &str = r#"<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Users" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
    const BOOK_RELS: &str = r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#;
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut buf);
    let opts = zip::write::SimpleFileOptions::default();
    let mut parts = vec![
        ("[Content_Types].xml", TYPES),
        ("_rels/.rels", RELS),
        ("xl/workbook.xml", BOOK),
        ("xl/_rels/workbook.xml.rels", BOOK_RELS),
        ("xl/worksheets/sheet1.xml", sheet),
    ];
    if let Some(s) = strings {
        parts.push(("xl/sharedStrings.xml", s));
    }
    for (name, body) in parts {
        zip.start_file(name, opts).ok()?;
        zip.write_all(body.as_bytes()).ok()?;
    }
    zip.finish().ok()?;
    Some(buf.into_inner())
}

/// A page of Graph's `/users` read as the listing reads it (straight into records), and as a
/// `/users/delta` page (JSON values), each mapped with the Entra preset.
pub fn entra(input: &[u8]) {
    map_all(&preset("entra"), super::entra::page_users(input));
    let Ok(page) = serde_json::from_slice::<Value>(input) else { return };
    let users = values(&page).into_iter().filter_map(super::entra::source_user).collect();
    map_all(&preset("entra"), users);
}

/// A Graph `$batch` answer, read as photo metadata and as JSON bodies; the records among the
/// bodies (an incremental round's completions) mapped with the Entra preset.
pub fn entra_batch(input: &[u8]) {
    let (_photos, bodies) = super::entra_batch::read_answers(input);
    let users = bodies.into_iter().filter_map(super::entra::source_user).collect();
    map_all(&preset("entra"), users);
}

/// A page of Okta's `/api/v1/users`, mapped with the Okta preset.
pub fn okta(input: &[u8]) {
    let Ok(page) = serde_json::from_slice::<Value>(input) else { return };
    let inactive = vec!["SUSPENDED".to_string(), "DEPROVISIONED".to_string()];
    let users = values(&page).into_iter().filter_map(|v| super::okta::source_user(v, &inactive)).collect();
    map_all(&preset("okta"), users);
}

/// A page of Google's `users.list`, mapped with the Google preset.
pub fn google(input: &[u8]) {
    let Ok(page) = serde_json::from_slice::<Value>(input) else { return };
    let users = values(&page).into_iter().filter_map(super::google::source_user).collect();
    map_all(&preset("google"), users);
}

/// The records of a page: a bare list (Okta), `value` (Graph) or `users` (Google).
fn values(page: &Value) -> Vec<Value> {
    let list = page.as_array().or_else(|| page.get("value").or_else(|| page.get("users")).and_then(Value::as_array));
    list.cloned().unwrap_or_default()
}

fn sample(id: &str, attributes: Value) -> SourceUser {
    let Value::Object(map) = attributes else { unreachable!("an object") };
    SourceUser {
        id: id.into(),
        attributes: map.into(),
        active: true,
        groups: Vec::new(),
        manager: None,
        photo_etag: None,
        version: None,
        location: "fuzz".into(),
    }
}

fn preset(name: &str) -> ConnectorConfig {
    let doc = json!({ "connectors": [{ "id": name, "type": "csv", "source": { "path": "x.csv", "id_column": "id" },
                                       "preset": name }] });
    Config::from_json("fuzz", &doc.to_string(), ".".into()).expect("the presets are valid").connectors.remove(0)
}

fn map_all(connector: &ConnectorConfig, users: Vec<SourceUser>) {
    for u in &users {
        let _ = map_user(connector, u, None);
    }
}

fn file_source(input: &[u8], kind: &str, name: &str) {
    let dir = std::env::temp_dir().join(format!("usersync-fuzz-{}", std::process::id()));
    if std::fs::create_dir_all(&dir).is_err() || std::fs::write(dir.join(name), input).is_err() {
        return;
    }
    let doc = json!({ "connectors": [{ "id": "fuzz", "type": kind,
        "source": { "path": name, "id_column": "id", "active_column": "status", "groups_column": "groups" },
        "mapping": [ { "target": "username", "source": "user" }, { "target": "email", "source": "mail" } ] }] });
    let config = Config::from_json("fuzz", &doc.to_string(), dir.clone()).expect("a valid file config");
    let c = &config.connectors[0];
    if let Ok(mut source) = super::open(c, Path::new(&dir)) {
        if let Ok(listing) = source.fetch() {
            map_all(c, listing.users);
        }
    }
}
