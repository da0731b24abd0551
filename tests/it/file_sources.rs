//! CSV and XLSX sources: formats, bad rows as per-user errors, unreadable files as failed runs.

use std::io::Write;

use serde_json::json;
use usersync::store::RunStatus;

use crate::support::{cli, connector, csv, people, Harness, HEADER};

#[test]
fn csv_with_bom_semicolons_and_quotes() {
    let h = Harness::new();
    let text = "\u{feff}id;user;name;mail;status;groups\n1;ann;\"Smith; Ann\";ann@example.com;active;\"A|B\"\n2;bob;\"Bob \"\"The Builder\"\"\";bob@example.com;active;B\n";
    h.write("users.csv", text);
    let config = h.config(connector(json!({ "source": { "delimiter": ";", "list_separator": "|" } })));
    let r = h.sync(&config);
    assert_eq!((r.status, r.counts.created), (RunStatus::Done, 2));
    let ann = h.user("ann");
    assert_eq!(ann.value(&"display_name".parse().unwrap()), Some("Smith; Ann"));
    assert_eq!(ann.groups.into_iter().collect::<Vec<_>>(), vec!["A", "B"]);
    assert_eq!(h.user("bob").value(&"display_name".parse().unwrap()), Some("Bob \"The Builder\""));
}

#[test]
fn tab_separated_files_work() {
    let h = Harness::new();
    h.write("users.csv", "id\tuser\tname\tmail\tstatus\tgroups\n1\tann\tAnn\tann@example.com\tactive\tStaff\n");
    let config = h.config(connector(json!({ "source": { "delimiter": "\\t" } })));
    assert_eq!(h.sync(&config).counts.created, 1);
}

#[test]
fn bad_rows_are_per_user_errors_naming_file_line_and_column() {
    let h = Harness::new();
    let mut rows = people(10);
    rows[2] = "103,user3,User3 Person,not-an-email,active,Staff".into();
    rows[4] = "105,user5,User5 Person".into();
    h.write_users(&rows);
    let config = h.config(connector(json!({})));
    let r = h.sync(&config);
    assert_eq!(r.status, RunStatus::PartiallyFailed);
    assert_eq!((r.counts.created, r.counts.failed), (8, 2));
    let mut failures: Vec<String> =
        r.failures.iter().map(|f| format!("{} | {}", f.location.clone().unwrap(), f.error)).collect();
    failures.sort();
    assert_eq!(
        failures,
        vec![
            "users.csv line 4, column mail | invalid email 'not-an-email'".to_string(),
            "users.csv line 6 | has 3 fields, the header has 6".to_string(),
        ]
    );
}

#[test]
fn a_bad_row_for_a_known_user_never_disables_them() {
    let h = Harness::new();
    let mut rows = people(10);
    h.write_users(&rows);
    let config = h.config(connector(json!({})));
    h.sync(&config);
    rows[2] = "103,user3,User3 Person,broken@,active,Staff".into();
    h.write_users(&rows);
    let r = h.sync(&config);
    assert_eq!((r.counts.failed, r.counts.disabled), (1, 0));
    assert!(h.user("user3").active);
}

#[test]
fn invalid_utf8_names_the_column() {
    let h = Harness::new();
    let mut bytes = csv(&people(2)).into_bytes();
    bytes.extend_from_slice(b"103,user3,Bad \xff Name,user3@example.com,active,Staff\n");
    h.write("users.csv", bytes);
    let r = h.sync(&h.config(connector(json!({}))));
    assert_eq!((r.counts.created, r.counts.failed), (2, 1));
    assert_eq!(r.failures[0].location.as_deref(), Some("users.csv line 4, column name"));
    assert_eq!(r.failures[0].error, "not valid UTF-8");
}

#[test]
fn a_row_without_id_makes_the_listing_incomplete_so_nobody_is_disabled() {
    let h = Harness::new();
    let rows = people(10);
    h.write_users(&rows);
    let config = h.config(connector(json!({})));
    h.sync(&config);
    let mut fewer = rows[..9].to_vec();
    fewer.push(",ghost,Ghost,ghost@example.com,active,Staff".into());
    h.write_users(&fewer);
    let r = h.sync(&config);
    assert_eq!((r.counts.disabled, r.counts.failed), (0, 1));
    assert!(r.notes.iter().any(|n| n.contains("no absence-based cleanup")), "{:?}", r.notes);
    assert!(h.user("user10").active);
    assert_eq!(r.failures[0].location.as_deref(), Some("users.csv line 11, column id"));
}

