//! What CSV and Excel sources share: a header row of attribute names and one row per user.

use std::collections::HashMap;

use super::id_table::IdTable;
use super::{Listing, RowError, SourceError};
use crate::config::FileSource;
use compact_str::CompactString;

use crate::model::{AttrValue, Attributes, SourceUser};

/// Column positions resolved once from the header.
pub(super) struct Columns {
    names: Vec<String>,
    /// The names as attributes share them, interned once for every row.
    shared: Vec<std::sync::Arc<str>>,
    id: usize,
    active: Option<usize>,
    groups: Option<usize>,
    manager: Option<usize>,
    lists: Vec<bool>,
}

impl Columns {
    /// Checks the header against the settings. `file` names the source in messages.
    pub fn new(file: &str, header: Vec<String>, settings: &FileSource) -> Result<Columns, SourceError> {
        let max_columns = settings.limits.max_columns as usize;
        if header.len() > max_columns {
            return Err(SourceError::Unreadable(format!(
                "{file}: the header has {} columns, more than {max_columns} (source.limits.max_columns)",
                header.len()
            )));
        }
        let mut names: Vec<String> = header.into_iter().map(|h| h.trim().to_string()).collect();
        if let Some(first) = names.first_mut() {
            *first = first.trim_start_matches('\u{feff}').to_string();
        }
        let mut seen = HashMap::new();
        for (i, n) in names.iter().enumerate() {
            if n.is_empty() {
                continue;
            }
            if let Some(first) = seen.insert(n.clone(), i) {
                return Err(SourceError::Unreadable(format!(
                    "{file}: header has column '{n}' twice (columns {} and {})",
                    first + 1,
                    i + 1
                )));
            }
        }
        let find = |what: &str, col: &str| -> Result<usize, SourceError> {
            names.iter().position(|n| n == col).ok_or_else(|| {
                SourceError::Unreadable(format!(
                    "{file}: the {what} column '{col}' is not in the header{}",
                    header_for_message(&names)
                ))
            })
        };
        let id = find("id", &settings.id_column)?;
        let opt = |what: &str, col: &Option<String>| col.as_ref().map(|c| find(what, c)).transpose();
        let active = opt("active", &settings.active_column)?;
        let groups = opt("groups", &settings.groups_column)?;
        let manager = opt("manager", &settings.manager_column)?;
        let mut lists = vec![false; names.len()];
        for col in &settings.list_columns {
            lists[find("list", col)?] = true;
        }
        let shared = names.iter().map(|n| Attributes::interned(n)).collect();
        Ok(Columns { names, shared, id, active, groups, manager, lists })
    }

    pub fn name(&self, i: usize) -> &str {
        self.names.get(i).map(String::as_str).unwrap_or("?")
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }
}

/// The header's names for an error message, but only when they look like column names: a file
/// that is not a user list at all (a configuration pointed at `/etc/shadow`) must not have its
/// first line quoted into an error, a log and the run history.
fn header_for_message(names: &[String]) -> String {
    let looks_like_names = names.len() <= 50
        && names.iter().all(|n| {
            n.chars().count() <= 64
                && n.chars().all(|c| c.is_alphanumeric() || matches!(c, ' ' | '_' | '-' | '.' | '/' | '(' | ')' | '#'))
        });
    if looks_like_names {
        format!(" (columns: {})", names.join(", "))
    } else {
        format!(" ({} columns that do not look like column names; is this the right file?)", names.len())
    }
}

/// Builds users row by row and hands each on as soon as it is read; owns the bookkeeping for
/// duplicates and completeness.
pub(super) struct RowSink<'a, 'e> {
    settings: &'a FileSource,
    columns: Columns,
    listing: Listing,
    each: &'e mut dyn FnMut(SourceUser),
    /// Ids read so far: the line each was first read at, with `RETRACTED` set once a later row
    /// has taken that first user back.
    first_seen: IdTable,
    /// Names the file in each row's place: "people.csv line 7", "Sheet1 row 7".
    place: Place,
    rows: u32,
}

/// The top bit of a first row's line: a later duplicate has taken that row's user back. No file
/// has 2^63 lines.
const RETRACTED: u64 = 1 << 63;

/// How a file names the place of a row: its name, then "line" (CSV) or "row" (a sheet).
pub(super) struct Place {
    pub file: String,
    pub unit: &'static str,
}

impl Place {
    fn at(&self, n: u64) -> String {
        use std::fmt::Write;
        // Sized up front: every row's user carries one, and `format!` grew it once more.
        let mut place = String::with_capacity(self.file.len() + self.unit.len() + 22);
        let _ = write!(place, "{} {} {n}", self.file, self.unit);
        place
    }
}

/// `fetch` for a connector that streams its users (`fetch_each`): every user, less the ones a
/// later row retracted.
pub(super) fn collected(
    read: impl FnOnce(&mut dyn FnMut(SourceUser)) -> Result<Listing, SourceError>,
) -> Result<Listing, SourceError> {
    let mut users = Vec::new();
    let mut listing = read(&mut |u| users.push(u))?;
    if !listing.retracted.is_empty() {
        let gone: std::collections::HashSet<String> = std::mem::take(&mut listing.retracted).into_iter().collect();
        users.retain(|u| !gone.contains(&u.id));
    }
    listing.users = users;
    Ok(listing)
}

/// One cell as read: text, or why it could not be read.
pub(super) type Cell = Result<String, String>;

impl<'a, 'e> RowSink<'a, 'e> {
    pub fn new(settings: &'a FileSource, columns: Columns, place: Place, each: &'e mut dyn FnMut(SourceUser)) -> Self {
        RowSink {
            settings,
            columns,
            listing: Listing { complete: true, ..Listing::default() },
            each,
            first_seen: IdTable::new(),
            place,
            rows: 0,
        }
    }

