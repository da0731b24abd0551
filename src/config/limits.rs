//! Limits on what a file source reads (DESIGN §6.8). Each is checked before the memory it
//! guards is allocated, and an error names the limit's key so an administrator with a genuinely
//! bigger file knows what to raise. docs/RELIABILITY.md lists them with their defaults.

use serde::Serialize;
use serde_json::Value;

use super::reader::{Ctx, Obj};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileLimits {
    /// The file on disk, and for XLSX each part of the workbook once unpacked.
    pub max_file_mb: u32,
    /// One CSV row as read, before it is split into cells.
    pub max_row_kb: u32,
    /// One cell: a longer value fails its row's user, not the file.
    pub max_field_kb: u32,
    /// Users' rows (the header not counted).
    pub max_rows: u32,
    /// Columns of the header, and the column of any cell.
    pub max_columns: u32,
    /// Entries an XLSX shared-strings table may declare.
    pub max_shared_strings: u32,
}

impl Default for FileLimits {
    fn default() -> Self {
        FileLimits {
            max_file_mb: 100,
            max_row_kb: 256,
            max_field_kb: 64,
            max_rows: 500_000,
            max_columns: 1_000,
            max_shared_strings: 2_000_000,
        }
    }
}

impl FileLimits {
    pub fn file_bytes(&self) -> u64 {
        u64::from(self.max_file_mb) << 20
    }

    pub fn row_bytes(&self) -> u64 {
        u64::from(self.max_row_kb) << 10
    }

    pub fn field_bytes(&self) -> usize {
        (self.max_field_kb as usize) << 10
    }
}

/// `source.limits`: every key optional, each at least 1.
pub(super) fn read_file_limits(ctx: &mut Ctx, path: &str, v: &Value) -> Option<FileLimits> {
    let mut o = Obj::new(ctx, path, v)?;
    let d = FileLimits::default();
    let max_file_mb = ctx.opt_whole(&mut o, "max_file_mb", d.max_file_mb, 1, 16_384);
    let max_row_kb = ctx.opt_whole(&mut o, "max_row_kb", d.max_row_kb, 1, 1 << 20);
    let max_field_kb = ctx.opt_whole(&mut o, "max_field_kb", d.max_field_kb, 1, 1 << 20);
    let max_rows = ctx.opt_whole(&mut o, "max_rows", d.max_rows, 1, 100_000_000);
    let max_columns = ctx.opt_whole(&mut o, "max_columns", d.max_columns, 1, 16_384);
    let max_shared_strings = ctx.opt_whole(&mut o, "max_shared_strings", d.max_shared_strings, 1, 100_000_000);
    o.finish(ctx);
    Some(FileLimits {
        max_file_mb: max_file_mb?,
        max_row_kb: max_row_kb?,
        max_field_kb: max_field_kb?,
        max_rows: max_rows?,
        max_columns: max_columns?,
        max_shared_strings: max_shared_strings?,
    })
}
