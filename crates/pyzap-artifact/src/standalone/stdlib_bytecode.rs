//! Bytecode for a distribution's stdlib, when it ships none (Debian-derived
//! trees, stripped archives): without it every start of a standalone
//! executable recompiles each stdlib module it imports wherever bytecode
//! cannot be written (`PYTHONDONTWRITEBYTECODE=1`, read-only caches).
//! Compiled once per distribution and bytecode format into the build cache.

use std::path::{Path, PathBuf};

use crate::standalone::PythonDist;
use crate::{ArtifactError, BytecodeCompiler};

/// Compiles every stdlib module of `dist` that has no `__pycache__` entry for
/// `compiler`'s cache tag; returns a directory laid out like the distribution
/// holding only the new `.pyc` files.
pub fn precompile_stdlib(
    dist: &PythonDist,
    compiler: &dyn BytecodeCompiler,
    cache: &Path,
) -> Result<PathBuf, ArtifactError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source: std::io::Error| ArtifactError::PythonDistIo { path, source }
    };
    let tag = compiler.cache_tag();
    let mut missing: Vec<(String, PathBuf)> = Vec::new();
    let mut key = format!("stdlib-bytecode-1 {tag} {}\n", compiler.identity());
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
        if !entry.file_type().is_file() || !rel.ends_with(".py") || rel.contains("/site-packages/")
        {
            continue;
        }
        let pyc = pyc_rel(&rel, tag);
        if dist.root.join(&pyc).exists() {
            continue;
        }
        let meta = entry.metadata().map_err(|e| io(path)(e.into()))?;
        key.push_str(&format!("{rel} {}\n", meta.len()));
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
        let dest = tmp.path().join(pyc_rel(rel, tag));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pyc_paths() {
        assert_eq!(
            pyc_rel("lib/python3.11/json/decoder.py", "cpython-311"),
            "lib/python3.11/json/__pycache__/decoder.cpython-311.pyc"
        );
    }
}
