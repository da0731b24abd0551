//! Excel source: the first sheet or a named one; row 1 names the columns.
//!
//! An XLSX file is a ZIP of XML parts, and a few kilobytes can declare a sheet of 17 billion
//! cells or a table of a billion shared strings. Before calamine opens the file, every part is
//! unpacked once into nothing, counting, against `source.limits.max_file_mb` (the sizes in the
//! ZIP's headers are not trusted), and the shared-strings count is checked against
//! `max_shared_strings`. Cells are then streamed (`worksheet_cells_reader`), never laid out in a
//! rectangle sized by the sheet's declared dimension or by a far-away cell reference.

use std::io::Read;
use std::path::{Path, PathBuf};

use calamine::{open_workbook, DataRef, Reader, Xlsx};

use super::rows::{Cell, Columns, Place, RowSink};
use super::{Connector, Listing, SourceError};
use crate::config::{FileLimits, FileSource};
use crate::model::SourceUser;

pub(super) struct XlsxConnector {
    settings: FileSource,
    path: PathBuf,
}

impl XlsxConnector {
    pub fn new(settings: FileSource, path: PathBuf) -> Self {
        XlsxConnector { settings, path }
    }
}

/// At most this many parts in a workbook; real ones have a few dozen.
const MAX_PARTS: usize = 10_000;

/// Checks the file's size, every part's unpacked size and the shared-strings count.
fn check_parts(path: &Path, name: &str, limits: &FileLimits) -> Result<(), SourceError> {
    let unreadable = |why: String| SourceError::Unreadable(format!("{name}: {why}"));
    let file = std::fs::File::open(path).map_err(|e| unreadable(format!("cannot open: {e}")))?;
    let size = file.metadata().map_err(|e| unreadable(format!("cannot open: {e}")))?.len();
    let max = limits.file_bytes();
    let too_big = |what: &str| {
        unreadable(format!("{what} is larger than {} MiB (source.limits.max_file_mb)", limits.max_file_mb))
    };
    if size > max {
        return Err(too_big("the file"));
    }
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| unreadable(format!("cannot open as XLSX: {e}")))?;
    if zip.len() > MAX_PARTS {
        return Err(unreadable(format!("the workbook has {} parts, more than {MAX_PARTS}", zip.len())));
    }
    for i in 0..zip.len() {
        let mut part = zip.by_index(i).map_err(|e| unreadable(format!("cannot open as XLSX: {e}")))?;
        let part_name = part.name().map(|n| n.into_owned()).unwrap_or_default();
        let shared_strings = part_name.ends_with("sharedStrings.xml");
        let mut head = Vec::new();
        if shared_strings {
            (&mut part).take(4096).read_to_end(&mut head).map_err(|e| unreadable(format!("{part_name}: {e}")))?;
        }
        let rest = std::io::copy(&mut (&mut part).take(max + 1), &mut std::io::sink())
            .map_err(|e| unreadable(format!("{part_name}: {e}")))?;
        if head.len() as u64 + rest > max {
            return Err(too_big(&format!("the part {part_name} unpacked")));
        }
        if shared_strings {
            let declared = declared_count(&head);
            if declared > u64::from(limits.max_shared_strings) {
                return Err(unreadable(format!(
                    "the shared-strings table declares {declared} strings, more than {} (source.limits.max_shared_strings)",
                    limits.max_shared_strings
                )));
            }
        }
    }
    Ok(())
}

/// The larger of `count` and `uniqueCount` on the `<sst>` element at the start of the part.
fn declared_count(head: &[u8]) -> u64 {
    let text = String::from_utf8_lossy(head);
    let Some(start) = text.find("<sst").or_else(|| text.find(":sst")) else { return 0 };
    let tag = &text[start..];
    let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
    ["uniqueCount=", " count="]
        .iter()
        .filter_map(|attr| {
            let v = &tag[tag.find(attr)? + attr.len()..];
            let v = v.trim_start_matches(['"', '\'']);
            let digits: String = v.chars().take_while(char::is_ascii_digit).collect();
            // A count too long for u64 is as good as infinite.
            Some(digits.parse::<u64>().unwrap_or(if digits.is_empty() { 0 } else { u64::MAX }))
        })
        .max()
        .unwrap_or(0)
}

impl Connector for XlsxConnector {
    fn fetch(&mut self) -> Result<Listing, SourceError> {
        super::rows::collected(|each| self.fetch_each(each))
    }

