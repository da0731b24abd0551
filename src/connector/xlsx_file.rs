//! Excel source: the first sheet or a named one; row 1 names the columns.

use std::path::PathBuf;

use calamine::{open_workbook, Data, Reader, Xlsx};

use super::rows::{Cell, Columns, RowSink};
use super::{Connector, Listing, SourceError};
use crate::config::FileSource;

pub(super) struct XlsxConnector {
    settings: FileSource,
    path: PathBuf,
}

impl XlsxConnector {
    pub fn new(settings: FileSource, path: PathBuf) -> Self {
        XlsxConnector { settings, path }
    }
}

impl Connector for XlsxConnector {
    fn fetch(&mut self) -> Result<Listing, SourceError> {
        let name = self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
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
        let range = book
            .worksheet_range(&sheet)
            .map_err(|e| SourceError::Unreadable(format!("{name}: cannot read sheet '{sheet}': {e}")))?;
        // Row numbers as Excel shows them: the range may start below row 1.
        let first_row = range.start().map(|(r, _)| r as usize + 1).unwrap_or(1);
        let mut rows = range.rows();
        let header = rows.next().ok_or_else(|| {
            SourceError::Unreadable(format!("{name}: sheet '{sheet}' is empty; row 1 must name the columns"))
        })?;
        let header: Vec<String> = header.iter().map(|c| cell(c).unwrap_or_default()).collect();
        let columns = Columns::new(&format!("{name} sheet '{sheet}'"), header, &self.settings)?;
        let width = range.width();
        let mut sink = RowSink::new(&self.settings, columns);
        for (i, row) in rows.enumerate() {
            let mut cells: Vec<Cell> = row.iter().map(cell).collect();
            cells.resize(width, Ok(String::new()));
            sink.push(format!("{name} sheet '{sheet}' row {}", first_row + 1 + i), cells);
        }
        Ok(sink.finish())
    }
}

fn cell(data: &Data) -> Cell {
    Ok(match data {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        // Ids and phone numbers typed as numbers must not grow a ".0".
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => d.to_string(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => return Err(format!("the cell holds an Excel error ({e:?})")),
    })
}
