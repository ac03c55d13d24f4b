//! The part of the `pyzap` command that is a pure function of its input,
//! as a library: the error report, so tests of the pipeline render an error
//! exactly as the command prints it.

mod report;

pub use report::render;
