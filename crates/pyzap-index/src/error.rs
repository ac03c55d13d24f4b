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
    #[error("{path} has no core metadata (a single `*.dist-info/METADATA` in a wheel, `PKG-INFO` in an sdist)")]
    NoMetadata { path: PathBuf },
    #[error("invalid METADATA in {path}")]
    BadMetadata {
        path: PathBuf,
        #[source]
        source: pyzap_spec::SpecError,
    },
}
