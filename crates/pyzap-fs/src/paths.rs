//! Archive member paths are untrusted input: these checks refuse absolute
//! paths, `..`, drive letters and backslash tricks before anything is joined.

use std::path::{Path, PathBuf};

use crate::FsError;

/// Checks that `name` (a `/`-separated archive member path) stays inside its tree.
pub fn validate_archive_path(name: &str) -> Result<(), FsError> {
    let escape = |reason| FsError::Escape {
        path: name.to_string(),
        reason,
    };
    if name.is_empty() {
        return Err(escape("empty path"));
    }
    if name.starts_with('/') || name.starts_with('\\') {
        return Err(escape("absolute path"));
    }
    if name.contains('\\') {
        return Err(escape("backslash in path"));
    }
    if name.contains('\0') {
        return Err(escape("NUL byte in path"));
    }
    if name.len() >= 2 && name.as_bytes()[1] == b':' {
        return Err(escape("drive letter"));
    }
    for part in name.trim_end_matches('/').split('/') {
        match part {
            ".." => return Err(escape("`..` component")),
            "" | "." => return Err(escape("empty or `.` component")),
            _ => {}
        }
    }
    Ok(())
}

/// Joins a validated archive path onto `root`.
pub fn safe_join(root: &Path, name: &str) -> Result<PathBuf, FsError> {
    validate_archive_path(name)?;
    Ok(root.join(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_escapes() {
        for bad in [
            "",
            "/etc/passwd",
            "a/../../x",
            "..",
            "a\\..\\b",
            "C:/x",
            "a//b",
            "./a",
        ] {
            assert!(validate_archive_path(bad).is_err(), "{bad:?}");
        }
        for good in ["a", "a/b.py", "pkg-1.0.dist-info/RECORD", "a/b/"] {
            validate_archive_path(good).unwrap();
        }
    }
}