#[test]
fn duplicate_ids_fail_both_rows() {
    let h = Harness::new();
    let mut rows = people(3);
    rows.push("102,imposter,Imp,imp@example.com,active,Staff".into());
    h.write_users(&rows);
    let r = h.sync(&h.config(connector(json!({}))));
    assert_eq!((r.counts.created, r.counts.failed), (2, 2));
    assert!(
        r.failures.iter().any(|f| f.error.contains("duplicate id '102' (also at users.csv line 3)")),
        "{:?}",
        r.failures
    );
}

/// Rows are handed on as they are read, and a full run lets a user in step go at once: a
/// duplicate further down takes back a user already counted unchanged, and nobody is disabled.
#[test]
fn a_duplicate_id_after_a_user_in_step_fails_both_rows_and_disables_nobody() {
    let h = Harness::new();
    let mut rows = people(4);
    h.write_users(&rows);
    let config = h.config(connector(json!({})));
    assert_eq!(h.sync(&config).counts.created, 4);
    rows.push("102,imposter,Imp,imp@example.com,active,Staff".into());
    rows.push("102,third,Third,third@example.com,active,Staff".into());
    h.write_users(&rows);
    let r = h.sync(&config);
    assert_eq!(
        (r.counts.unchanged, r.counts.failed, r.counts.disabled, r.counts.created),
        (3, 3, 0, 0),
        "{:?}",
        r.failures
    );
    let errors: Vec<(&str, &str)> =
        r.failures.iter().map(|f| (f.location.as_deref().unwrap_or(""), f.error.as_str())).collect();
    assert!(errors.contains(&("users.csv line 3", "duplicate id; see the other row")), "{errors:?}");
    assert!(errors.contains(&("users.csv line 6", "duplicate id '102' (also at users.csv line 3)")), "{errors:?}");
    assert!(errors.contains(&("users.csv line 7", "duplicate id '102' (also at users.csv line 3)")), "{errors:?}");
    assert!(h.user("user2").active && h.find("imposter").is_none() && h.find("third").is_none());
}

#[test]
fn an_unreadable_file_fails_the_run_before_anything_is_written() {
    let h = Harness::new();
    let config = h.config(connector(json!({ "source": { "path": "missing.csv" } })));
    let r = h.sync(&config);
    assert_eq!((r.status, r.exit_code(), r.writes), (RunStatus::Failed, 1, 0));
    let e = r.error.unwrap();
    assert!(e.contains("missing.csv") && e.contains("cannot read"), "{e}");

    h.write("users.csv", "ident,user\n1,ann\n");
    let r = h.sync(&h.config(connector(json!({}))));
    assert_eq!(r.status, RunStatus::Failed);
    assert_eq!(r.error.unwrap(), "source: users.csv: the id column 'id' is not in the header (columns: ident, user)");
    assert!(h.users().is_empty());

    h.write("users.csv", "");
    assert_eq!(h.sync(&h.config(connector(json!({})))).status, RunStatus::Failed);
}

