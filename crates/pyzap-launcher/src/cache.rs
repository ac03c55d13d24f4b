//! The runtime cache, with the bootstrap's rules (`docs/artifact-format.md`,
//! "Cache root"): `$PYZAP_ROOT`, else `$CACHE_DIRECTORY/pyzap`, else
//! `$XDG_CACHE_HOME/pyzap` (absolute only), else `~/.cache/pyzap`; never a
//! shared temporary directory; created 0700 and refused when it belongs to
//! another user or is writable by others.

use std::ffi::OsString;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::LauncherError;

fn var(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
}

fn absolute(path: PathBuf) -> PathBuf {
    std::path::absolute(&path).unwrap_or(path)
}

/// Where the cache lives; nothing is touched.
pub fn cache_root() -> Result<PathBuf, LauncherError> {
    if let Some(root) = var("PYZAP_ROOT") {
        return Ok(absolute(root.into()));
    }
    if let Some(dirs) = var("CACHE_DIRECTORY") {
        let first = dirs
            .to_str()
            .map(|s| OsString::from(s.split(':').next().unwrap_or(s)))
            .unwrap_or(dirs);
        return Ok(absolute(PathBuf::from(first)).join("pyzap"));
    }
    if let Some(xdg) = var("XDG_CACHE_HOME").map(PathBuf::from) {
        if xdg.is_absolute() {
            return Ok(xdg.join("pyzap"));
        }
    }
    match var("HOME").map(PathBuf::from) {
        Some(home) if home.is_absolute() => Ok(home.join(".cache/pyzap")),
        _ => Err(LauncherError::NoCacheRoot),
    }
}

pub(crate) fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Creates `root` (0700, missing parents with the default mode) and checks
/// that it is a directory of ours that nobody else can write to.
pub fn check_root(root: &Path) -> Result<(), LauncherError> {
    let create = |source| LauncherError::CacheCreate {
        path: root.to_path_buf(),
        source,
    };
    let meta = match root.metadata() {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = root.parent() {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .create(parent)
                    .map_err(create)?;
            }
            match std::fs::DirBuilder::new().mode(0o700).create(root) {
                Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(create(e)),
                _ => {}
            }
            root.metadata().map_err(create)?
        }
        Err(e) => return Err(create(e)),
    };
    if !meta.is_dir() {
        return Err(LauncherError::CacheNotDir(root.to_path_buf()));
    }
    let me = euid();
    if meta.uid() != me {
        return Err(LauncherError::CacheOwner {
            path: root.to_path_buf(),
            owner: meta.uid(),
            me,
        });
    }
    if meta.mode() & 0o022 != 0 {
        return Err(LauncherError::CacheMode {
            path: root.to_path_buf(),
            mode: meta.mode() & 0o777,
        });
    }
    Ok(())
}

/// Is `dir` on a file system mounted `noexec`?
pub(crate) fn is_noexec(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `c` is a valid NUL-terminated path and `st` a properly sized out-parameter.
    unsafe {
        let mut st: libc::statvfs = std::mem::zeroed();
        libc::statvfs(c.as_ptr(), &mut st) == 0 && st.f_flag & libc::ST_NOEXEC != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn root_is_created_private_and_checked() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("a/b/pyzap");
        check_root(&root).unwrap();
        assert_eq!(root.metadata().unwrap().mode() & 0o777, 0o700);
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = check_root(&root).unwrap_err();
        assert!(err
            .one_line()
            .contains("writable by group or others (mode 777)"));
        let file = tmp.path().join("file");
        fs_write(&file);
        assert!(check_root(&file)
            .unwrap_err()
            .one_line()
            .contains("not a directory"));
    }

    fn fs_write(path: &Path) {
        std::fs::File::options()
            .create(true)
            .truncate(true)
            .write(true)
            .open(path)
            .unwrap();
    }
}