    /// Takes the row at `line` (a sheet's row number). `Err` (too many rows) ends the file: what
    /// was read is not all of it.
    pub fn push(&mut self, line: u64, cells: Vec<Cell>) -> Result<(), SourceError> {
        if cells.iter().all(|c| matches!(c, Ok(s) if s.trim().is_empty())) {
            return Ok(()); // blank lines at the end of exported sheets are common; they are not users
        }
        self.rows += 1;
        let limits = &self.settings.limits;
        if self.rows > limits.max_rows {
            return Err(SourceError::Unreadable(format!(
                "{}: more than {} rows (source.limits.max_rows)",
                self.place.at(line),
                limits.max_rows
            )));
        }
        let max_field = limits.field_bytes();
        let cells = cells.into_iter().map(|c| c.and_then(|text| checked_cell(text, max_field)));
        self.push_checked(line, cells.collect())
    }

    fn push_checked(&mut self, line: u64, cells: Vec<Cell>) -> Result<(), SourceError> {
        let location = self.place.at(line);
        let cols = &self.columns;
        let id = match cells.get(cols.id) {
            Some(Ok(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
            _ => None,
        };
        let Some(id) = id else {
            self.listing.complete = false;
            self.fail(
                None,
                format!("{location}, column {}", cols.name(cols.id)),
                "the id is empty or unreadable; nobody can be proven absent in this run".into(),
            );
            return Ok(());
        };
        if cells.len() != cols.names.len() {
            // A broken quote can swallow the rows after it: the file's structure can no longer
            // prove that anyone is absent.
            self.listing.complete = false;
            self.fail(Some(id), location, format!("has {} fields, the header has {}", cells.len(), cols.names.len()));
            return Ok(());
        }
        // Straight into the record's attribute vector: no map per row to build and convert.
        let mut attributes = Attributes::with_capacity(cells.len());
        let mut cell_error = None;
        for (i, cell) in cells.into_iter().enumerate() {
            let name = cols.name(i);
            match cell {
                Ok(text) => {
                    let value = if cols.lists[i] {
                        AttrValue::List(split(&text, &self.settings.list_separator).map(AttrValue::from).collect())
                    } else {
                        AttrValue::Text(trimmed(text))
                    };
                    if !name.is_empty() {
                        // The header has no name twice (checked in `Columns::new`).
                        attributes.push_new(&cols.shared[i], value);
                    }
                }
                Err(why) => {
                    cell_error.get_or_insert((name.to_string(), why));
                }
            }
        }
        if let Some((col, why)) = cell_error {
            self.fail(Some(id), format!("{location}, column {col}"), why);
            return Ok(());
        }
        if let Some(first) = self.first_seen.get_mut(&id) {
            let first_handed_on = *first & RETRACTED == 0;
            *first |= RETRACTED;
            let first = self.place.at(*first & !RETRACTED);
            self.fail(Some(id.clone()), location, format!("duplicate id '{id}' (also at {first})"));
            // Neither row can be trusted to be the real one: the first, handed on already, is
            // taken back.
            if first_handed_on {
                self.fail(Some(id.clone()), first, "duplicate id; see the other row".into());
                self.listing.retracted.push(id);
            }
            return Ok(());
        }
        let active = match cols.active.map(|i| cell_str(&attributes, cols.name(i))) {
            Some(v) if v.is_ascii() => !self.settings.inactive_values.iter().any(|x| x.eq_ignore_ascii_case(v)),
            Some(v) => !self.settings.inactive_values.contains(&v.to_lowercase()),
            None => true,
        };
        let groups = match cols.groups.and_then(|i| attributes.get(cols.name(i))) {
            Some(AttrValue::List(items)) => items.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
            _ => Vec::new(),
        };
        let manager = cols.manager.map(|i| cell_text(&attributes, cols.name(i))).filter(|s| !s.is_empty());
        self.first_seen.insert(&id, line).map_err(|_| {
            SourceError::Unreadable(format!("{location}: the ids read so far are more than 4 GiB of text"))
        })?;
        (self.each)(SourceUser { id, attributes, active, groups, manager, photo_etag: None, version: None, location });
        Ok(())
    }

    fn fail(&mut self, idp_id: Option<String>, location: String, message: String) {
        self.listing.row_errors.push(RowError { idp_id, location, message });
    }

    pub fn finish(self) -> Listing {
        self.listing
    }
}

fn cell_text(attributes: &Attributes, name: &str) -> String {
    cell_str(attributes, name).to_string()
}

fn cell_str<'a>(attributes: &'a Attributes, name: &str) -> &'a str {
    attributes.get(name).and_then(AttrValue::as_str).unwrap_or_default().trim()
}

/// The text without surrounding white space, in the same allocation when there is none (most cells).
/// A cell's text without its surrounding spaces: the reader's own string when nothing is cut
/// (no copy), else the cut text, inline when short.
fn trimmed(text: String) -> CompactString {
    if text.trim().len() == text.len() {
        CompactString::from_string_buffer(text)
    } else {
        CompactString::from(text.trim())
    }
}

fn split<'t>(text: &'t str, sep: &'t str) -> impl Iterator<Item = &'t str> {
    text.split(sep).map(str::trim).filter(|s| !s.is_empty())
}

/// A cell's text, unless it is longer than the limit or holds a NUL (which no directory stores
/// and C hosts cannot pass on).
fn checked_cell(text: String, max_bytes: usize) -> Cell {
    if text.len() > max_bytes {
        return Err(format!(
            "the cell holds {} bytes, more than {} KiB (source.limits.max_field_kb)",
            text.len(),
            max_bytes >> 10
        ));
    }
    if text.contains('\0') {
        return Err("the cell contains a NUL character".into());
    }
    Ok(text)
}
