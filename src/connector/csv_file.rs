//! CSV source: configurable delimiter and quote, UTF-8 with or without a byte-order mark.

use std::path::PathBuf;

use super::rows::{Cell, Columns, RowSink};
use super::{Connector, Listing, SourceError};
use crate::config::FileSource;

pub(super) struct CsvConnector {
    settings: FileSource,
    path: PathBuf,
}

impl CsvConnector {
    pub fn new(settings: FileSource, path: PathBuf) -> Self {
        CsvConnector { settings, path }
    }
}

impl Connector for CsvConnector {
    fn fetch(&mut self) -> Result<Listing, SourceError> {
        let name = self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let unreadable =
            |e: &dyn std::fmt::Display| SourceError::Unreadable(format!("{}: cannot read: {e}", self.path.display()));
        let file = std::fs::File::open(&self.path).map_err(|e| unreadable(&e))?;
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(self.settings.delimiter.unwrap_or(',') as u8)
            .quote(self.settings.quote.unwrap_or('"') as u8)
            .has_headers(true)
            .flexible(true)
            .from_reader(std::io::BufReader::new(file));
        let header = reader.byte_headers().map_err(|e| unreadable(&e))?.clone();
        let header = header
            .iter()
            .enumerate()
            .map(|(i, h)| {
                String::from_utf8(h.to_vec())
                    .map_err(|_| SourceError::Unreadable(format!("{name}: header column {} is not valid UTF-8", i + 1)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if header.iter().all(|h| h.trim().is_empty()) {
            return Err(SourceError::Unreadable(format!(
                "{name}: the file is empty; the first line must name the columns"
            )));
        }
        let columns = Columns::new(&name, header, &self.settings)?;
        let mut sink = RowSink::new(&self.settings, columns);
        let mut record = csv::ByteRecord::new();
        loop {
            match reader.read_byte_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {
                    let line = record.position().map(|p| p.line()).unwrap_or(0);
                    let cells: Vec<Cell> = record
                        .iter()
                        .map(|f| String::from_utf8(f.to_vec()).map_err(|_| "not valid UTF-8".to_string()))
                        .collect();
                    sink.push(format!("{name} line {line}"), cells);
                }
                // A malformed record (e.g. an unterminated quote) leaves the reader unable to know
                // where users start and end: nothing after it can be trusted.
                Err(e) => return Err(unreadable(&e)),
            }
        }
        Ok(sink.finish())
    }
}
