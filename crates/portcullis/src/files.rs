//! The data directory and the SQLite files are private to the server's user.
//!
//! They hold the master key, root credentials, pending codes in the outbox, and the database
//! with sealed secrets and password hashes. Their modes are set here rather than left to the
//! process's umask (0644 files and 0755 directories under the usual 022).

use std::fs::{self, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Creates the data directory 0700, or narrows an existing one to 0700.
pub fn private_dir(dir: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create data dir {}", dir.display()))?;
    narrow(dir, 0o700);
    Ok(())
}

/// The file a `sqlite:` URL names, unless it is an in-memory database.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" || query.split('&').any(|p| p == "mode=memory") {
        return None;
    }
    Some(PathBuf::from(path))
}

/// Makes the SQLite database 0600 before SQLite opens it: SQLite gives its `-wal` and `-shm`
/// files the database file's mode, so they are private too. Files an older version left
/// readable are narrowed.
pub fn private_sqlite(url: &str) -> Result<()> {
    let Some(db) = sqlite_file(url) else {
        return Ok(());
    };
    if let Some(parent) = db.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&db)
        .with_context(|| format!("cannot create {}", db.display()))?;
    for suffix in ["", "-wal", "-shm"] {
        let mut name = db.clone().into_os_string();
        name.push(suffix);
        let path = PathBuf::from(name);
        if path.exists() {
            narrow(&path, 0o600);
        }
    }
    Ok(())
}

/// Narrows an existing path's mode. Best effort: a directory the operator made and owns
/// under another user (a mounted volume) cannot be changed by us, and must not stop the
/// server; it is logged instead.
fn narrow(path: &Path, mode: u32) {
    let Ok(meta) = fs::metadata(path) else {
        return;
    };
    if meta.permissions().mode() & 0o777 == mode {
        return;
    }
    if let Err(e) = fs::set_permissions(path, fs::Permissions::from_mode(mode)) {
        tracing::warn!(
            path = %path.display(),
            error = %e,
            "cannot make this path private (mode {mode:o}); other local users may read it"
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(
            sqlite_file("sqlite://d/p.db"),
            Some(PathBuf::from("d/p.db"))
        );
        assert_eq!(
            sqlite_file("sqlite:/abs/p.db?mode=rwc"),
            Some(PathBuf::from("/abs/p.db"))
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("sqlite://x.db?mode=memory&cache=shared"), None);
        assert_eq!(sqlite_file("postgres://localhost/db"), None);
    }

    #[test]
    fn the_directory_and_database_files_are_private() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        // An existing, wider directory is narrowed.
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);

        let db = dir.join("p.db");
        let wal = dir.join("p.db-wal");
        fs::write(&wal, b"").unwrap();
        fs::set_permissions(&wal, fs::Permissions::from_mode(0o644)).unwrap();
        private_sqlite(&format!("sqlite://{}", db.display())).unwrap();
        assert_eq!(mode(&db), 0o600);
        assert_eq!(mode(&wal), 0o600);
    }
}
