//! What an entry name must be beyond staying inside the tree (that is
//! `pyzap_fs::validate_archive_path`): a path the runtime can create on
//! Linux under its cache directory, text that fits on one line of the
//! line-based `boot` file, listed once, and never both a file and a directory.

use std::collections::HashSet;
use std::io::{Read, Seek, SeekFrom};

/// `NAME_MAX` of Linux file systems (ext4, xfs, btrfs, tmpfs).
pub const MAX_COMPONENT_BYTES: usize = 255;
/// A `.py` file also gets `__pycache__/<stem>.<cache tag>.pyc`, 13 bytes
/// longer than its own name for `cpython-3NN` (14 with a `t`): its name is
/// held 16 bytes under `NAME_MAX`, so its bytecode can be written too.
pub const MAX_SOURCE_NAME_BYTES: usize = MAX_COMPONENT_BYTES - 16;
/// Linux `PATH_MAX` is 4096 bytes with the NUL. The runtime creates these
/// paths under its cache root (`$PYZAP_ROOT`, `~/.cache/pyzap`, …) plus
/// `site/<hash>/` or `tmp/<name>/` and, for sources, `__pycache__/…pyc`:
/// a quarter of `PATH_MAX` is left for those.
pub const MAX_PATH_BYTES: usize = 3072;
/// No real project nests this deep; anything deeper is an attack on tools
/// that walk the tree recursively (`shutil.rmtree` holds a descriptor per level).
pub const MAX_DEPTH: usize = 200;

/// Why a name is refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum NameProblem {
    /// A control character (C0, DEL, C1 — `str.splitlines` splits on
    /// several) or U+2028/U+2029, which break the line-based `boot` file.
    Control,
    ComponentTooLong {
        len: usize,
        max: usize,
    },
    TooDeep(usize),
    TooLong(usize),
}

pub(crate) fn check_name(name: &str) -> Result<(), NameProblem> {
    if name
        .chars()
        .any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}')
    {
        return Err(NameProblem::Control);
    }
    if name.len() > MAX_PATH_BYTES {
        return Err(NameProblem::TooLong(name.len()));
    }
    let parts: Vec<&str> = name.trim_end_matches('/').split('/').collect();
    if parts.len() > MAX_DEPTH {
        return Err(NameProblem::TooDeep(parts.len()));
    }
    let last = parts.len() - 1;
    for (i, part) in parts.iter().enumerate() {
        let max = if i == last && !name.ends_with('/') && part.ends_with(".py") {
            MAX_SOURCE_NAME_BYTES
        } else {
            MAX_COMPONENT_BYTES
        };
        if part.len() > max {
            return Err(NameProblem::ComponentTooLong {
                len: part.len(),
                max,
            });
        }
    }
    Ok(())
}

/// The name as it may be shown on one line: control characters escaped.
pub(crate) fn printable(name: &str) -> String {
    name.chars()
        .flat_map(|c| {
            let escape = c.is_control() || c == '\u{2028}' || c == '\u{2029}';
            let shown: Vec<char> = if escape {
                c.escape_unicode().collect()
            } else {
                vec![c]
            };
            shown
        })
        .collect()
}

/// The index (into `paths`) of a file that is also a directory — another
/// path lies under it, or it is listed as a directory (`is_dir`) too.
/// `paths` are `(path, is_dir)` in one install tree; the smallest such path wins.
pub(crate) fn file_dir_clash(paths: &[(String, bool)]) -> Option<usize> {
    let mut dirs: HashSet<&str> = HashSet::new();
    for (path, is_dir) in paths {
        let path = path.trim_end_matches('/');
        if *is_dir {
            dirs.insert(path);
        }
        dirs.extend(path.match_indices('/').map(|(i, _)| &path[..i]));
    }
    paths
        .iter()
        .enumerate()
        .filter(|(_, (path, is_dir))| !is_dir && dirs.contains(path.as_str()))
        .min_by(|a, b| a.1 .0.cmp(&b.1 .0))
        .map(|(i, _)| i)
}

/// The first name the central directory lists twice. The zip library keeps
/// one entry per name, so this walks the directory itself: the
/// fixed 46-byte headers (APPNOTE 4.3.12) with their name, extra and comment.
pub(crate) fn first_duplicate<R: Read + Seek>(mut reader: R, start: u64) -> Option<String> {
    const SIGNATURE: u32 = 0x0201_4b50;
    reader.seek(SeekFrom::Start(start)).ok()?;
    let mut seen: HashSet<Vec<u8>> = HashSet::new();
    loop {
        let mut header = [0u8; 46];
        reader.read_exact(&mut header).ok()?;
        if u32::from_le_bytes(header[0..4].try_into().expect("4 bytes")) != SIGNATURE {
            return None;
        }
        let field = |at: usize| usize::from(u16::from_le_bytes([header[at], header[at + 1]]));
        let mut name = vec![0u8; field(28)];
        reader.read_exact(&mut name).ok()?;
        let skip = (field(30) + field(32)) as i64;
        reader.seek(SeekFrom::Current(skip)).ok()?;
        if seen.contains(&name) {
            return Some(String::from_utf8_lossy(&name).into_owned());
        }
        seen.insert(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_rules() {
        check_name("pkg/mod.py").unwrap();
        check_name(&format!("pkg/{}", "a".repeat(255))).unwrap();
        check_name(&format!("pkg/{}.py", "a".repeat(236))).unwrap();
        assert_eq!(check_name("pkg/a\nb.py"), Err(NameProblem::Control));
        assert_eq!(check_name("pkg/a\u{2028}.py"), Err(NameProblem::Control));
        assert_eq!(check_name("pkg/a\u{85}.py"), Err(NameProblem::Control));
        assert!(matches!(
            check_name(&format!("pkg/{}", "a".repeat(256))),
            Err(NameProblem::ComponentTooLong {
                len: 256,
                max: 255,
                ..
            })
        ));
        assert!(matches!(
            check_name(&format!("pkg/{}.py", "a".repeat(237))),
            Err(NameProblem::ComponentTooLong {
                len: 240,
                max: 239,
                ..
            })
        ));
        assert_eq!(check_name(&"d/".repeat(200)), Ok(()), "200 directories");
        assert_eq!(
            check_name(&format!("{}f", "d/".repeat(200))),
            Err(NameProblem::TooDeep(201))
        );
        let long = format!("{}/f", vec!["a".repeat(200); 16].join("/"));
        assert_eq!(check_name(&long), Err(NameProblem::TooLong(long.len())));
    }

    #[test]
    fn control_characters_are_shown_escaped() {
        assert_eq!(printable("a\nb\u{2028}c"), "a\\u{a}b\\u{2028}c");
    }

    #[test]
    fn clashes() {
        let p = |v: &[(&str, bool)]| -> Vec<(String, bool)> {
            v.iter().map(|(s, d)| (s.to_string(), *d)).collect()
        };
        assert_eq!(file_dir_clash(&p(&[("a/b", false), ("a/c", false)])), None);
        assert_eq!(
            file_dir_clash(&p(&[("a/b/c", false), ("a/b", false)])),
            Some(1)
        );
        assert_eq!(
            file_dir_clash(&p(&[("a/b", false), ("a/b/", true)])),
            Some(0)
        );
        assert_eq!(file_dir_clash(&p(&[("a/b/", true), ("a/", true)])), None);
        assert_eq!(file_dir_clash(&p(&[("ab", false), ("a/b", false)])), None);
    }
}
