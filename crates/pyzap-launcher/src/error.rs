//! The launcher's errors. Each becomes one `pyzap: error: …` line: the
//! message, its causes after `: `, and a hint after `; ` when there is one.

use std::path::PathBuf;

const ROOT_HINT: &str = "set PYZAP_ROOT to a writable directory";

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
            Self::NoCacheRoot | Self::CacheCreate { .. } | Self::Unpack { .. } => Some(ROOT_HINT),
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
