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
}
