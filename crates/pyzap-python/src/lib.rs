//! Running real Python interpreters at build time: finding one by name or
//! path, asking it what it is (the facts a `Target` is made from), and
//! compiling sources to hash-based bytecode with it; and finding the
//! relocatable CPython a standalone executable bundles (uv's installations,
//! pyzap's table of python-build-standalone downloads).

mod compile;
mod downloads;
mod error;
mod interpreter;
mod managed;

pub use compile::compile_sources;
pub use downloads::{
    Libc, PlatformRequest, PythonDownload, PythonDownloads, PythonSources, PythonVersion,
    VersionRequest,
};
pub use error::PythonError;
pub use interpreter::Interpreter;
pub use managed::{find_uv_python, ManagedPython};
