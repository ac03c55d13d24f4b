//! Errors of `pyzap-python`.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum PythonError {
    #[error("no Python interpreter named `{0}` on PATH")]
    NotFound(String),
    #[error("cannot run the Python interpreter {path}")]
    Spawn {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the Python interpreter {path} failed to describe itself: {stderr}")]
    Probe { path: PathBuf, stderr: String },
    #[error(
        "{path} is not a Python interpreter (asked to describe itself, it printed {printed:?})"
    )]
    NotPython { path: PathBuf, printed: String },
    #[error("{path} is Python {version}; pyzap builds for Python 3.8 or later")]
    TooOld { path: PathBuf, version: String },
    #[error(
        "the Python interpreter {path} did not answer within {seconds} s (PYZAP_PYTHON_TIMEOUT)"
    )]
    Timeout { path: PathBuf, seconds: u64 },
    #[error("the Python interpreter {path} is not usable as a target")]
    Target {
        path: PathBuf,
        #[source]
        source: pyzap_spec::SpecError,
    },
    #[error("bytecode compilation with {path} failed: {message}")]
    Compile { path: PathBuf, message: String },

    #[error("cannot read the table of python downloads {path}")]
    DownloadTableIo {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the table of python downloads {path} is malformed: {reason}")]
    DownloadTable { path: PathBuf, reason: String },
    /// `wanted`: the version, platform, architecture and libc looked for
    /// (`3.9 for this machine (x86_64-linux-gnu)`); `available`: what the
    /// table has, per platform.
    #[error("no python-build-standalone CPython {wanted} in pyzap's table; it has {available}")]
    NoDownload { wanted: String, available: String },
    /// `need` and `has` are glibc versions, `(2, 17)`.
    #[error("python-build-standalone's {file} needs glibc {}.{}, but the target platform {platform} has glibc {}.{}", need.0, need.1, has.0, has.1)]
    DownloadGlibc {
        file: String,
        platform: String,
        need: (u32, u32),
        has: (u32, u32),
    },
}
