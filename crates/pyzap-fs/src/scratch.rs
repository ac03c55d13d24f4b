//! Scratch space that a killed process cannot leave behind for good. Each
//! scratch directory (or file) is held with an exclusive `flock` for as long
//! as its owner lives; whoever next makes scratch space in the same place
//! removes the ones nobody holds. The kernel drops the lock when its holder
//! dies however it dies (SIGKILL, OOM), so this needs no pid files.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::{CacheLock, FsError};

/// The lock file inside a scratch directory.
const OWNER: &str = ".owner";

/// An unheld entry this young may be one whose owner has created it but not
/// yet locked it (a few microseconds): leave it.
const GRACE: Duration = Duration::from_secs(60);

/// A directory for one process's temporary files, removed when dropped, or
/// by a later `ScratchDir::new` in the same parent when its owner was killed.
pub struct ScratchDir {
    dir: tempfile::TempDir,
    _owner: CacheLock,
}

impl ScratchDir {
    /// Makes `<parent>/<prefix>XXXXXX`, first removing the leftovers of
    /// killed owners among `<parent>/<prefix>*`.
    pub fn new(parent: &Path, prefix: &str) -> Result<Self, FsError> {
        fs_err::create_dir_all(parent)?;
        sweep_dirs(parent, prefix);
        let dir = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir_in(parent)
            .map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!("creating a directory in {}: {e}", parent.display()),
                )
            })?;
        let owner = CacheLock::exclusive(&dir.path().join(OWNER))?;
        Ok(ScratchDir { dir, _owner: owner })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Holds an exclusive lock on an open temporary file, so that
/// [`sweep_files`] knows its owner is alive.
pub fn hold_file(file: &tempfile::NamedTempFile) -> Result<(), FsError> {
    file.as_file().try_lock().map_err(|e| {
        std::io::Error::other(format!("locking {}: {e:?}", file.path().display())).into()
    })
}

/// Removes `<dir>/<prefix>*` scratch directories nobody holds.
fn sweep_dirs(parent: &Path, prefix: &str) {
    for path in with_prefix(parent, prefix) {
        if !path.is_dir() {
            continue;
        }
        let owner = path.join(OWNER);
        let dead = match fs_err::OpenOptions::new().write(true).open(&owner) {
            Ok(file) => file.file().try_lock().is_ok() && older_than(&owner, GRACE),
            // No owner file: made before it could be created, or by an
            // older pyzap; gone once it is clearly stale.
            Err(_) => older_than(&path, GRACE),
        };
        if dead {
            tracing::debug!("removing {}, left by a killed process", path.display());
            let _ = fs_err::remove_dir_all(&path);
        }
    }
}

/// Removes `<dir>/<prefix>*` temporary files whose writer (which held them
/// with [`hold_file`]) is gone: the leftovers of a killed process beside
/// a user's output.
pub fn sweep_files(dir: &Path, prefix: &str) {
    for path in with_prefix(dir, prefix) {
        if !path.is_file() {
            continue;
        }
        let Ok(file) = fs_err::OpenOptions::new().write(true).open(&path) else {
            continue;
        };
        if file.file().try_lock().is_ok() && older_than(&path, GRACE) {
            tracing::debug!("removing {}, left by a killed process", path.display());
            let _ = fs_err::remove_file(&path);
        }
    }
}

fn with_prefix(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let Ok(entries) = fs_err::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .map(|e| e.path())
        .collect()
}

fn older_than(path: &Path, age: Duration) -> bool {
    fs_err::symlink_metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .is_some_and(|d| d >= age)
}

/// Sets a path's modification time into the past (tests of the sweep).
#[doc(hidden)]
pub fn age_for_tests(path: &Path, by: Duration) {
    let when = SystemTime::now() - by;
    if let Ok(f) = fs_err::File::open(path) {
        let _ = f.file().set_modified(when);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn killed_owners_are_swept_live_ones_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let parent = tmp.path().join("work");
        let live = ScratchDir::new(&parent, "build-").unwrap();
        // A killed owner: the directory and its owner file stay, unlocked.
        let dead = parent.join("build-dead");
        fs_err::create_dir_all(&dead).unwrap();
        fs_err::write(dead.join(OWNER), b"").unwrap();
        fs_err::write(dead.join("big"), b"x").unwrap();
        // A fresh unheld one may be mid-creation: kept.
        let fresh = parent.join("build-fresh");
        fs_err::create_dir_all(&fresh).unwrap();
        fs_err::write(fresh.join(OWNER), b"").unwrap();
        age_for_tests(&dead.join(OWNER), Duration::from_secs(3600));
        age_for_tests(&live.path().join(OWNER), Duration::from_secs(3600));

        let next = ScratchDir::new(&parent, "build-").unwrap();
        assert!(!dead.exists(), "a killed owner's directory stays");
        assert!(fresh.exists());
        assert!(live.path().exists(), "a live owner's directory was removed");
        let kept = live.path().to_path_buf();
        drop(live);
        assert!(!kept.exists());
        drop(next);

        let dir = tmp.path().join("out");
        fs_err::create_dir_all(&dir).unwrap();
        let file = tempfile::Builder::new()
            .prefix(".pyzap-build-held")
            .tempfile_in(&dir)
            .unwrap();
        let held = file.path().to_path_buf();
        hold_file(&file).unwrap();
        let left = dir.join(".pyzap-build-left");
        fs_err::write(&left, b"x").unwrap();
        age_for_tests(&held, Duration::from_secs(3600));
        age_for_tests(&left, Duration::from_secs(3600));
        sweep_files(&dir, ".pyzap-build-");
        assert!(held.exists());
        assert!(!left.exists());
    }
}
