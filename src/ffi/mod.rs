//! The C ABI (`include/usersync.h`). Conventions are written in docs/FFI.md; in short: every
//! export is `usersync_<object>_<verb>`, runs inside one panic-catching boundary, NULL-checks
//! every pointer, writes out-params only on success and an error message (via the last
//! out-param) only on failure, and returns a `UsersyncStatus`.

mod boundary;
mod directory;
mod engine;
mod log;

pub use boundary::{usersync_string_free, UsersyncStatus};
pub use directory::{usersync_out_set, UsersyncDirResult, UsersyncDirectory, UsersyncOut};
pub use engine::*;
pub use log::{usersync_log_sink_clear, usersync_log_sink_set, UsersyncLogLevel, UsersyncLogSink};

/// Bumped on every breaking change of the C ABI (and so of the JNI natives, which share it).
/// 2: `UsersyncDirectory` grew `find_by_external_id`, `users_by_keys`, `begin_batch`,
/// `end_batch` and `set_avatar` (a host built against version 1 passes a shorter struct).
pub const USERSYNC_ABI_VERSION: u32 = 2;
