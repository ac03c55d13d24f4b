//! A relocatable CPython for a standalone executable: a python-build-standalone
//! `install_only` archive (`.tar.gz`, `.tar.zst`), unpacked once into the build
//! cache by content hash, or a directory already laid out like one
//! (`python/bin/python3`, `python/lib/python3.X/`).

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::standalone::elf_arch;
use crate::ArtifactError;

/// A distribution ready to be probed and packed.
#[derive(Debug, Clone)]
pub struct PythonDist {
    /// The directory holding `bin/` and `lib/`.
    pub root: PathBuf,
    /// The interpreter binary relative to `root`, symlinks resolved (`bin/python3.11`).
    pub interpreter: String,
    /// Its architecture, in `std::env::consts::ARCH` words (`x86_64`).
    pub arch: String,
}

impl PythonDist {
    pub fn interpreter_path(&self) -> PathBuf {
        self.root.join(&self.interpreter)
    }
}

fn bad(path: &Path, reason: impl Into<String>) -> ArtifactError {
    ArtifactError::PythonDist {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Opens `input` (an archive or a directory); archives are unpacked into
/// `<cache>/python-dist/<sha256>/` the first time.
pub fn open_python_dist(input: &Path, cache: &Path) -> Result<PythonDist, ArtifactError> {
    let io = |source| ArtifactError::PythonDistIo {
        path: input.to_path_buf(),
        source,
    };
    let meta = fs_err::metadata(input).map_err(io)?;
    let base = if meta.is_dir() {
        input.to_path_buf()
    } else {
        unpack_archive(input, cache)?
    };
    let root = if base.join("python/bin/python3").exists() {
        base.join("python")
    } else if base.join("bin/python3").exists() {
        base
    } else {
        return Err(bad(
            input,
            "no python/bin/python3 (the layout of python-build-standalone's install_only archives)",
        ));
    };
    let link = root.join("bin/python3");
    let real = match fs_err::read_link(&link) {
        Ok(target) if target.is_relative() && target.components().count() == 1 => {
            format!("bin/{}", target.display())
        }
        Ok(target) => {
            return Err(bad(
                input,
                format!("bin/python3 points outside bin/: {}", target.display()),
            ))
        }
        Err(_) => "bin/python3".to_string(),
    };
    let arch = elf_arch(&root.join(&real)).map_err(|why| bad(input, why))?;
    Ok(PythonDist {
        root,
        interpreter: real,
        arch,
    })
}

fn unpack_archive(archive: &Path, cache: &Path) -> Result<PathBuf, ArtifactError> {
    let io = |source| ArtifactError::PythonDistIo {
        path: archive.to_path_buf(),
        source,
    };
    let name = archive.file_name().unwrap_or_default().to_string_lossy();
    let zstd = name.ends_with(".tar.zst") || name.ends_with(".tzst");
    if !zstd && !name.ends_with(".tar.gz") && !name.ends_with(".tgz") {
        return Err(bad(
            archive,
            "expected a .tar.gz or .tar.zst archive, or a directory",
        ));
    }
    let sha = pyzap_fs::sha256_file(archive).map_err(io)?;
    let parent = cache.join("python-dist");
    let dest = parent.join(&sha[..32]);
    let marker = dest.join(crate::COMPLETE_MARKER);
    if marker.exists() {
        return Ok(dest);
    }
    let cache_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ArtifactError::Cache { path, source }
    };
    fs_err::create_dir_all(&parent).map_err(cache_err(&parent))?;
    let tmp = tempfile::Builder::new()
        .prefix(".unpack-")
        .tempdir_in(&parent)
        .map_err(cache_err(&parent))?;
    let file = std::io::BufReader::new(fs_err::File::open(archive).map_err(io)?);
    let reader: Box<dyn Read> = if zstd {
        Box::new(zstd::stream::read::Decoder::new(file).map_err(io)?)
    } else {
        Box::new(flate2::read::GzDecoder::new(file))
    };
    let mut tar = tar::Archive::new(reader);
    tar.set_preserve_mtime(true);
    tar.set_preserve_permissions(true);
    for entry in tar.entries().map_err(io)? {
        let mut entry = entry.map_err(io)?;
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind.is_dir() || kind.is_symlink() || kind.is_hard_link()) {
            continue;
        }
        entry.unpack_in(tmp.path()).map_err(io)?;
    }
    fs_err::File::create(tmp.path().join(crate::COMPLETE_MARKER)).map_err(cache_err(tmp.path()))?;
    let tmp = tmp.keep();
    if fs_err::rename(&tmp, &dest).is_err() {
        // A concurrent build won; use its tree.
        let _ = fs_err::remove_dir_all(&tmp);
        if !marker.exists() {
            return Err(bad(
                archive,
                format!("cannot move the unpacked tree to {}", dest.display()),
            ));
        }
    }
    Ok(dest)
}
