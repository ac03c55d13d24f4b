//! Shared test fixtures for pyzap's crates: wheels built in code (including
//! hostile ones), the shared wheelhouse, a local package index serving it
//! (also as the `pyzap-test-index` binary that `bench/` runs), scripted and
//! connection-counting HTTP servers, scratch
//! space under the target directory, the machine's Python interpreters and
//! the relocatable CPython archive of `--standalone` builds, and pip's
//! reference outputs kept across runs.

// Only tests link this crate, and a fixture that cannot be set up is a
// failed test: the same leave to unwrap that tests have.
#![allow(
    clippy::unwrap_used,
    reason = "test fixtures: a failed unwrap is a failed test"
)]

pub mod files;
mod index_pages;
pub mod index_server;
pub mod keep_alive_server;
pub mod python;
pub mod reference_cache;
pub mod route_server;
pub mod skip;
pub mod wheels;

pub use files::{files_below, regex_escape, set_times_nofollow, zip_entry_text};
pub use index_server::{IndexConfig, IndexServer, LoggedRequest, PageFormat};
pub use keep_alive_server::KeepAliveServer;
pub use python::{
    interpreters, python_dist, python_dist_mirror, python_dist_mirror_path, python_dist_table,
    require, Interpreter,
};
pub use pyzap_fs::ScratchDir;
pub use reference_cache::ReferenceCache;
pub use route_server::{Route, RouteServer, SeenRequest, SilentServer};
pub use skip::skip;

pub use wheels::{sha256_file, sha256_hex, wheelhouse, WheelBuilder};
