//! Errors of `pyzap-index`. URLs in messages never carry credentials.

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
    #[error("{0} is not a local file")]
    NotLocal(String),
    #[error("invalid index URL {0}")]
    BadUrl(String),
    #[error("{url} is unreachable{}", if *attempts > 1 { format!(" ({attempts} attempts)") } else { String::new() })]
    Unreachable {
        url: String,
        attempts: u32,
        #[source]
        source: crate::http::TransportError,
    },
    #[error("{url} answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("reading {url} failed: {message}")]
    Transfer { url: String, message: String },
    #[error("{url} is not a valid simple-API page: {message}")]
    BadPage { url: String, message: String },
    #[error("hash mismatch for {url}: sha256 is {actual}, but {promised_by} promised {expected}")]
    HashMismatch {
        url: String,
        expected: String,
        actual: String,
        /// `the index`, or what else promised the digest (`--python-dist-sha256`).
        promised_by: String,
    },
    #[error(
        "{url}: {} promises sha256 {}, but {} promises {}",
        .promises.0.by(), .promises.0.hex(), .promises.1.by(), .promises.1.hex()
    )]
    DigestConflict {
        url: String,
        /// Boxed: a pair of them would make every `IndexError` larger.
        promises: Box<(crate::PromisedSha256, crate::PromisedSha256)>,
    },
    #[error("the #sha256= fragment of {0} is not a sha256 digest (64 hex digits)")]
    BadDigest(String),
    #[error("{0} does not end in a file name")]
    NoFileName(String),
    #[error("{0} is not in the cache, and --offline forbids the network")]
    Offline(String),
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: pyzap_fs::FsError,
    },
    #[error("the index named a file `{0}` that is not a plain file name with a sha256 digest")]
    UnsafeName(String),
    #[error(
        "the core metadata the index served for {url} differs from the METADATA inside the wheel"
    )]
    MetadataMismatch { url: String },
    #[error("{url} is larger than {limit} MiB, the limit for an index page or metadata file")]
    PageTooLarge { url: String, limit: u64 },
    #[error("{url} is not a valid {kind}")]
    NotAnArchive {
        url: String,
        kind: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The same failure, met again later in one run (it is not retried).
    #[error(transparent)]
    Earlier(std::sync::Arc<IndexError>),
}

impl IndexError {
    /// The error itself, looking through a repeated one.
    pub fn kind(&self) -> &IndexError {
        match self {
            IndexError::Earlier(inner) => inner.kind(),
            other => other,
        }
    }
}
