//! Helpers the fuzz targets share: a scratch directory for the parsers that
//! read files, and cutting one input into the several texts a target needs.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A directory of this fuzzing process's own. It lives in a `static`, which
/// is never dropped, so it stays behind in the temporary directory; one per
/// process, emptied of everything but the last input by the targets.
pub fn scratch_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        tempfile::Builder::new()
            .prefix("pyzap-fuzz-")
            .tempdir()
            .expect("a scratch directory")
    })
    .path()
}

/// Writes `bytes` as `name` in the scratch directory and returns its path.
pub fn scratch_file(name: &str, bytes: &[u8]) -> PathBuf {
    let path = scratch_dir().join(name);
    fs_err::write(&path, bytes).expect("the scratch file is writable");
    path
}

/// Cuts `data` at NUL bytes into `N` sections: missing ones are empty, the
/// last one keeps any further NULs. Seeds are the texts joined with `\0`.
pub fn sections<const N: usize>(data: &[u8]) -> [&[u8]; N] {
    let mut out = [&data[..0]; N];
    let mut rest = data;
    for (i, slot) in out.iter_mut().enumerate() {
        if i + 1 == N {
            *slot = rest;
            break;
        }
        match rest.iter().position(|b| *b == 0) {
            Some(p) => {
                *slot = &rest[..p];
                rest = &rest[p + 1..];
            }
            None => {
                *slot = rest;
                rest = &rest[rest.len()..];
            }
        }
    }
    out
}

/// The input as text, or `None` when it is not UTF-8 (the callers read
/// their files with `read_to_string`, which refuses those before parsing).
pub fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}
