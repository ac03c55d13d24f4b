//! Errors of `pyzap-wheel`; each names the wheel and, where there is one, the entry.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum WheelError {
    #[error("cannot read wheel {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("wheel {path} is corrupt or truncated")]
    Corrupt {
        path: PathBuf,
        #[source]
        source: zip::result::ZipError,
    },
    #[error("wheel {path} has an entry outside the tree: {entry}")]
    Escape {
        path: PathBuf,
        entry: String,
        #[source]
        source: pyzap_fs::FsError,
    },
    #[error("wheel {path} has a symbolic link, which wheels may not contain: {entry}")]
    Symlink { path: PathBuf, entry: String },
    #[error("wheel {path} is invalid: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("wheel {path}: hash of {entry} does not match its RECORD entry (expected {expected}, got {actual})")]
    HashMismatch {
        path: PathBuf,
        entry: String,
        expected: String,
        actual: String,
    },
    #[error("wheel {path}: {entry} is not listed in RECORD")]
    NotInRecord { path: PathBuf, entry: String },
}
