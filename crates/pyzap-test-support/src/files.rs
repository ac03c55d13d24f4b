//! Looking at what a test left on disk.

use std::path::{Path, PathBuf};

/// Every regular file below `dir` (none when it does not exist), so a test
/// can check that nothing was written where it must not be.
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs_err::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() && !path.is_symlink() {
            out.extend(files_below(&path));
        } else {
            out.push(path);
        }
    }
    out
}
