//! Hostile and broken files: XLSX that declare a far corner, a billion shared strings or a
//! part that unpacks to gigabytes; a 1 GB single-cell CSV; bad bytes; too many rows. Each ends
//! with a clear error that names the limit's key, in bounded memory, through the real CLI.

use std::io::Write;
use std::path::Path;

use serde_json::json;
use usersync::store::RunStatus;

use super::{lock_released, settled, Scenario};
use crate::support::{cli, connector, people, row, Harness};

pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario { name: "hostile_xlsx_far_corner", run: hostile_xlsx_far_corner },
        Scenario { name: "hostile_xlsx_shared_strings_count", run: hostile_xlsx_shared_strings_count },
        Scenario { name: "hostile_xlsx_part_unpacks_huge", run: hostile_xlsx_part_unpacks_huge },
        Scenario { name: "csv_1gb_single_cell", run: csv_1gb_single_cell },
        Scenario { name: "csv_bad_bytes_and_nul", run: csv_bad_bytes_and_nul },
        Scenario { name: "csv_too_many_rows", run: csv_too_many_rows },
        Scenario { name: "file_that_is_no_user_list", run: file_that_is_no_user_list },
        Scenario {
            name: "simulate_with_huge_cells_keeps_the_store_small",
            run: simulate_with_huge_cells_keeps_the_store_small,
        },
    ]
}

/// The largest peak memory a hostile file may cost the process (the issue's bound).
const MAX_RSS_MIB: u64 = 300;

