//! Bytecode for a distribution's stdlib, compiled once per distribution
//! and bytecode format into the build cache, in one of two layouts:
//!
//! - beside the sources, for the modules the distribution ships no bytecode
//!   for (Debian-derived trees, stripped archives): without it every start
//!   of a standalone executable recompiles each stdlib module it imports
//!   wherever bytecode cannot be written (`PYTHONDONTWRITEBYTECODE=1`,
//!   read-only caches);
//! - instead of the sources (the default of standalone executables): every
//!   module as a sourceless `X.pyc` where `X.py` was, which CPython imports
//!   without the source. The sources are a third of the packed CPython and
//!   half its files; without them tracebacks through stdlib frames show the
//!   file and line but not the line's text. The distribution's own bytecode
//!   is not used for this: its code objects name the paths of the machine
//!   that built it, which a sourceless import does not correct, where ours
//!   name the file relative to the distribution (`lib/python3.11/json/decoder.py`).

use std::path::{Path, PathBuf};

use crate::standalone::payload::stripped;
use crate::standalone::PythonDist;
use crate::{ArtifactError, BytecodeCompiler};

/// Where the stdlib's bytecode goes, relative to its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StdlibBytecode {
    /// `__pycache__/X.<tag>.pyc`, only for modules without one.
    BesideSources,
    /// `X.pyc` for every module, to be shipped without `X.py`.
    InsteadOfSources,
}

/// Compiles the stdlib modules of `dist` that `layout` asks for (with
/// `strip_stdlib`, not those the payload leaves out); returns a directory
/// laid out like the distribution holding only the new `.pyc` files.
pub fn precompile_stdlib(
    dist: &PythonDist,
    compiler: &dyn BytecodeCompiler,
    cache: &Path,
    layout: StdlibBytecode,
    strip_stdlib: bool,
) -> Result<PathBuf, ArtifactError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source: std::io::Error| ArtifactError::PythonDistIo { path, source }
    };
    let tag = compiler.cache_tag();
    let mut missing: Vec<(String, PathBuf)> = Vec::new();
    let mut key = match layout {
        StdlibBytecode::BesideSources => {
            format!("stdlib-bytecode-1 {tag} {}\n", compiler.identity())
        }
        StdlibBytecode::InsteadOfSources => format!(
            "stdlib-sourceless-1 {tag} {} strip={strip_stdlib}\n",
            compiler.identity()
        ),
    };
    let lib = dist.root.join("lib");
    for entry in walkdir::WalkDir::new(&lib).sort_by_file_name() {
        let entry = entry.map_err(|e| ArtifactError::PythonDistIo {
            path: lib.clone(),
            source: e.into(),
        })?;
        let path = entry.path();
        let rel = path
            .strip_prefix(&dist.root)
            .expect("walkdir stays under its root")
            .to_string_lossy()
            .into_owned();
        if !rel.ends_with(".py") || rel.contains("/site-packages/") {
            continue;
        }
        // A module under a second name (Debian links
        // `_sysconfigdata__linux_x86_64-linux-gnu.py` to the multiarch one)
        // gets bytecode too: without its source the link would dangle.
        let is_file = entry.file_type().is_file()
            || (entry.file_type().is_symlink() && path.is_file() && inside(path, &dist.root));
        if !is_file {
            continue;
        }
        let meta = entry.metadata().map_err(|e| io(path)(e.into()))?;
        match layout {
            StdlibBytecode::BesideSources => {
                if dist.root.join(pyc_rel(&rel, tag)).exists() {
                    continue;
                }
                key.push_str(&format!("{rel} {}\n", meta.len()));
            }
            StdlibBytecode::InsteadOfSources => {
                if strip_stdlib && stripped(&rel, tag) {
                    continue;
                }
                let mtime = meta
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                key.push_str(&format!("{rel} {} {mtime}\n", meta.len()));
            }
        }
        missing.push((rel, path.to_path_buf()));
    }
    let out = cache
        .join("python-dist-bytecode")
        .join(&pyzap_fs::sha256_hex(key.as_bytes())[..32]);
    if out.join(".complete").exists() || missing.is_empty() {
        return Ok(out);
    }
    let mut sources = Vec::with_capacity(missing.len());
    for (rel, path) in &missing {
        sources.push((rel.clone(), fs_err::read(path).map_err(io(path))?));
    }
    let compiled = compiler
        .compile(&sources)
        .map_err(|e| ArtifactError::Bytecode(e.to_string()))?;
    let parent = out.parent().expect("cache subdirectory");
    fs_err::create_dir_all(parent).map_err(io(parent))?;
    let tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempdir_in(parent)
        .map_err(io(parent))?;
    for ((rel, _), pyc) in missing.iter().zip(compiled) {
        // Sources that do not compile (lib2to3 fixtures, py2 examples) get none, as compileall does.
        let Some(pyc) = pyc else { continue };
        let dest = tmp.path().join(match layout {
            StdlibBytecode::BesideSources => pyc_rel(rel, tag),
            StdlibBytecode::InsteadOfSources => sourceless_rel(rel),
        });
        let dir = dest.parent().expect("pyc has a directory");
        fs_err::create_dir_all(dir).map_err(io(dir))?;
        fs_err::write(&dest, pyc).map_err(io(&dest))?;
    }
    fs_err::write(tmp.path().join(".complete"), b"").map_err(io(tmp.path()))?;
    let staged = tmp.keep();
    if let Err(e) = fs_err::rename(&staged, &out) {
        // Another build finished first; its copy is as good as ours.
        let _ = fs_err::remove_dir_all(&staged);
        if !out.join(".complete").exists() {
            return Err(io(&out)(e));
        }
    }
    Ok(out)
}

/// `lib/python3.11/json/decoder.py` → `lib/python3.11/json/__pycache__/decoder.cpython-311.pyc`
fn pyc_rel(rel: &str, tag: &str) -> String {
    let stem = rel.strip_suffix(".py").unwrap_or(rel);
    match stem.rsplit_once('/') {
        Some((dir, file)) => format!("{dir}/__pycache__/{file}.{tag}.pyc"),
        None => format!("__pycache__/{stem}.{tag}.pyc"),
    }
}

/// Whether the link `path` resolves to a file below `root` (the payload
/// leaves out links that leave the tree).
fn inside(path: &Path, root: &Path) -> bool {
    match (fs_err::canonicalize(path), fs_err::canonicalize(root)) {
        (Ok(target), Ok(root)) => target.starts_with(root),
        _ => false,
    }
}

/// `lib/python3.11/json/decoder.py` → `lib/python3.11/json/decoder.pyc`
pub(crate) fn sourceless_rel(rel: &str) -> String {
    format!("{}.pyc", rel.strip_suffix(".py").unwrap_or(rel))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pyc_paths() {
        assert_eq!(
            pyc_rel("lib/python3.11/json/decoder.py", "cpython-311"),
            "lib/python3.11/json/__pycache__/decoder.cpython-311.pyc"
        );
        assert_eq!(
            sourceless_rel("lib/python3.11/json/decoder.py"),
            "lib/python3.11/json/decoder.pyc"
        );
    }
}
