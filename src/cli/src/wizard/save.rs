//! Saving the config without ever overwriting one silently.
//!
//! - [`check_writable`] runs before the first question, so nobody answers twenty questions to
//!   learn that the output directory is read-only (the real wizard checks first too).
//! - [`save`] writes the new file next to the target (`.NAME.wizard-PID.tmp`, mode 0644),
//!   syncs it, keeps the existing file as `NAME.bak.1` (older backups move up to `NAME.bak.2` ...
//!   `NAME.bak.10`; the oldest beyond ten is deleted), then renames the new file into place.
//!   The backup is a hard link to the old file (a copy where links are not supported), so at
//!   every moment the target path holds either the old or the new config, never nothing.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Backups kept: `NAME.bak.1` (the newest) to `NAME.bak.10`.
pub const MAX_BACKUPS: u32 = 10;

/// The config could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("the directory {0} does not exist")]
    NoDirectory(PathBuf),
    #[error("Make sure that you have write permission to {path}: {source}")]
    Permission {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn dir_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "config.json".into());
    dir_of(path).join(format!(".{name}.wizard-{}.tmp", std::process::id()))
}

/// The path of backup number `n` of `path`.
pub fn backup_path(path: &Path, n: u32) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(format!(".bak.{n}"));
    PathBuf::from(s)
}

/// Checks that `path` can be written (its directory exists and accepts a new file).
pub fn check_writable(path: &Path) -> Result<(), SaveError> {
    let dir = dir_of(path);
    if !dir.is_dir() {
        return Err(SaveError::NoDirectory(dir));
    }
    let probe = temp_path(path);
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(&probe)
        .map_err(|source| SaveError::Permission {
            path: path.to_path_buf(),
            source,
        })?;
    drop(file);
    let _ = fs::remove_file(&probe);
    if path.exists() {
        OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|source| SaveError::Permission {
                path: path.to_path_buf(),
                source,
            })?;
    }
    Ok(())
}

fn write_err(path: &Path) -> impl FnOnce(std::io::Error) -> SaveError + '_ {
    move |source| SaveError::Write {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `text` to `path`; returns the backup made of the previous file, if there was one.
pub fn save(path: &Path, text: &str) -> Result<Option<PathBuf>, SaveError> {
    let dir = dir_of(path);
    if !dir.is_dir() {
        return Err(SaveError::NoDirectory(dir));
    }
    let tmp = temp_path(path);
    let result = write_then_swap(path, &tmp, text);
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn write_then_swap(path: &Path, tmp: &Path, text: &str) -> Result<Option<PathBuf>, SaveError> {
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .open(tmp)
        .map_err(write_err(tmp))?;
    f.write_all(text.as_bytes()).map_err(write_err(tmp))?;
    f.sync_all().map_err(write_err(tmp))?;
    drop(f);

    let backup = if path.exists() {
        rotate_backups(path)?;
        let first = backup_path(path, 1);
        if fs::hard_link(path, &first).is_err() {
            fs::copy(path, &first).map_err(write_err(&first))?;
        }
        Some(first)
    } else {
        None
    };
    fs::rename(tmp, path).map_err(write_err(path))?;
    if let Ok(d) = fs::File::open(dir_of(path)) {
        let _ = d.sync_all();
    }
    Ok(backup)
}

/// Moves `bak.N` to `bak.N+1` from the top down, dropping the one past [`MAX_BACKUPS`].
fn rotate_backups(path: &Path) -> Result<(), SaveError> {
    let oldest = backup_path(path, MAX_BACKUPS);
    if oldest.exists() {
        fs::remove_file(&oldest).map_err(write_err(&oldest))?;
    }
    for n in (1..MAX_BACKUPS).rev() {
        let from = backup_path(path, n);
        if from.exists() {
            let to = backup_path(path, n + 1);
            fs::rename(&from, &to).map_err(write_err(&to))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_save_makes_no_backup() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.json");
        assert_eq!(save(&p, "one").unwrap(), None);
        assert_eq!(fs::read_to_string(&p).unwrap(), "one");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn later_saves_keep_numbered_backups_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.json");
        for i in 0..13 {
            save(&p, &format!("v{i}")).unwrap();
        }
        assert_eq!(fs::read_to_string(&p).unwrap(), "v12");
        assert_eq!(fs::read_to_string(backup_path(&p, 1)).unwrap(), "v11");
        assert_eq!(fs::read_to_string(backup_path(&p, 10)).unwrap(), "v2");
        assert!(!backup_path(&p, 11).exists());
        // Target + ten backups, no temp files left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 11);
    }

    #[test]
    fn missing_directory_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("nope/config.json");
        assert!(matches!(check_writable(&p), Err(SaveError::NoDirectory(_))));
        assert!(matches!(save(&p, "x"), Err(SaveError::NoDirectory(_))));
        check_writable(&dir.path().join("config.json")).unwrap();
    }
}
