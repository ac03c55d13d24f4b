//! Which running processes use a tree, read from `/proc`.
//!
//! A process uses a tree when a path it holds is under the tree: a file it
//! maps (`/proc/<pid>/maps`: an extension module, a shared library), a file
//! it has open (`fd/`), its working directory (`cwd`), its executable
//! (`exe`: a standalone app's CPython), a path on its command line (a
//! venv's `bin/python`, a console script), or an entry of `PYZAP_SITE` in
//! the environment it was started with (`environ`: a child of a bundle).
//! It also uses every tree of an app whose artifact its command line names:
//! the bundle's own process (`python app.pyz`) shows none of the above when
//! its extracted code is pure Python (imports read files and close them).
//!
//! Other users' processes are unreadable without root and are skipped; they
//! cannot use a private cache anyway. `maps`, `fd` and `cwd` follow renames,
//! so a tree moved aside is still seen under its new name.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use crate::{BundleError, Result};

/// Why a process counts as a user of a tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum UseReason {
    /// Its command line names the artifact that wrote the tree.
    RunsArtifact,
    /// Its executable is in the tree.
    Executable,
    /// It maps a file of the tree.
    Mapped,
    /// It has a file of the tree open.
    OpenFile,
    /// Its working directory is in the tree.
    WorkingDirectory,
    /// Its command line names a path in the tree.
    CommandLine,
    /// Its `PYZAP_SITE` names a path in the tree.
    Environment,
}

impl UseReason {
    /// A few words for listings.
    pub fn describe(self) -> &'static str {
        match self {
            UseReason::RunsArtifact => "runs the artifact",
            UseReason::Executable => "executable",
            UseReason::Mapped => "maps a file",
            UseReason::OpenFile => "has a file open",
            UseReason::WorkingDirectory => "working directory",
            UseReason::CommandLine => "command line",
            UseReason::Environment => "PYZAP_SITE",
        }
    }
}

/// A process that uses a tree, and the first reason found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeUser {
    pub pid: u32,
    /// Its name (`/proc/<pid>/comm`).
    pub command: String,
    pub reason: UseReason,
}

/// One process: the paths it holds, each with the reason it holds it.
struct Process {
    pid: u32,
    command: String,
    paths: Vec<(PathBuf, UseReason)>,
}

/// A snapshot of the processes `/proc` shows us.
pub(crate) struct Processes {
    list: Vec<Process>,
}

impl Processes {
    /// Reads every process of `/proc`; fails when `/proc` is not there,
    /// since nothing could then be said about which trees are in use.
    pub(crate) fn scan() -> Result<Self> {
        let proc = Path::new("/proc");
        let table = |source| BundleError::ProcessTable { source };
        // An empty directory where procfs is not mounted would look like a
        // machine where nothing runs.
        fs_err::read_link(proc.join("self/exe")).map_err(table)?;
        let mut list = Vec::new();
        for entry in fs_err::read_dir(proc).map_err(table)? {
            let entry = entry.map_err(table)?;
            let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
                continue;
            };
            if let Some(process) = read_process(&entry.path(), pid) {
                list.push(process);
            }
        }
        Ok(Processes { list })
    }

    /// The processes using the tree spelled `spellings` (its path, and the
    /// same tree through another spelling of the root or where it was moved
    /// aside), or running one of `artifacts`; one entry per process.
    pub(crate) fn users(&self, spellings: &[PathBuf], artifacts: &[PathBuf]) -> Vec<TreeUser> {
        let mut users = Vec::new();
        for process in &self.list {
            let reason = process
                .paths
                .iter()
                .filter_map(|(path, reason)| {
                    if *reason == UseReason::CommandLine && artifacts.contains(path) {
                        Some(UseReason::RunsArtifact)
                    } else {
                        spellings
                            .iter()
                            .any(|tree| path.starts_with(tree))
                            .then_some(*reason)
                    }
                })
                .min();
            if let Some(reason) = reason {
                users.push(TreeUser {
                    pid: process.pid,
                    command: process.command.clone(),
                    reason,
                });
            }
        }
        users
    }
}

