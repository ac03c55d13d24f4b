//! Shared test fixtures for pyzap's crates: wheels built in code (including
//! hostile ones), the shared wheelhouse, and the machine's Python interpreters.

pub mod python;
pub mod wheels;

pub use python::{interpreters, require, Interpreter};

pub use wheels::{sha256_file, wheelhouse, WheelBuilder};