/// A workbook of one sheet with the given XML, and a shared-strings part if given.
pub fn xlsx_parts(sheet: &str, shared_strings: Option<&str>) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut buf);
    let opts = zip::write::SimpleFileOptions::default();
    let mut parts = vec![
        ("[Content_Types].xml", r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#.to_string()),
        ("_rels/.rels", r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_string()),
        ("xl/workbook.xml", r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Users" sheetId="1" r:id="rId1"/></sheets></workbook>"#.to_string()),
        ("xl/_rels/workbook.xml.rels", r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#.to_string()),
        ("xl/worksheets/sheet1.xml", sheet.to_string()),
    ];
    if let Some(s) = shared_strings {
        parts.push(("xl/sharedStrings.xml", s.to_string()));
    }
    for (name, body) in parts {
        zip.start_file(name, opts).unwrap();
        zip.write_all(body.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
    buf.into_inner()
}

const SHEET_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#;

fn header_row() -> String {
    ["id", "user", "name", "mail", "status", "groups"]
        .iter()
        .enumerate()
        .map(|(c, h)| format!(r#"<c r="{}1" t="inlineStr"><is><t>{h}</t></is></c>"#, (b'A' + c as u8) as char))
        .collect()
}

/// Runs the CLI with `-v` on `config` and returns (exit code, stdout+stderr, peak MiB).
fn sync_measured(data: &Path, config: &Path) -> (i32, String, u64) {
    let (code, out, err) = cli(data, &["-v", "sync", "--config", config.to_str().unwrap()]);
    let peak = err
        .lines()
        .find_map(|l| l.split("peak resident memory: ").nth(1))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no peak memory line: {err}"));
    (code, format!("{out}{err}"), peak)
}

/// A file source with `file` and `limits`, written as a configuration file.
fn file_config(h: &Harness, kind: &str, file: &str, limits: serde_json::Value) -> std::path::PathBuf {
    let c = connector(json!({ "type": kind, "source": { "path": file, "limits": limits } }));
    h.write(&format!("{kind}.json"), json!({ "connectors": [c] }).to_string())
}

fn hostile(h: &Harness, kind: &str, file: &str, limits: serde_json::Value, expect: &[&str]) {
    let config = file_config(h, kind, file, limits);
    let data = h.path("data");
    let (code, text, peak) = sync_measured(&data, &config);
    assert_eq!(code, 1, "{text}");
    for e in expect {
        assert!(text.contains(e), "expected '{e}' in: {text}");
    }
    assert!(peak < MAX_RSS_MIB, "peak memory {peak} MiB");
    // The run ended FAILED (not left RUNNING) and the next one can start at once.
    let (code, out, _) = cli(&data, &["history", "--json"]);
    assert_eq!(code, 0);
    let runs: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(runs[0]["status"], "FAILED", "{out}");
}

fn hostile_xlsx_far_corner() {
    let h = Harness::new();
    // 4 KB: a dimension naming the last cell of a sheet, and a cell there.
    let sheet = format!(
        r#"{SHEET_HEAD}<dimension ref="A1:XFD1048576"/><sheetData><row r="1">{}</row><row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData></worksheet>"#,
        header_row()
    );
    let bytes = xlsx_parts(&sheet, None);
    assert!(bytes.len() < 4096, "{} bytes", bytes.len());
    h.write("hostile.xlsx", bytes);
    hostile(&h, "xlsx", "hostile.xlsx", json!({}), &["column 16384", "source.limits.max_columns"]);
}

fn hostile_xlsx_shared_strings_count() {
    let h = Harness::new();
    let sheet = format!(r#"{SHEET_HEAD}<sheetData><row r="1">{}</row></sheetData></worksheet>"#, header_row());
    let sst = r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="4000000000" uniqueCount="4000000000"><si><t>a</t></si></sst>"#;
    h.write("strings.xlsx", xlsx_parts(&sheet, Some(sst)));
    hostile(&h, "xlsx", "strings.xlsx", json!({}), &["4000000000 strings", "source.limits.max_shared_strings"]);
}

fn hostile_xlsx_part_unpacks_huge() {
    let h = Harness::new();
    // Three megabytes of blanks in the sheet compress to a few kilobytes.
    let sheet = format!(
        r#"{SHEET_HEAD}<sheetData><row r="1">{}</row></sheetData>{}</worksheet>"#,
        header_row(),
        " ".repeat(3 << 20)
    );
    h.write("bomb.xlsx", xlsx_parts(&sheet, None));
    hostile(
        &h,
        "xlsx",
        "bomb.xlsx",
        json!({ "max_file_mb": 1 }),
        &["xl/worksheets/sheet1.xml", "source.limits.max_file_mb"],
    );
}

fn csv_1gb_single_cell() {
    let h = Harness::new();
    // A header, then one field of a gigabyte (a sparse file: its bytes read as NULs).
    let path = h.write("huge.csv", format!("{}\n", crate::support::HEADER));
    std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(1 << 30).unwrap();
    hostile(&h, "csv", "huge.csv", json!({}), &["1024 MiB", "source.limits.max_file_mb"]);
    // With the file limit raised, the row limit stops it after a quarter of a megabyte.
    hostile(&h, "csv", "huge.csv", json!({ "max_file_mb": 2048 }), &["line 2", "256 KiB", "source.limits.max_row_kb"]);
}

fn csv_bad_bytes_and_nul() {
    let h = Harness::new();
    let config = h.config(connector(json!({})));
    h.write_users(&people(5));
    assert_eq!(h.sync(&config).status, RunStatus::Done);
    let mut bytes = crate::support::csv(&people(5)).into_bytes();
    bytes.extend_from_slice(b"900,bad\xff\xfe,Bad,bad@example.com,active,Staff\n");
    bytes.extend_from_slice(b"901,nul,Nul\0Name,nul@example.com,active,Staff\n");
    h.write("users.csv", bytes);
    let r = h.sync(&config);
    settled(&h, &r, RunStatus::PartiallyFailed, 5);
    let reasons: Vec<&str> = r.failures.iter().map(|f| f.error.as_str()).collect();
    assert!(reasons.iter().any(|e| e.contains("not valid UTF-8")), "{reasons:?}");
    assert!(reasons.iter().any(|e| e.contains("NUL")), "{reasons:?}");
    assert!(h.find("nul").is_none() && h.find("bad").is_none());
    h.write_users(&people(5));
    settled(&h, &h.sync(&config), RunStatus::Done, 5);
}

fn csv_too_many_rows() {
    let h = Harness::new();
    h.write_users(&people(8));
    let config = h.config(connector(json!({ "source": { "limits": { "max_rows": 10 } } })));
    assert_eq!(h.sync(&config).status, RunStatus::Done);
    let mut rows = people(8);
    rows.extend((0..5).map(|i| row(500 + i, &format!("extra{i}"), "Staff")));
    h.write_users(&rows);
    let r = h.sync(&config);
    settled(&h, &r, RunStatus::Failed, 8);
    let error = r.error.unwrap();
    assert!(error.contains("more than 10 rows (source.limits.max_rows)"), "{error}");
    lock_released(&h, "hr");
}

/// A configuration pointed at a system file: the error names the file, never its content.
fn file_that_is_no_user_list() {
    let h = Harness::new();
    let shadow = "root:$6$Zx9q8w7e$Q1w2e3r4t5y6u7i8o9p0aSdFgHjKl:19700:0:99999:7:::\ndaemon:*:19700:0:99999:7:::\n";
    h.write("shadow", shadow);
    let config = file_config(&h, "csv", "shadow", json!({}));
    let (code, out, err) = cli(&h.path("data"), &["sync", "--config", config.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("do not look like column names"), "{out}");
    let (_, history, _) = cli(&h.path("data"), &["history", "--json"]);
    for text in [&out, &err, &history] {
        assert!(!text.contains("$6$") && !text.contains("root:"), "the file's content leaked: {text}");
    }
}

/// A simulation over cells of megabytes records what it would do, not the megabytes.
fn simulate_with_huge_cells_keeps_the_store_small() {
    let h = Harness::new();
    let mut rows = people(20);
    let big = "x".repeat(8 << 20);
    rows.extend((0..3).map(|i| format!("{},big{i},{big},big{i}@example.com,active,Staff", 900 + i)));
    h.write_users(&rows);
    let config = h.config(connector(json!({ "source": { "limits": { "max_row_kb": 16384 } } })));
    let r = h.simulate(&config);
    assert_eq!((r.status, r.counts.created, r.counts.failed), (RunStatus::PartiallyFailed, 20, 3));
    assert!(r.failures.iter().all(|f| f.error.contains("source.limits.max_field_kb")), "{:?}", r.failures);
    let store: u64 =
        ["state.db", "state.db-wal"].iter().filter_map(|f| std::fs::metadata(h.path(f)).ok()).map(|m| m.len()).sum();
    assert!(store < 2 << 20, "the state store holds {store} bytes");
}
