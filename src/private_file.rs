//! Files the engine writes are readable by their owner only (DESIGN §6.7): the state store and
//! the local directory hold users' personal data and, after `config import`, secrets; an export
//! may hold secrets. Created 0600 (directories 0700) from the start, not chmod-ed afterwards, so
//! there is no moment at which another local user could open them.

use std::fs::{DirBuilder, OpenOptions};
use std::io::Write;
use std::path::Path;

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};

/// Creates `dir` and its missing parents, owner-only.
pub fn create_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    b.mode(0o700);
    b.create(dir)
}

/// Creates `path` empty and owner-only if it does not exist; an existing file is made
/// owner-only (a store written by an older build was 0644).
pub fn ensure(path: &Path) -> std::io::Result<()> {
    let mut o = OpenOptions::new();
    o.write(true).create(true).truncate(false);
    #[cfg(unix)]
    o.mode(0o600);
    let file = o.open(path)?;
    #[cfg(unix)]
    {
        let mode = file.metadata()?.permissions().mode();
        if mode & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(mode & 0o700))?;
        }
    }
    Ok(())
}

/// Writes `bytes` to `path`, owner-only.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut o = OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    o.mode(0o600);
    let mut file = o.open(path)?;
    #[cfg(unix)]
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.write_all(bytes)?;
    file.sync_all()
}
