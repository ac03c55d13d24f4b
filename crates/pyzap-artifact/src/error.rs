//! Errors of `pyzap-artifact`.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    #[error("cannot write artifact {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read artifact {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("building the zip for {path} failed")]
    Zip {
        path: PathBuf,
        #[source]
        source: zip::result::ZipError,
    },
    #[error("cannot read {archive} while copying {entry} into the artifact")]
    Source {
        archive: PathBuf,
        entry: String,
        #[source]
        source: zip::result::ZipError,
    },
    #[error(
        "the shebang `{shebang}` is {len} bytes; the kernel truncates shebang lines over 127 bytes"
    )]
    ShebangTooLong { shebang: String, len: usize },
    #[error(
        "a name in the artifact's boot record holds a control or line-separator character: {0}"
    )]
    BootValue(String),
    #[error("the shebang `{0}` must start with `#!` and be a single line")]
    ShebangInvalid(String),
    #[error("the artifact needs ZIP64 ({reason}), which zipimport on Python {python} cannot read (it can from 3.13)")]
    NeedsZip64 { reason: String, python: String },
    #[error("{path} is not a pyzap artifact: {reason}")]
    NotAnArtifact { path: PathBuf, reason: String },
    #[error("{path} is corrupt or truncated")]
    Corrupt {
        path: PathBuf,
        #[source]
        source: zip::result::ZipError,
    },
    #[error("{path} has an entry outside the tree: {entry}")]
    Escape {
        path: PathBuf,
        entry: String,
        #[source]
        source: pyzap_fs::FsError,
    },
    #[error("the build cache entry {path} cannot be used")]
    Cache {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Wheel(#[from] pyzap_wheel::WheelError),
    /// A tree the runtime could not create; `origin` says where the entry came from.
    #[error("cannot write artifact {path}: {entry} would be {problem} ({origin})")]
    EntryClash {
        path: PathBuf,
        entry: String,
        problem: &'static str,
        origin: String,
    },
    #[error("an artifact needs at least one target")]
    NoTarget,
    #[error("compiling bytecode failed: {0}")]
    Bytecode(String),
    #[error("cannot extract into {path}")]
    Extract {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a usable Python distribution: {reason}")]
    PythonDist { path: PathBuf, reason: String },
    #[error("cannot read the Python distribution {path}")]
    PythonDistIo {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl ArtifactError {
    /// `map_err` adapter: an I/O failure writing the artifact at `path`.
    pub(crate) fn write(path: &std::path::Path) -> impl Fn(std::io::Error) -> Self + Copy + '_ {
        move |source| Self::Write {
            path: path.to_path_buf(),
            source,
        }
    }

    /// `map_err` adapter: the zip library failed on the archive at `path`.
    pub(crate) fn zip(
        path: &std::path::Path,
    ) -> impl Fn(zip::result::ZipError) -> Self + Copy + '_ {
        move |source| Self::Zip {
            path: path.to_path_buf(),
            source,
        }
    }
}
