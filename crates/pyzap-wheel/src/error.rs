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
    #[error("wheel {path} lists {entry} twice in its zip directory")]
    DuplicateEntry { path: PathBuf, entry: String },
    /// `entry` is escaped (`{:?}`-style), so the message stays one line.
    #[error("wheel {path} has an entry name with a control or line-separator character: {entry}")]
    ControlCharacter { path: PathBuf, entry: String },
    #[error(
        "wheel {path} has a path component of {len} bytes, over the {max}-byte limit: {entry}"
    )]
    ComponentTooLong {
        path: PathBuf,
        entry: String,
        len: usize,
        max: usize,
    },
    #[error(
        "wheel {path} has an entry {depth} directories deep, over the limit of {max}: {entry}"
    )]
    PathTooDeep {
        path: PathBuf,
        entry: String,
        depth: usize,
        max: usize,
    },
    #[error("wheel {path} has an entry path of {len} bytes, over the {max}-byte limit: {entry}")]
    PathTooLong {
        path: PathBuf,
        entry: String,
        len: usize,
        max: usize,
    },
    #[error("wheel {path} installs {entry} both as a file and as a directory")]
    FileDirClash { path: PathBuf, entry: String },
    #[error("wheel {path} installs the file {entry} where wheel {other} installs a directory")]
    SiteClash {
        path: PathBuf,
        entry: String,
        other: PathBuf,
    },
    /// Boxed names keep this variant, and so every `Result` of this error,
    /// within clippy's `result_large_err` bound.
    #[error("wheel {path}: {entry} says Name `{found}`, but the file name says `{expected}`")]
    NameMismatch {
        path: PathBuf,
        entry: String,
        found: Box<pyzap_spec::PackageName>,
        expected: Box<pyzap_spec::PackageName>,
    },
    #[error("wheel {path}: {entry} says Version `{found}`, but the file name says `{expected}`")]
    VersionMismatch {
        path: PathBuf,
        entry: String,
        found: pyzap_spec::Version,
        expected: pyzap_spec::Version,
    },
    #[error("wheel {path}: {entry} has no Wheel-Version")]
    WheelVersionMissing { path: PathBuf, entry: String },
    #[error("wheel {path}: {entry} declares Wheel-Version {version}; only version 1 wheels can be installed (PEP 427)")]
    WheelVersionUnsupported {
        path: PathBuf,
        entry: String,
        version: String,
    },
    #[error("wheel {path}: {entry} is {len} bytes, over the {max}-byte limit for metadata files")]
    MetadataTooLarge {
        path: PathBuf,
        entry: String,
        len: u64,
        max: u64,
    },
}
