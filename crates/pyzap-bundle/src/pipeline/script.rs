//! PEP 723 single-file scripts (`pyzap build tool.py`): the script's inline
//! metadata gives the requirements, and the script itself becomes the
//! artifact's entry script, run as `__main__` exactly as the `__main__.py`
//! of a `--src` directory is.

use std::path::{Path, PathBuf};

use pyzap_spec::{Requirement, ScriptMetadata, Target, VersionSpecifiers};

use crate::{BundleError, Result};

/// A script input: its text, and the Python it asks for.
#[derive(Debug)]
pub(crate) struct Script {
    pub(crate) path: PathBuf,
    /// The file as it is (Python reads its own coding declaration).
    pub(crate) source: Vec<u8>,
    pub(crate) requires_python: Option<VersionSpecifiers>,
}

/// Reads `path` and its `# /// script` block; the block's dependencies
/// are returned for the caller to sort with the other requirements.
pub(crate) fn read(path: &Path) -> Result<(Script, Vec<Requirement>)> {
    let source = fs_err::read(path)?;
    // PEP 723 metadata is UTF-8; the rest of the file is Python's business.
    let metadata = ScriptMetadata::parse(&String::from_utf8_lossy(&source))
        .map_err(|source| BundleError::ScriptMetadata {
            path: path.to_path_buf(),
            source,
        })?
        .unwrap_or_default();
    let script = Script {
        path: path.to_path_buf(),
        source,
        requires_python: metadata.requires_python,
    };
    Ok((script, metadata.dependencies))
}

impl Script {
    /// Refuses a target outside the script's `requires-python`.
    pub(crate) fn check_python(&self, target: &Target) -> Result<()> {
        let Some(spec) = &self.requires_python else {
            return Ok(());
        };
        let python = &target.markers.python_full_version().version;
        if spec.contains(python) {
            return Ok(());
        }
        Err(BundleError::ScriptPython {
            path: self.path.clone(),
            requires_python: spec.to_string(),
            python: python.to_string(),
        })
    }
}
