//! How the pipeline tells its caller what it is doing. Libraries never
//! print: the CLI implements this trait with progress bars on a terminal
//! and plain lines (or silence) elsewhere.

use std::path::Path;

pub use pyzap_index::DownloadReporter;

/// Progress and messages of one command; download progress comes through
/// the `DownloadReporter` methods.
pub trait Reporter: DownloadReporter {
    /// A step of long work (`resolving …`): worth a spinner or a `-v` line.
    fn step(&self, message: &str);
    /// Something the user should read: a choice made for them, a summary.
    fn info(&self, message: &str);
    /// Something the user should act on, though the command goes on: an
    /// input read in a way they may not expect.
    fn warn(&self, message: &str) {
        self.info(&format!("warning: {message}"));
    }
    /// A detail only `-v` shows: how an input was read (a requirement
    /// whose marker left it out), when nothing needs doing about it.
    fn detail(&self, _message: &str) {}
    /// The command's file is complete at `path` (the artifact, the lock
    /// file): where `--json` summaries read it back, since a project's
    /// `[tool.pyzap]` may have chosen the path.
    fn wrote(&self, _path: &Path) {}
}

/// A reporter that reports nothing (tests, embedding).
pub struct Silent;

impl DownloadReporter for Silent {}

impl Reporter for Silent {
    fn step(&self, _message: &str) {}
    fn info(&self, _message: &str) {}
}
