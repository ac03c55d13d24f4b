//! Writes that never leave a half-written file at the final path, private
//! directories for caches, and a lock file guarding create-once cache entries.

use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::FsError;

/// Writes `data` to a temporary file beside `path`, flushes it to the disk,
/// then renames it into place: after a crash or power cut the name holds
/// either the old content, or the whole new one — never an empty file
/// (rename can reach the disk before the data it names).
pub fn write_atomic(path: &Path, data: &[u8], mode: u32) -> Result<(), FsError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs_err::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".pyzap-tmp-")
        .tempfile_in(dir)
        .map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("creating a file in {}: {e}", dir.display()),
            )
        })?;
    tmp.write_all(data)?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| {
        std::io::Error::new(
            e.error.kind(),
            format!("renaming into {}: {}", path.display(), e.error),
        )
    })?;
    Ok(())
}

/// Creates `path` (and parents) with mode 0700 and checks that an existing
/// directory belongs to the current user and is not writable by others.
pub fn ensure_private_dir(path: &Path) -> Result<(), FsError> {
    if !path.exists() {
        fs_err::create_dir_all(path)?;
        fs_err::set_permissions(path, std::fs::Permissions::from_mode(0o700))?;
    }
    let meta = fs_err::metadata(path)?;
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc_getuid() };
    if meta.uid() != uid {
        return Err(FsError::ForeignOwner {
            path: path.to_path_buf(),
            owner: meta.uid(),
            uid,
        });
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(FsError::WorldWritable {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

extern "C" {
    #[link_name = "getuid"]
    fn libc_getuid() -> u32;
}

/// An exclusive lock on `<dir>/.lock`, held until dropped.
pub struct CacheLock {
    _file: fs_err::File,
    pub path: PathBuf,
}

impl CacheLock {
    pub fn acquire(dir: &Path) -> Result<Self, FsError> {
        fs_err::create_dir_all(dir)?;
        let path = dir.join(".lock");
        let file = fs_err::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        file.file().lock().map_err(|e| lock_error(&path, &e))?;
        Ok(CacheLock { _file: file, path })
    }

    /// A shared lock on the file `path`: many holders at once, none while
    /// an exclusive holder has it (builds share; `cache clean` excludes them).
    pub fn shared(path: &Path) -> Result<Self, FsError> {
        let file = Self::open(path)?;
        file.file()
            .lock_shared()
            .map_err(|e| lock_error(path, &e))?;
        Ok(CacheLock {
            _file: file,
            path: path.to_path_buf(),
        })
    }

    /// An exclusive lock on the file `path`, or `None` when another process holds it.
    pub fn try_exclusive(path: &Path) -> Result<Option<Self>, FsError> {
        let file = Self::open(path)?;
        match file.file().try_lock() {
            Ok(()) => Ok(Some(CacheLock {
                _file: file,
                path: path.to_path_buf(),
            })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(lock_error(path, &e).into()),
        }
    }

    /// An exclusive lock on the file `path`, waiting for other holders.
    pub fn exclusive(path: &Path) -> Result<Self, FsError> {
        let file = Self::open(path)?;
        file.file().lock().map_err(|e| lock_error(path, &e))?;
        Ok(CacheLock {
            _file: file,
            path: path.to_path_buf(),
        })
    }

    fn open(path: &Path) -> Result<fs_err::File, FsError> {
        if let Some(dir) = path.parent() {
            fs_err::create_dir_all(dir)?;
        }
        Ok(fs_err::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)?)
    }
}

/// A failed `flock`, naming the lock file.
fn lock_error(path: &Path, e: &std::io::Error) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("locking {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_and_private_dir() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        ensure_private_dir(&dir).unwrap();
        assert_eq!(fs_err::metadata(&dir).unwrap().mode() & 0o777, 0o700);
        write_atomic(&dir.join("f"), b"x", 0o644).unwrap();
        assert_eq!(fs_err::read(dir.join("f")).unwrap(), b"x");
        fs_err::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = ensure_private_dir(&dir).unwrap_err();
        assert!(err.to_string().contains("writable by other users"), "{err}");
        let _lock = CacheLock::acquire(&tmp.path().join("c")).unwrap();
        let file = tmp.path().join("build.lock");
        let a = CacheLock::shared(&file).unwrap();
        let b = CacheLock::shared(&file).unwrap();
        assert!(CacheLock::try_exclusive(&file).unwrap().is_none());
        drop((a, b));
        assert!(CacheLock::try_exclusive(&file).unwrap().is_some());
    }
}
