//! `--find-links` directories: every wheel and sdist in them, grouped by
//! normalised project name. Files whose names do not parse are ignored, as
//! pip ignores them.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use pyzap_spec::{Metadata, PackageName, Version, WheelFilename};

use crate::{parse_sdist_filename, IndexError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DistKind {
    Wheel(WheelFilename),
    Sdist,
}

/// One distribution file on offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistFile {
    pub name: PackageName,
    pub version: Version,
    pub filename: String,
    pub path: PathBuf,
    pub kind: DistKind,
}

impl DistFile {
    pub fn wheel(&self) -> Option<&WheelFilename> {
        match &self.kind {
            DistKind::Wheel(w) => Some(w),
            DistKind::Sdist => None,
        }
    }

    /// Reads the core metadata of an sdist from its `PKG-INFO` (reliable for
    /// dependencies from metadata 2.2 on, unless `Requires-Dist` is dynamic;
    /// older sdists are re-read after they are built).
    pub fn sdist_metadata(&self) -> Result<Metadata, IndexError> {
        let text = read_sdist_pkg_info(&self.path)?;
        Metadata::parse(&text).map_err(|source| IndexError::BadMetadata {
            path: self.path.clone(),
            source,
        })
    }

    /// Reads the core metadata of a wheel from its `.dist-info/METADATA`.
    pub fn wheel_metadata(&self) -> Result<Metadata, IndexError> {
        let text = read_wheel_metadata(&self.path)?;
        Metadata::parse(&text).map_err(|source| IndexError::BadMetadata {
            path: self.path.clone(),
            source,
        })
    }
}

/// The files of all find-links directories.
#[derive(Debug, Default)]
pub struct FindLinks {
    pub dirs: Vec<PathBuf>,
    by_name: BTreeMap<PackageName, Vec<DistFile>>,
}

impl FindLinks {
    pub fn scan(dirs: &[PathBuf]) -> Result<Self, IndexError> {
        let mut out = FindLinks {
            dirs: dirs.to_vec(),
            ..Default::default()
        };
        for dir in dirs {
            if !dir.is_dir() {
                return Err(IndexError::NotADirectory(dir.clone()));
            }
            let entries = fs_err::read_dir(dir).map_err(|source| IndexError::Io {
                path: dir.clone(),
                source,
            })?;
            for entry in entries.flatten() {
                let path = entry.path();
                let Some(filename) = path.file_name().and_then(|f| f.to_str()) else {
                    continue;
                };
                if let Some(file) = classify(filename, &path) {
                    out.by_name.entry(file.name.clone()).or_default().push(file);
                }
            }
        }
        for files in out.by_name.values_mut() {
            files.sort_by(|a, b| a.filename.cmp(&b.filename));
        }
        Ok(out)
    }

    /// Adds one local file given directly (a `.whl` path on the command line).
    pub fn add_file(&mut self, path: &Path) -> Option<&DistFile> {
        let filename = path.file_name()?.to_str()?;
        let file = classify(filename, path)?;
        let list = self.by_name.entry(file.name.clone()).or_default();
        list.push(file);
        list.last()
    }

    pub fn files(&self, name: &PackageName) -> &[DistFile] {
        self.by_name.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn names(&self) -> impl Iterator<Item = &PackageName> {
        self.by_name.keys()
    }
}

fn classify(filename: &str, path: &Path) -> Option<DistFile> {
    if filename.ends_with(".whl") {
        let wheel: WheelFilename = filename.parse().ok()?;
        return Some(DistFile {
            name: wheel.name.clone(),
            version: wheel.version.clone(),
            filename: filename.to_string(),
            path: path.to_path_buf(),
            kind: DistKind::Wheel(wheel),
        });
    }
    let (name, version) = parse_sdist_filename(filename)?;
    Some(DistFile {
        name,
        version,
        filename: filename.to_string(),
        path: path.to_path_buf(),
        kind: DistKind::Sdist,
    })
}

/// The text of `<top>/PKG-INFO` in a `.tar.gz` sdist.
fn read_sdist_pkg_info(path: &Path) -> Result<String, IndexError> {
    let io = |source| IndexError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = fs_err::File::open(path).map_err(io)?;
    if !path.to_string_lossy().ends_with(".tar.gz") {
        return Err(IndexError::NoMetadata {
            path: path.to_path_buf(),
        });
    }
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    for entry in archive.entries().map_err(io)? {
        let mut entry = entry.map_err(io)?;
        let name = entry.path().map_err(io)?.to_string_lossy().into_owned();
        if name.matches('/').count() == 1 && name.ends_with("/PKG-INFO") {
            let mut text = String::new();
            entry.read_to_string(&mut text).map_err(io)?;
            return Ok(text);
        }
    }
    Err(IndexError::NoMetadata {
        path: path.to_path_buf(),
    })
}

/// The text of the wheel's `*.dist-info/METADATA` (exactly one must exist at the top level).
pub(crate) fn read_wheel_metadata(path: &Path) -> Result<String, IndexError> {
    let file = fs_err::File::open(path).map_err(|source| IndexError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|source| {
        IndexError::BadWheel {
            path: path.to_path_buf(),
            source,
        }
    })?;
    let names: Vec<String> = archive
        .file_names()
        .filter_map(|n| n.ok())
        .filter(|n| {
            n.ends_with("/METADATA")
                && n.matches('/').count() == 1
                && n.split('/')
                    .next()
                    .is_some_and(|d| d.ends_with(".dist-info"))
        })
        .map(|n| n.to_string())
        .collect();
    let [name] = names.as_slice() else {
        return Err(IndexError::NoMetadata {
            path: path.to_path_buf(),
        });
    };
    let mut text = String::new();
    archive
        .by_name(name)
        .map_err(|source| IndexError::BadWheel {
            path: path.to_path_buf(),
            source,
        })?
        .read_to_string(&mut text)
        .map_err(|source| IndexError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_and_groups_by_normalised_name() {
        let tmp = tempfile::tempdir().unwrap();
        for f in [
            "PyYAML-6.0.3-cp311-cp311-linux_x86_64.whl",
            "pyyaml-6.0.2.tar.gz",
            "README.md",
            "bad-name.whl",
        ] {
            fs_err::write(tmp.path().join(f), b"").unwrap();
        }
        let fl = FindLinks::scan(&[tmp.path().to_path_buf()]).unwrap();
        let files = fl.files(&"pyyaml".parse().unwrap());
        assert_eq!(files.len(), 2);
        assert_eq!(fl.names().count(), 1);
        let err = FindLinks::scan(&[tmp.path().join("nope")]).unwrap_err();
        assert!(err.to_string().contains("is not a directory"));
    }
}
