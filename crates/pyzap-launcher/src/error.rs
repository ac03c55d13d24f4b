//! The launcher's errors. Each becomes one `pyzap: error: …` line: the
//! message, its causes after `: `, and a hint after `; ` when there is one.
//! The hints for a cache that cannot be written depend on the errno
//! (`docs/artifact-format.md`, "Runtime cache protocol", step 10); the
//! bootstrap words them the same, and the shared vectors check both.

use std::io;
use std::path::PathBuf;

const ROOT_HINT: &str = "set PYZAP_ROOT to a writable directory";
const NO_ROOT_HINT: &str =
    "set PYZAP_ROOT to a writable directory; under systemd, set CacheDirectory= in the unit";

#[derive(Debug, thiserror::Error)]
pub enum LauncherError {
    #[error("{0}")]
    Trailer(String),
    #[error("{exe} is not a pyzap standalone executable or is damaged ({why})")]
    NotStandalone { exe: PathBuf, why: String },
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{exe} is damaged: part {part} of its Python payload has sha256 {actual}, expected {expected}")]
    HashMismatch {
        exe: PathBuf,
        part: usize,
        actual: String,
        expected: String,
    },
    #[error("{exe} carries a Python built for {payload}, but this machine runs {machine}")]
    Arch {
        exe: PathBuf,
        payload: String,
        machine: String,
    },
    #[error("cannot find a cache directory (no home directory)")]
    NoCacheRoot,
    #[error("cannot create the cache directory {path}")]
    CacheCreate {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cache directory {0} is not a directory")]
    CacheNotDir(PathBuf),
    #[error("cache directory {path} belongs to uid {owner}, not to you (uid {me})")]
    CacheOwner { path: PathBuf, owner: u32, me: u32 },
    #[error("cache directory {path} is writable by group or others (mode {mode:03o})")]
    CacheMode { path: PathBuf, mode: u32 },
    #[error("cache directory {0} is on a file system mounted noexec: the interpreter cannot run from it")]
    Noexec(PathBuf),
    #[error("cannot unpack the Python interpreter into {path}")]
    Unpack {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot run {path}")]
    Exec {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl LauncherError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::NoCacheRoot => Some(NO_ROOT_HINT),
            Self::CacheCreate { source, .. } | Self::Unpack { source, .. } => {
                Some(write_hint(source))
            }
            Self::CacheNotDir(_) | Self::CacheOwner { .. } => {
                Some("set PYZAP_ROOT to a directory of your own")
            }
            Self::CacheMode { .. } => Some("chmod 700 it or set PYZAP_ROOT to a private directory"),
            Self::Noexec(_) => {
                Some("set PYZAP_ROOT to a directory on a file system that allows executables")
            }
            Self::HashMismatch { .. } | Self::NotStandalone { .. } => {
                Some("copy the executable again, or rebuild it")
            }
            _ => None,
        }
    }

    /// The stable id the protocol gives a refusal of the cache root
    /// ("Runtime cache protocol", step 2), which the shared test vectors
    /// name; `None` for other errors.
    pub fn refusal(&self) -> Option<&'static str> {
        Some(match self {
            Self::NoCacheRoot => "no-root",
            Self::CacheCreate { .. } => "cannot-create",
            Self::CacheNotDir(_) => "not-a-directory",
            Self::CacheOwner { .. } => "foreign-owner",
            Self::CacheMode { .. } => "writable-by-others",
            Self::Noexec(_) => "noexec",
            _ => return None,
        })
    }

    /// The whole report on one line, without the `pyzap: error: ` prefix.
    pub fn one_line(&self) -> String {
        let mut line = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(s) = source {
            line.push_str(&format!(": {s}"));
            source = s.source();
        }
        if let Some(h) = self.hint() {
            line.push_str(&format!("; {h}"));
        }
        line
    }
}

/// What to do about an error writing the cache, by its errno.
pub fn write_hint(error: &io::Error) -> &'static str {
    match os_error(error) {
        Some(libc::ENOSPC | libc::EDQUOT) => {
            "the disk is full or over quota: free some space or set PYZAP_ROOT to a directory on another disk"
        }
        Some(libc::ENAMETOOLONG) => {
            "a path is too long for the file system: set PYZAP_ROOT to a shorter directory"
        }
        Some(libc::EROFS | libc::EACCES | libc::EPERM) => {
            "the directory is read-only or not writable by this user: set PYZAP_ROOT to a writable directory; under systemd, set CacheDirectory= in the unit"
        }
        Some(libc::EFBIG) => "a file is larger than the file size limit (ulimit -f): raise the limit",
        _ => ROOT_HINT,
    }
}

/// The errno behind `error`, also when a library wrapped it (tar reports
/// "failed to unpack …" with the system's error as its source).
fn os_error(error: &io::Error) -> Option<i32> {
    if let Some(code) = error.raw_os_error() {
        return Some(code);
    }
    let mut next: Option<&(dyn std::error::Error + 'static)> = error
        .get_ref()
        .map(|e| e as &(dyn std::error::Error + 'static));
    while let Some(e) = next {
        if let Some(code) = e.downcast_ref::<io::Error>().and_then(os_error) {
            return Some(code);
        }
        next = e.source();
    }
    None
}
