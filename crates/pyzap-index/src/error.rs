//! Errors of `pyzap-index`.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("find-links location {0} is not a directory")]
    NotADirectory(PathBuf),
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a valid wheel (zip archive)")]
    BadWheel {
        path: PathBuf,
        #[source]
        source: zip::result::ZipError,
    },
    #[error("{path} has no single `*.dist-info/METADATA`")]
    NoMetadata { path: PathBuf },
    #[error("invalid METADATA in {path}")]
    BadMetadata {
        path: PathBuf,
        #[source]
        source: pyzap_spec::SpecError,
    },
}
