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
