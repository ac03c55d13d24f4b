//! Shared test fixtures for pyzap's crates: wheels built in code (including
//! hostile ones), the shared wheelhouse, and the machine's Python interpreters.

pub mod wheels;

pub use wheels::{wheelhouse, WheelBuilder};
