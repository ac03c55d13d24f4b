//! The stub of a standalone executable: read the trailer from its own file,
//! unpack the CPython payload once into the content-addressed cache, and
//! exec that interpreter on the executable itself, so the artifact's zip
//! runs through the very same bootstrap as a `.pyz`.

// Every I/O error here is wrapped in a `LauncherError` that names its path,
// which is what the workspace's fs_err rule is for; the stub stays without it
// (its dependency tree is kept tiny on purpose, see Cargo.toml).
#![allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "LauncherError names the path of every I/O error; no fs_err in the stub"
)]

mod cache;
mod error;
mod extract;
mod flush;
mod run;
pub mod trailer;

pub use cache::{cache_root, check_root, root_for, RootInputs, SYSTEM_ROOT};
pub use error::{write_hint, LauncherError};
pub use extract::{boot_id, is_complete, marker_of, sweep, unpack_payload, usable, MARKER};
pub use flush::flush_later;
pub use run::main;
pub use trailer::{Part, Trailer};