    /// Each row's user is handed on as it is read: the sheet is never held as users.
    fn fetch_each(&mut self, each: &mut dyn FnMut(SourceUser)) -> Result<Listing, SourceError> {
        let name = self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let limits = self.settings.limits.clone();
        check_parts(&self.path, &name, &limits)?;
        let mut book: Xlsx<_> = open_workbook(&self.path)
            .map_err(|e| SourceError::Unreadable(format!("{}: cannot open as XLSX: {e}", self.path.display())))?;
        let sheets = book.sheet_names();
        let sheet = match &self.settings.sheet {
            Some(s) if sheets.contains(s) => s.clone(),
            Some(s) => {
                return Err(SourceError::Unreadable(format!(
                    "{name}: no sheet named '{s}' (sheets: {})",
                    sheets.join(", ")
                )))
            }
            None => sheets
                .first()
                .cloned()
                .ok_or_else(|| SourceError::Unreadable(format!("{name}: the workbook has no sheets")))?,
        };
        let unreadable =
            |e: &dyn std::fmt::Display| SourceError::Unreadable(format!("{name}: cannot read sheet '{sheet}': {e}"));
        let mut cells = book.worksheet_cells_reader(&sheet).map_err(|e| unreadable(&e))?;
        let max_columns = limits.max_columns;
        let mut rows = Gather {
            file: format!("{name} sheet '{sheet}'"),
            settings: &self.settings,
            each: Some(each),
            sink: None,
            width: 0,
        };
        // Rows arrive in order; a row's cells are gathered, then handed on.
        let mut current: Option<(u32, Vec<Cell>)> = None;
        loop {
            let next = cells.next_cell().map_err(|e| unreadable(&e))?;
            // Styled but empty cells are no content: they start no row.
            let next = match next {
                Some(c) if matches!(c.get_value(), DataRef::Empty) => continue,
                other => other,
            };
            let (row, col) = next.as_ref().map(|c| c.get_position()).unwrap_or((u32::MAX, 0));
            if current.as_ref().is_some_and(|(r, _)| *r != row) {
                let (r, values) = current.take().expect("checked");
                rows.row(r, values)?;
            }
            let Some(cell) = next else { break };
            if col >= max_columns {
                return Err(SourceError::Unreadable(format!(
                    "{name} sheet '{sheet}' row {}: a cell in column {}, beyond {max_columns} columns (source.limits.max_columns)",
                    row + 1,
                    col + 1
                )));
            }
            let (_, values) = current.get_or_insert_with(|| (row, Vec::new()));
            // Cells may skip columns; the gap is empty. `col` is below the limit, so this is bounded.
            values.resize(col as usize, Ok(String::new()));
            values.push(text(cell.get_value()));
        }
        match rows.sink {
            Some(sink) => Ok(sink.finish()),
            None => {
                Err(SourceError::Unreadable(format!("{name}: sheet '{sheet}' is empty; row 1 must name the columns")))
            }
        }
    }
}

/// Turns gathered rows into users: the first row names the columns.
struct Gather<'s, 'e> {
    file: String,
    settings: &'s FileSource,
    /// Where users go, until the header row makes the sink that takes it over.
    each: Option<&'e mut dyn FnMut(SourceUser)>,
    sink: Option<RowSink<'s, 'e>>,
    width: usize,
}

impl Gather<'_, '_> {
    fn row(&mut self, row: u32, mut values: Vec<Cell>) -> Result<(), SourceError> {
        match &mut self.sink {
            None => {
                let names: Vec<String> = values.into_iter().map(|c| c.unwrap_or_default()).collect();
                self.width = names.len();
                let columns = Columns::new(&self.file, names, self.settings)?;
                let Some(each) = self.each.take() else { return Ok(()) };
                self.sink =
                    Some(RowSink::new(self.settings, columns, Place { file: self.file.clone(), unit: "row" }, each));
            }
            Some(sink) => {
                if values.len() < self.width {
                    values.resize(self.width, Ok(String::new()));
                }
                sink.push(u64::from(row) + 1, values)?;
            }
        }
        Ok(())
    }
}

fn text(data: &DataRef) -> Cell {
    Ok(match data {
        DataRef::Empty => String::new(),
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => s.to_string(),
        // Ids and phone numbers typed as numbers must not grow a ".0".
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        DataRef::Float(f) => f.to_string(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(d) => d.to_string(),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(e) => return Err(format!("the cell holds an Excel error ({e:?})")),
    })
}

#[cfg(test)]
mod tests {
    use super::declared_count;

    #[test]
    fn shared_string_counts_are_read_from_the_sst_element() {
        let head = br#"<?xml version="1.0"?><sst xmlns="x" count="12" uniqueCount="7"><si>"#;
        assert_eq!(declared_count(head), 12);
        assert_eq!(declared_count(br#"<x:sst uniqueCount="99999999999999999999999">"#), u64::MAX);
        assert_eq!(declared_count(b"<sst>"), 0);
    }
}
