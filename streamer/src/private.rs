//! State files hold users' activity: the state directory is its owner's only (0700) and every
//! file the streamer keeps there too (0600), whatever the umask, under systemd or not.

use std::fs::{File, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Creates `dir` (and its parents) if needed and makes it owner-only. A directory this user
/// may use but not change (a mount point owned by someone else) is used with a warning.
pub fn create_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    if let Err(err) = std::fs::set_permissions(dir, Permissions::from_mode(0o700)) {
        tracing::warn!(dir = %dir.display(), %err, "cannot make the state directory owner-only (0700); its files still are");
    }
    Ok(())
}

/// Opens `path` for writing (appending, or truncating), creating it owner-only; a file that
/// existed with wider permissions is narrowed.
pub fn open_file(path: &Path, append: bool) -> io::Result<File> {
    let file = OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .mode(0o600)
        .open(path)?;
    file.set_permissions(Permissions::from_mode(0o600))?;
    Ok(file)
}

/// Makes sure `path` exists and is owner-only, keeping what it holds (before a library opens it).
pub fn touch_file(path: &Path) -> io::Result<()> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(path)?;
    file.set_permissions(Permissions::from_mode(0o600))
}
