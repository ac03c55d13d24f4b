//! Errors of `pyzap-pep517`.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Pep517Error {
    #[error("cannot prepare the build of {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot install build requirement {wheel}")]
    Requirement {
        wheel: PathBuf,
        #[source]
        source: pyzap_wheel::WheelError,
    },
    #[error("the build backend `{backend}` failed to build {path}:\n{output}")]
    Backend {
        path: PathBuf,
        backend: String,
        output: String,
    },
    #[error(
        "the build backend `{backend}` of {path} named its wheel `{name}`, which is not \
         the name of a file in the output directory it was given"
    )]
    WheelName {
        path: PathBuf,
        backend: String,
        name: String,
    },
    #[error("sdist {path} is not a valid archive: {reason}")]
    BadSdist { path: PathBuf, reason: String },
}
