//! The runtime cache of built apps, where artifacts unpack what they need:
//! `pyzap cache list` shows it per app, `pyzap cache prune --runtime`
//! removes what no app has used lately.
//!
//! Its root is the one the runtimes choose (`pyzap_launcher::cache_root`,
//! the rule of `docs/artifact-format.md`, "Runtime cache protocol", step 1,
//! which the bootstrap follows too). Under it:
//!
//! - `site/<extract hash>/`: an extracted site, complete when its marker
//!   `.pyzap-complete` (the artifact's path) is there;
//! - `venv/<16 hex>/`: a bundle's virtual environment for one interpreter,
//!   whose marker `.pyzap-venv` names the interpreter (`executable=`) and
//!   the site tree (`site=`), and is read at every start;
//! - `python/<id>/`: a CPython unpacked by a standalone executable, with
//!   the launcher's marker;
//! - `tmp/`: work of extractions, and leftovers of killed ones.
//!
//! An app is an artifact path: its site trees, the venvs naming them and
//! the interpreters those venvs run. Last use is the newest access or
//! modification time of the files in a tree (updated at most daily under
//! Linux's default `relatime`; the write time on `noatime` mounts).

mod layout;
mod listing;
mod processes;
mod prune;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub use layout::{App, Leftover, Orphan, RuntimeCache, Tree, TreeKind};
pub use processes::{TreeUser, UseReason};
pub use prune::{prune_runtime, RuntimePruned};

use crate::{BundleError, Result};

/// The runtime cache root the apps of this user use, as they choose it
/// (nothing is created).
pub fn runtime_root() -> Result<PathBuf> {
    pyzap_launcher::cache_root().map_err(|source| BundleError::RuntimeRoot { source })
}

/// The runtime cache at `root` (absolute), with the processes using each
/// tree; a root that does not exist is an empty cache. Its `Display` is
/// the listing `pyzap cache list` prints.
pub fn list_runtime(root: &Path) -> Result<RuntimeCache> {
    RuntimeCache::read(root, &processes::Processes::scan()?, SystemTime::now())
}
