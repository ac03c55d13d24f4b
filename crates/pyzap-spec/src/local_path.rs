//! Inputs that name something on this machine by its path, as pip reads
//! them: a project directory, a wheel or an sdist, with extras
//! (`./proj[server]`, `.[dev]`) and a marker (`./proj ; os_name == "posix"`),
//! and PEP 723 scripts (`tool.py`).
//!
//! pip's rule (`_looks_like_path` in `req_constructors.py`) decides what is
//! a path: text with a `/` or starting with `.`, or the name of an archive.
//! A bare name is a requirement even when a directory of that name exists;
//! pip reads it the same way, and the caller warns about the directory.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::{ExtraName, MarkerTree, SpecError};

/// What a local path holds, judged by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalKind {
    Wheel,
    Sdist,
    /// A single-file script with PEP 723 inline metadata.
    Script,
    /// A project directory (anything not named like a file above).
    Directory,
}

/// A path input with the extras and marker written after it.
#[derive(Debug, Clone)]
pub struct LocalPath {
    pub path: PathBuf,
    pub extras: Vec<ExtraName>,
    pub marker: MarkerTree,
}

const ARCHIVE_SUFFIXES: [&str; 3] = [".whl", ".tar.gz", ".zip"];

impl LocalPath {
    /// Whether `text` names a path rather than a requirement. `git+` and
    /// other URLs are neither: the caller reads them first.
    pub fn looks_like(text: &str) -> bool {
        let head = split_marker(text).0;
        if head.contains("://") || is_named_reference(head) {
            return false;
        }
        let path = split_extras(head).0;
        path.starts_with('.')
            || path.contains('/')
            || ARCHIVE_SUFFIXES.iter().any(|s| path.ends_with(s))
            || path.ends_with(".py")
    }

    /// Splits `path[extras] ; marker` (both optional).
    pub fn parse(text: &str) -> Result<Self, SpecError> {
        let text = text.trim();
        let invalid = |message: String| SpecError::Requirement {
            text: text.to_string(),
            message,
        };
        let (head, marker_text) = split_marker(text);
        let (path, extras_text) = split_extras(head);
        let extras = match extras_text {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(|e| {
                    ExtraName::from_str(e)
                        .map_err(|_| invalid(format!("`{e}` is not a valid extra name")))
                })
                .collect::<Result<_, _>>()?,
        };
        let marker = match marker_text {
            None => MarkerTree::TRUE,
            Some(marker) => parse_marker(marker).map_err(invalid)?,
        };
        let out = LocalPath {
            path: PathBuf::from(path),
            extras,
            marker,
        };
        if out.kind() == LocalKind::Script && (!out.extras.is_empty() || marker_text.is_some()) {
            return Err(invalid("a script takes no extras or marker".into()));
        }
        Ok(out)
    }

    pub fn kind(&self) -> LocalKind {
        LocalKind::of(&self.path)
    }
}

impl LocalKind {
    /// What `path` holds, by its name.
    pub fn of(path: &Path) -> LocalKind {
        let name = path.to_string_lossy();
        if name.ends_with(".whl") {
            LocalKind::Wheel
        } else if name.ends_with(".tar.gz") || name.ends_with(".zip") {
            LocalKind::Sdist
        } else if name.ends_with(".py") {
            LocalKind::Script
        } else {
            LocalKind::Directory
        }
    }
}

/// `text` and the marker after its first `;`, if any (paths rarely hold one;
/// pip splits the same way).
fn split_marker(text: &str) -> (&str, Option<&str>) {
    match text.split_once(';') {
        Some((head, marker)) => (head.trim(), Some(marker.trim())),
        None => (text.trim(), None),
    }
}

/// `proj[a,b]` into `proj` and `a,b` (pip's `_strip_extras`).
fn split_extras(text: &str) -> (&str, Option<&str>) {
    match text.strip_suffix(']').and_then(|t| t.rsplit_once('[')) {
        Some((path, extras)) if !path.is_empty() => (path.trim_end(), Some(extras)),
        _ => (text, None),
    }
}

/// Whether `text` starts like `name @` or `name[extras] @`: a PEP 508
/// direct reference (`name @ file:///…`), whose URL may hold a `/`.
fn is_named_reference(text: &str) -> bool {
    let Some((before, _)) = text.split_once('@') else {
        return false;
    };
    let before = before.trim();
    let name = split_extras(before).0;
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// A marker, read through the one guarded requirement parser (see
/// `requirement.rs`) as the marker of a stand-in requirement.
fn parse_marker(marker: &str) -> Result<MarkerTree, String> {
    match crate::parse_requirement(&format!("x ; {marker}")) {
        Ok(requirement) => Ok(requirement.marker),
        Err(SpecError::Requirement { message, .. }) => Err(message),
        Err(other) => Err(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_told_from_requirements_by_pips_rule() {
        for path in [
            ".",
            "..",
            ".[server]",
            "./proj",
            "./proj[a,b]",
            "../x",
            "/abs/dir",
            "sub/dir",
            "app-1.0-py3-none-any.whl",
            "six-1.17.0.tar.gz",
            "tool.py",
            "./proj ; os_name == 'posix'",
        ] {
            assert!(LocalPath::looks_like(path), "{path}");
        }
        for requirement in [
            "black",
            "flask>=3",
            "requests[socks]",
            "a.b-c_d",
            "six @ file:///tmp/six-1.17.0-py2.py3-none-any.whl",
            "app[x] @ git+https://h/o/r.git@v1",
            "x; sys_platform == 'a/b'",
            "https://host/app-1.0-py3-none-any.whl",
        ] {
            assert!(!LocalPath::looks_like(requirement), "{requirement}");
        }
    }

    #[test]
    fn extras_and_marker_are_split_off() {
        let p = LocalPath::parse("./proj[server, Dev_Tools]").unwrap();
        assert_eq!(p.path, PathBuf::from("./proj"));
        let extras: Vec<String> = p.extras.iter().map(ToString::to_string).collect();
        assert_eq!(extras, ["server", "dev-tools"]);
        assert_eq!(p.kind(), LocalKind::Directory);
        let p = LocalPath::parse(".[server]").unwrap();
        assert_eq!(p.path, PathBuf::from("."));
        assert_eq!(p.extras.len(), 1);
        let p = LocalPath::parse("./d/app-1.0-py3-none-any.whl ; os_name == 'posix'").unwrap();
        assert_eq!(p.kind(), LocalKind::Wheel);
        assert!(!p.marker.is_true());
        assert_eq!(
            LocalPath::parse("tool.py").unwrap().kind(),
            LocalKind::Script
        );
        assert_eq!(
            LocalPath::parse("./x-1.0.tar.gz").unwrap().kind(),
            LocalKind::Sdist
        );
    }

    #[test]
    fn bad_extras_markers_and_script_options_name_the_input() {
        assert_eq!(
            LocalPath::parse("./proj[a-]").unwrap_err().to_string(),
            "invalid requirement `./proj[a-]`: `a-` is not a valid extra name"
        );
        let err = LocalPath::parse("./proj ; os_name =")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("invalid requirement `./proj ; os_name =`: "),
            "{err}"
        );
        assert_eq!(
            LocalPath::parse("tool.py[x]").unwrap_err().to_string(),
            "invalid requirement `tool.py[x]`: a script takes no extras or marker"
        );
    }
}
