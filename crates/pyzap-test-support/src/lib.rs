//! Shared test fixtures for pyzap's crates: wheels built in code (including
//! hostile ones), the shared wheelhouse, a local package index serving it, and the machine's Python interpreters.

pub mod index_server;
pub mod python;
pub mod route_server;
pub mod skip;
pub mod wheels;

pub use index_server::{IndexConfig, IndexServer, PageFormat};
pub use python::{interpreters, require, Interpreter};
pub use route_server::{Route, RouteServer, SeenRequest, SilentServer};
pub use skip::skip;

pub use wheels::{sha256_file, wheelhouse, WheelBuilder};