#[test]
fn the_cli_exits_1_when_the_source_cannot_be_read() {
    let h = Harness::new();
    let doc = json!({ "connectors": [connector(json!({ "source": { "path": "nope.csv" } }))] });
    let cfg = h.write("c.json", doc.to_string());
    let (code, out, _) = cli(&h.path("data"), &["sync", "--config", cfg.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAILED") && out.contains("nope.csv"), "{out}");
}

/// A minimal XLSX workbook with inline strings. Cells: "n:<number>" is numeric, "e:<code>" an
/// error, anything else text.
pub fn xlsx(sheets: &[(&str, Vec<Vec<&str>>)]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut buf);
    let opts = zip::write::SimpleFileOptions::default();
    let mut types = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>"#,
    );
    let mut book = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>"#,
    );
    let mut rels = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
    );
    for (i, (name, rows)) in sheets.iter().enumerate() {
        let n = i + 1;
        types.push_str(&format!(r#"<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#));
        book.push_str(&format!(r#"<sheet name="{name}" sheetId="{n}" r:id="rId{n}"/>"#));
        rels.push_str(&format!(r#"<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{n}.xml"/>"#));
        let mut sheet = String::from(
            r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
        );
        for (r, row) in rows.iter().enumerate() {
            sheet.push_str(&format!(r#"<row r="{}">"#, r + 1));
            for (c, cell) in row.iter().enumerate() {
                let at = format!("{}{}", (b'A' + c as u8) as char, r + 1);
                if let Some(num) = cell.strip_prefix("n:") {
                    sheet.push_str(&format!(r#"<c r="{at}"><v>{num}</v></c>"#));
                } else if let Some(code) = cell.strip_prefix("e:") {
                    sheet.push_str(&format!(r#"<c r="{at}" t="e"><v>{code}</v></c>"#));
                } else if !cell.is_empty() {
                    sheet.push_str(&format!(r#"<c r="{at}" t="inlineStr"><is><t>{cell}</t></is></c>"#));
                }
            }
            sheet.push_str("</row>");
        }
        sheet.push_str("</sheetData></worksheet>");
        zip.start_file(format!("xl/worksheets/sheet{n}.xml"), opts).unwrap();
        zip.write_all(sheet.as_bytes()).unwrap();
    }
    types.push_str("</Types>");
    book.push_str("</sheets></workbook>");
    rels.push_str("</Relationships>");
    for (name, body) in [
        ("[Content_Types].xml", types),
        ("_rels/.rels", r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_string()),
        ("xl/workbook.xml", book),
        ("xl/_rels/workbook.xml.rels", rels),
    ] {
        zip.start_file(name, opts).unwrap();
        zip.write_all(body.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
    buf.into_inner()
}

fn xlsx_connector(patch: serde_json::Value) -> serde_json::Value {
    let mut c = connector(json!({ "type": "xlsx", "source": { "path": "users.xlsx" } }));
    crate::support::merge(&mut c, patch);
    c
}

#[test]
fn xlsx_first_or_named_sheet_with_numeric_ids() {
    let h = Harness::new();
    let header: Vec<&str> = HEADER.split(',').collect();
    let users = vec![
        header.clone(),
        vec!["n:1001", "ann", "Ann", "ann@example.com", "active", "Staff;Dev"],
        vec!["n:1002", "bob", "Bob", "bob@example.com", "inactive", "Staff"],
        vec!["n:1003", "cy", "Cy", "cy@example.com", "active", ""],
    ];
    let other = vec![header, vec!["n:2001", "zed", "Zed", "zed@example.com", "active", "Staff"]];
    h.write("users.xlsx", xlsx(&[("Users", users), ("Contractors", other)]));

    let r = h.sync(&h.config(xlsx_connector(json!({}))));
    assert_eq!((r.status, r.counts.created, r.counts.filtered), (RunStatus::Done, 2, 1));
    assert_eq!(h.user("ann").external_id.as_deref(), Some("1001"), "numeric ids do not grow '.0'");
    assert_eq!(h.user("ann").groups.len(), 2);

    let h2 = Harness::new();
    h2.write("users.xlsx", std::fs::read(h.path("users.xlsx")).unwrap());
    let r = h2.sync(&h2.config(xlsx_connector(json!({ "source": { "sheet": "Contractors" } }))));
    assert_eq!(r.counts.created, 1);
    assert!(h2.find("zed").is_some());

    let r = h2.sync(&h2.config(xlsx_connector(json!({ "source": { "sheet": "Nope" } }))));
    assert_eq!(r.status, RunStatus::Failed);
    assert!(r.error.unwrap().contains("no sheet named 'Nope' (sheets: Users, Contractors)"));
}

#[test]
fn xlsx_error_cells_are_per_user_errors_naming_sheet_row_and_column() {
    let h = Harness::new();
    let header: Vec<&str> = HEADER.split(',').collect();
    let rows = vec![
        header,
        vec!["n:1", "ann", "Ann", "ann@example.com", "active", "Staff"],
        vec!["n:2", "bob", "e:#N/A", "bob@example.com", "active", "Staff"],
    ];
    h.write("users.xlsx", xlsx(&[("Users", rows)]));
    let r = h.sync(&h.config(xlsx_connector(json!({}))));
    assert_eq!((r.counts.created, r.counts.failed), (1, 1));
    assert_eq!(r.failures[0].location.as_deref(), Some("users.xlsx sheet 'Users' row 3, column name"));
    assert!(r.failures[0].error.contains("Excel error"), "{}", r.failures[0].error);
}

#[test]
fn a_file_that_is_not_a_workbook_fails_the_run() {
    let h = Harness::new();
    h.write("users.xlsx", "this is not a zip file");
    let r = h.sync(&h.config(xlsx_connector(json!({}))));
    assert_eq!(r.status, RunStatus::Failed);
    assert!(r.error.unwrap().contains("cannot open as XLSX"));
}

#[test]
fn an_unterminated_quote_cannot_cause_users_to_be_disabled() {
    let h = Harness::new();
    let rows = people(10);
    h.write_users(&rows);
    let config = h.config(connector(json!({})));
    h.sync(&config);
    // The quote opened in row 3 swallows every row after it.
    let mut broken = rows.clone();
    broken[2] = "103,user3,\"User3 Person,user3@example.com,active,Staff".into();
    h.write_users(&broken);
    let r = h.sync(&config);
    assert_eq!((r.counts.disabled, r.counts.failed), (0, 1));
    assert!(r.notes.iter().any(|n| n.contains("incomplete")), "{:?}", r.notes);
    assert_eq!(h.active_usernames().len(), 10);
}
