//! The data directory's permissions (docs/security.md X3): the directory (and the outbox in it) is
//! 0700 and every file Latch writes there (the SQLite database and its `-wal`/`-shm`,
//! `credentials.json`, the outbox's messages) is 0600, also when an older version or another
//! umask left them wider. Files are created with their mode rather than tightened afterwards,
//! so there is no moment at which they are readable by others.

use std::fs::OpenOptions;
use std::io;
use std::path::Path;

pub const DIR_MODE: u32 = 0o700;
pub const FILE_MODE: u32 = 0o600;

/// Create `dir` (and missing parents) 0700, or make an existing one 0700.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, DIR_MODE);
    builder.create(dir)?;
    restrict(dir, DIR_MODE)
}

/// Options that create a new file 0600 (and fail if it exists).
pub fn create_new_private() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, FILE_MODE);
    options
}

/// Make an existing file 0600; nothing if it does not exist.
pub fn private_file(path: &Path) -> io::Result<()> {
    match restrict(path, FILE_MODE) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// The SQLite database at `path`, made private before SQLite opens it: created empty 0600 if
/// missing (SQLite gives its `-wal` and `-shm` the database file's permissions), and the
/// database and any journal files an earlier run left tightened to 0600.
pub fn private_database(path: &Path) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, FILE_MODE);
    options.open(path)?;
    private_file(path)?;
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        private_file(Path::new(&name))?;
    }
    Ok(())
}

/// Tighten an existing data directory at start-up: the directory and every directory under it
/// 0700, every regular file 0600. Symbolic links are neither followed nor changed. Nothing if
/// `dir` does not exist (a Lambda on DynamoDB, SES and Secrets Manager writes no file).
pub fn tighten_data_dir(dir: &Path) -> io::Result<()> {
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    // The data directory itself may be a link the operator made; what is inside is Latch's.
    if meta.is_dir() || std::fs::metadata(dir)?.is_dir() {
        restrict(dir, DIR_MODE)?;
    }
    tighten_below(dir, 0)
}

/// Deep enough for `outbox/`; a deeper tree is not Latch's.
const MAX_DEPTH: usize = 4;

fn tighten_below(dir: &Path, depth: usize) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let path = entry.path();
        let result = if kind.is_dir() {
            restrict(&path, DIR_MODE).and_then(|_| {
                if depth < MAX_DEPTH {
                    tighten_below(&path, depth + 1)
                } else {
                    Ok(())
                }
            })
        } else if kind.is_file() {
            restrict(&path, FILE_MODE)
        } else {
            Ok(())
        };
        match result {
            // Removed meanwhile (an outbox message's temporary file, another process's).
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            other => other.map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?,
        }
    }
    Ok(())
}

/// Set the permission bits to `mode` unless they already are (so a file that is already
/// right needs no ownership to pass).
#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let current = std::fs::metadata(path)?.permissions().mode() & 0o7777;
    if current != mode {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn restrict(path: &Path, _mode: u32) -> io::Result<()> {
    std::fs::metadata(path).map(|_| ())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn an_open_data_dir_is_tightened_and_new_files_are_private() {
        let dir = std::env::temp_dir().join(format!("latch-files-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("outbox")).unwrap();
        for p in [&dir, &dir.join("outbox")] {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let (db, eml) = (dir.join("latch.sqlite3"), dir.join("outbox/a.eml"));
        for p in [&db, &eml] {
            std::fs::write(p, "x").unwrap();
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        tighten_data_dir(&dir).unwrap();
        assert_eq!((mode(&dir), mode(&dir.join("outbox"))), (0o700, 0o700));
        assert_eq!((mode(&db), mode(&eml)), (0o600, 0o600));
        let new = dir.join("new");
        create_new_private().open(&new).unwrap();
        assert_eq!(mode(&new), 0o600);
        private_database(&dir.join("fresh.sqlite3")).unwrap();
        assert_eq!(mode(&dir.join("fresh.sqlite3")), 0o600);
        tighten_data_dir(&dir.join("missing")).unwrap();
        std::fs::remove_dir_all(dir).unwrap();
    }
}
