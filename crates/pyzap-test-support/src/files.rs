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

/// The text of `entry` inside the zip (a wheel) at `path`.
pub fn zip_entry_text(path: &Path, entry: &str) -> String {
    use std::io::Read;

    let file = fs_err::File::open(path).expect("open the zip");
    let mut archive = zip::ZipArchive::new(file).expect("a zip");
    let mut text = String::new();
    archive
        .by_name(entry)
        .expect("the entry")
        .read_to_string(&mut text)
        .expect("UTF-8 text");
    text
}

/// `text` with the regex metacharacters a path can hold escaped, for an
/// insta filter that replaces that path (the tests' temporary directories).
pub fn regex_escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Sets the access and modification times of `path` itself to `when` (not
/// of a symlink's target: `utimensat` with `AT_SYMLINK_NOFOLLOW`, which std
/// does not offer), for tests of what is old and what is recent.
pub fn set_times_nofollow(path: &Path, when: std::time::SystemTime) {
    use std::os::unix::ffi::OsStrExt;

    let secs = when
        .duration_since(std::time::SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let stamp = libc::timespec {
        tv_sec: libc::time_t::try_from(secs).unwrap(),
        tv_nsec: 0,
    };
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: `c` is a NUL-terminated path and `times` two valid timespecs.
    let rc = unsafe {
        libc::utimensat(
            libc::AT_FDCWD,
            c.as_ptr(),
            [stamp, stamp].as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    assert_eq!(rc, 0, "utimensat {}", path.display());
}
