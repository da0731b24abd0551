//! CSV source: configurable delimiter and quote, UTF-8 with or without a byte-order mark.
//! Reads within `source.limits`: the file's size is checked before it is opened, and no row is
//! buffered beyond `max_row_kb` (a 1 GB field fails at 256 KiB, not after allocating 1 GB).

use std::cell::Cell as Shared;
use std::io::Read;
use std::path::PathBuf;
use std::rc::Rc;

use super::rows::{Cell, Columns, Place, RowSink};
use super::{Connector, Listing, SourceError};
use crate::config::FileSource;
use crate::model::SourceUser;

pub(super) struct CsvConnector {
    settings: FileSource,
    path: PathBuf,
}

impl CsvConnector {
    pub fn new(settings: FileSource, path: PathBuf) -> Self {
        CsvConnector { settings, path }
    }
}

/// The file as the CSV reader sees it: refuses to hand over more than `max_row` bytes past the
/// start of the row being read, so the reader's row buffer cannot grow past that either.
struct BoundedRows<R> {
    inner: R,
    read: u64,
    row_start: Rc<Shared<u64>>,
    max_row: u64,
}

/// Marks the I/O error `BoundedRows` raises, to tell it from a real read error.
#[derive(Debug)]
struct RowTooLong;

impl std::fmt::Display for RowTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("row too long")
    }
}

impl std::error::Error for RowTooLong {}

impl<R: Read> Read for BoundedRows<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.read.saturating_sub(self.row_start.get()) > self.max_row {
            return Err(std::io::Error::other(RowTooLong));
        }
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

impl Connector for CsvConnector {
    fn fetch(&mut self) -> Result<Listing, SourceError> {
        super::rows::collected(|each| self.fetch_each(each))
    }

    /// Each row's user is handed on as it is read: the file is never held as users.
    fn fetch_each(&mut self, each: &mut dyn FnMut(SourceUser)) -> Result<Listing, SourceError> {
        let name = self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let limits = &self.settings.limits;
        let unreadable =
            |e: &dyn std::fmt::Display| SourceError::Unreadable(format!("{}: cannot read: {e}", self.path.display()));
        let file = std::fs::File::open(&self.path).map_err(|e| unreadable(&e))?;
        let size = file.metadata().map_err(|e| unreadable(&e))?.len();
        if size > limits.file_bytes() {
            return Err(SourceError::Unreadable(format!(
                "{}: the file is {} MiB, more than {} MiB (source.limits.max_file_mb)",
                self.path.display(),
                size >> 20,
                limits.max_file_mb
            )));
        }
        let row_start = Rc::new(Shared::new(0));
        let bounded = BoundedRows { inner: file, read: 0, row_start: row_start.clone(), max_row: limits.row_bytes() };
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(self.settings.delimiter.unwrap_or(',') as u8)
            .quote(self.settings.quote.unwrap_or('"') as u8)
            .has_headers(true)
            .flexible(true)
            .from_reader(bounded);
        let too_long = |line: u64| {
            SourceError::Unreadable(format!(
                "{name} line {line}: a row longer than {} KiB (source.limits.max_row_kb); nothing after it can be read",
                limits.max_row_kb
            ))
        };
        let failed = |e: csv::Error, line: u64| {
            let is_ours =
                matches!(e.kind(), csv::ErrorKind::Io(io) if io.get_ref().is_some_and(|i| i.is::<RowTooLong>()));
            if is_ours {
                too_long(line)
            } else {
                unreadable(&e)
            }
        };
        let header = reader.byte_headers().map_err(|e| failed(e, 1))?.clone();
        row_start.set(reader.position().byte());
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
        let width = columns.len();
        let mut sink = RowSink::new(&self.settings, columns, Place { file: name.clone(), unit: "line" }, each);
        let mut record = csv::ByteRecord::new();
        loop {
            let line = reader.position().line();
            match reader.read_byte_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {
                    row_start.set(reader.position().byte());
                    let line = record.position().map(|p| p.line()).unwrap_or(line);
                    if record.len() > width.max(1) * 2 + 16 {
                        // Cells beyond the header are an error for the row anyway; a row of
                        // millions of empty fields is not turned into millions of strings.
                        let cells = vec![Err(format!("has {} fields, the header has {width}", record.len()))];
                        sink.push(line, cells)?;
                        continue;
                    }
                    let cells: Vec<Cell> = record
                        .iter()
                        .map(|f| String::from_utf8(f.to_vec()).map_err(|_| "not valid UTF-8".to_string()))
                        .collect();
                    sink.push(line, cells)?;
                }
                // A malformed record (e.g. an unterminated quote) leaves the reader unable to know
                // where users start and end: nothing after it can be trusted.
                Err(e) => return Err(failed(e, line)),
            }
        }
        Ok(sink.finish())
    }
}
