//! The CPython 3.8–3.13 interpreters on this machine: pyenv's versions
//! directory first (its shims only work for the global version), then
//! `python3.X` on PATH; each is run once to confirm it works. And the
//! relocatable CPython archive `--standalone` builds take.

use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, Clone)]
pub struct Interpreter {
    pub version: (u32, u32),
    pub path: PathBuf,
}

fn works(path: &std::path::Path, minor: u32) -> bool {
    Command::new(path)
        .args([
            "-S",
            "-c",
            "import sys; print('%d.%d' % sys.version_info[:2])",
        ])
        .output()
        .is_ok_and(|o| {
            o.status.success() && String::from_utf8_lossy(&o.stdout).trim() == format!("3.{minor}")
        })
}

fn pyenv_candidates(minor: u32) -> Vec<PathBuf> {
    let root = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pyenv")));
    let Some(versions) = root.map(|r| r.join("versions")) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = fs_err::read_dir(&versions)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with(&format!("3.{minor}."))
                && name[format!("3.{minor}.").len()..]
                    .chars()
                    .all(|c| c.is_ascii_digit())
        })
        .map(|e| e.path().join(format!("bin/python3.{minor}")))
        .collect();
    found.sort();
    found.reverse(); // newest patch release first
    found
}

fn path_candidate(minor: u32) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(format!("python3.{minor}")))
        .find(|p| p.is_file())
}

/// Finds one working interpreter for 3.`minor`.
fn find(minor: u32) -> Option<Interpreter> {
    pyenv_candidates(minor)
        .into_iter()
        .chain(path_candidate(minor))
        .find(|p| works(p, minor))
        .map(|path| Interpreter {
            version: (3, minor),
            path,
        })
}

/// Every supported CPython (3.8–3.13) that works on this machine.
pub fn interpreters() -> Vec<Interpreter> {
    (8..=13).filter_map(find).collect()
}

/// The interpreter for `version`, or a skip (see [`crate::skip`]).
#[track_caller]
pub fn require(version: (u32, u32)) -> Option<Interpreter> {
    let found = if version.0 == 3 {
        find(version.1)
    } else {
        None
    };
    if found.is_none() {
        crate::skip(&format!(
            "no python{}.{} on this machine",
            version.0, version.1
        ));
    }
    found
}

/// The python-build-standalone `install_only` archive in
/// `../shared/python-dist` beside the checkout (x86_64 Linux, CPython 3.11).
pub fn python_dist() -> PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/python-dist");
    fs_err::read_dir(&dir)
        .expect("../shared/python-dist beside the checkout")
        .map(|e| e.expect("a directory entry").path())
        .find(|p| p.to_string_lossy().ends_with("install_only.tar.gz"))
        .expect("../shared/python-dist holds the CPython fixture")
}

/// Where [`python_dist_mirror`] serves the fixture: release `test` of a
/// python-build-standalone mirror whose base is the server's `/pbs`.
pub fn python_dist_mirror_path() -> String {
    let file = python_dist();
    let name = file.file_name().expect("a file name").to_string_lossy();
    format!("/pbs/test/{name}")
}

/// A python-build-standalone mirror (`PYZAP_PYTHON_MIRROR` = its
/// `/pbs`) holding the fixture at [`python_dist_mirror_path`].
pub fn python_dist_mirror() -> crate::RouteServer {
    let archive = fs_err::read(python_dist()).expect("the CPython fixture");
    crate::RouteServer::start(std::collections::BTreeMap::from([(
        python_dist_mirror_path(),
        crate::Route::file(archive),
    )]))
}

/// `dir/python-downloads.json`, a table in pyzap's format
/// (`PYZAP_PYTHON_DOWNLOADS`) naming the fixture, in release `test`, as
/// the x86_64 glibc CPython `version` that needs glibc `glibc`, with
/// digest `sha256`.
pub fn python_dist_table(dir: &Path, version: &str, glibc: &str, sha256: &str) -> PathBuf {
    let file = python_dist();
    let table = serde_json::json!({
        "base_url": "https://github.invalid/releases/download",
        "downloads": [{
            "version": version, "release": "test", "arch": "x86_64", "libc": "gnu",
            "glibc": glibc, "file": file.file_name().expect("a file name").to_string_lossy(),
            "sha256": sha256,
        }],
    });
    let path = dir.join("python-downloads.json");
    fs_err::write(&path, table.to_string()).expect("the table written");
    path
}