/// What `/proc/<pid>` (`dir`) says; `None` for a process that is gone or
/// not ours to read.
fn read_process(dir: &Path, pid: u32) -> Option<Process> {
    let command = fs_err::read_to_string(dir.join("comm")).ok()?;
    let mut paths = Vec::new();
    let cwd = fs_err::read_link(dir.join("cwd")).ok();
    if let Some(cwd) = &cwd {
        paths.push((cwd.clone(), UseReason::WorkingDirectory));
    }
    if let Ok(exe) = fs_err::read_link(dir.join("exe")) {
        paths.push((exe, UseReason::Executable));
    }
    if let Ok(maps) = fs_err::read(dir.join("maps")) {
        for line in maps.split(|&b| b == b'\n') {
            if let Some(path) = mapped_path(line) {
                paths.push((PathBuf::from(OsStr::from_bytes(path)), UseReason::Mapped));
            }
        }
    }
    if let Ok(fds) = fs_err::read_dir(dir.join("fd")) {
        for fd in fds.flatten() {
            if let Ok(target) = fs_err::read_link(fd.path()) {
                if target.is_absolute() {
                    paths.push((target, UseReason::OpenFile));
                }
            }
        }
    }
    if let Ok(cmdline) = fs_err::read(dir.join("cmdline")) {
        for arg in cmdline.split(|&b| b == 0) {
            if arg.is_empty() || arg.starts_with(b"-") {
                continue;
            }
            let arg = Path::new(OsStr::from_bytes(arg));
            let path = match &cwd {
                _ if arg.is_absolute() => normalize(arg),
                Some(cwd) => normalize(&cwd.join(arg)),
                None => continue,
            };
            push_spellings(&mut paths, path, UseReason::CommandLine);
        }
    }
    if let Ok(environ) = fs_err::read(dir.join("environ")) {
        for var in environ.split(|&b| b == 0) {
            let Some(value) = var.strip_prefix(b"PYZAP_SITE=") else {
                continue;
            };
            for entry in value.split(|&b| b == b':').filter(|e| e.starts_with(b"/")) {
                let path = normalize(Path::new(OsStr::from_bytes(entry)));
                push_spellings(&mut paths, path, UseReason::Environment);
            }
        }
    }
    paths.sort();
    paths.dedup();
    Some(Process {
        pid,
        command: command.trim_end().to_string(),
        paths,
    })
}

/// `path`, and its real path when that differs: command lines and
/// `PYZAP_SITE` hold paths as written, through symlinks.
fn push_spellings(paths: &mut Vec<(PathBuf, UseReason)>, path: PathBuf, reason: UseReason) {
    match fs_err::canonicalize(&path) {
        Ok(real) if real != path => paths.push((real, reason)),
        _ => {}
    }
    paths.push((path, reason));
}

/// The path of one line of `/proc/<pid>/maps`
/// (`address perms offset dev inode path`), when it maps a file.
fn mapped_path(line: &[u8]) -> Option<&[u8]> {
    let mut rest = line;
    for _ in 0..5 {
        rest = rest.trim_ascii_start();
        let end = rest.iter().position(u8::is_ascii_whitespace)?;
        rest = &rest[end..];
    }
    let path = rest.trim_ascii_start();
    path.starts_with(b"/").then_some(path)
}

/// `path` without `.` and `..` components, as Python's `os.path.abspath`
/// leaves the paths the bootstrap writes; nothing is read.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_lines_give_their_file_paths() {
        let line = b"7f1c2a000000-7f1c2a021000 r--p 00000000 fd:01 1234    /c/site/ab/_speedups.cpython-311-x86_64-linux-gnu.so";
        assert_eq!(
            mapped_path(line),
            Some(&b"/c/site/ab/_speedups.cpython-311-x86_64-linux-gnu.so"[..])
        );
        let spaced =
            b"7f1c2a000000-7f1c2a021000 r--p 00000000 fd:01 1234    /c/my dir/lib.so (deleted)";
        assert_eq!(
            mapped_path(spaced),
            Some(&b"/c/my dir/lib.so (deleted)"[..])
        );
        assert_eq!(
            mapped_path(b"7ffd1000-7ffd2000 rw-p 00000000 00:00 0    [stack]"),
            None
        );
        assert_eq!(
            mapped_path(b"7ffd1000-7ffd2000 rw-p 00000000 00:00 0"),
            None
        );
    }

    #[test]
    fn normalize_is_lexical() {
        assert_eq!(normalize(Path::new("/a/./b/../c")), Path::new("/a/c"));
        assert_eq!(normalize(Path::new("/a//b/")), Path::new("/a/b"));
    }

    /// This very process is in the table, with its working directory and
    /// executable, so a tree holding either is in use.
    #[test]
    fn the_scan_sees_this_process() {
        let processes = Processes::scan().unwrap();
        let exe = std::env::current_exe().unwrap();
        let users = processes.users(&[exe.parent().unwrap().to_path_buf()], &[]);
        let me = users
            .iter()
            .find(|u| u.pid == std::process::id())
            .expect("this test process uses the directory of its executable");
        assert_eq!(me.reason, UseReason::Executable);
        let elsewhere = processes.users(&[PathBuf::from("/nonexistent/pyzap-tree")], &[]);
        assert!(elsewhere.is_empty(), "{elsewhere:?}");
    }
}
