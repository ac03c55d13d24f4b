//! `--find-links` directories: every wheel and sdist in them, grouped by
//! normalised project name. Files whose names do not parse are ignored, as
//! pip ignores them.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use pyzap_spec::{Metadata, PackageName, Version, VersionSpecifiers, WheelFilename};

use crate::{parse_sdist_filename, IndexError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DistKind {
    Wheel(WheelFilename),
    Sdist,
}

/// Where a distribution file lives: on disk (a find-links directory, a
/// wheel given on the command line) or at a URL (an index, a find-links page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileLocation {
    Path(PathBuf),
    Url(url::Url),
}

/// One distribution file on offer, with what the index says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistFile {
    pub name: PackageName,
    pub version: Version,
    pub filename: String,
    pub location: FileLocation,
    pub kind: DistKind,
    /// The index's sha256 digest (hex), when it gave one.
    pub sha256: Option<String>,
    /// `data-requires-python` / `requires-python` (PEP 503/691).
    pub requires_python: Option<VersionSpecifiers>,
    /// PEP 592: `Some(reason)` (possibly empty) when the file is yanked.
    pub yanked: Option<String>,
    /// PEP 658/714: the index serves `<url>.metadata`, with this sha256 when given.
    pub core_metadata: Option<Option<String>>,
}

impl DistFile {
    pub fn wheel(&self) -> Option<&WheelFilename> {
        match &self.kind {
            DistKind::Wheel(w) => Some(w),
            DistKind::Sdist => None,
        }
    }

    /// The file on disk, for files that are local.
    pub fn local_path(&self) -> Option<&Path> {
        match &self.location {
            FileLocation::Path(p) => Some(p),
            FileLocation::Url(_) => None,
        }
    }

    /// The location as shown to a person: a path, or a URL without credentials.
    pub fn display_location(&self) -> String {
        match &self.location {
            FileLocation::Path(p) => p.display().to_string(),
            FileLocation::Url(u) => crate::http::redact(u),
        }
    }

    /// A local file as found in a directory (no index facts).
    pub fn from_path(path: &Path) -> Option<DistFile> {
        let filename = path.file_name()?.to_str()?;
        classify(filename, FileLocation::Path(path.to_path_buf()))
    }

    /// Reads the core metadata of a local sdist from its `PKG-INFO` (reliable
    /// for dependencies from metadata 2.2 on, unless `Requires-Dist` is
    /// dynamic; older sdists are re-read after they are built).
    pub fn sdist_metadata(&self) -> Result<Metadata, IndexError> {
        let path = self.require_local()?;
        let text = read_sdist_pkg_info(path)?;
        Metadata::parse(&text).map_err(|source| IndexError::BadMetadata {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Reads the core metadata of a local wheel from its `.dist-info/METADATA`.
    pub fn wheel_metadata(&self) -> Result<Metadata, IndexError> {
        let path = self.require_local()?;
        let text = read_wheel_metadata(path)?;
        Metadata::parse(&text).map_err(|source| IndexError::BadMetadata {
            path: path.to_path_buf(),
            source,
        })
    }

    fn require_local(&self) -> Result<&Path, IndexError> {
        self.local_path()
            .ok_or_else(|| IndexError::NotLocal(self.display_location()))
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
                if let Some(file) = DistFile::from_path(&entry.path()) {
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
        let file = DistFile::from_path(path)?;
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

/// A file named like a wheel or sdist, with no index facts yet; `None` for
/// names that do not parse (pip ignores those too).
pub(crate) fn classify(filename: &str, location: FileLocation) -> Option<DistFile> {
    // The name becomes a path in the cache: it must be one plain component.
    if !is_single_component(filename) {
        return None;
    }
    let (name, version, kind) = if filename.ends_with(".whl") {
        let wheel: WheelFilename = filename.parse().ok()?;
        (
            wheel.name.clone(),
            wheel.version.clone(),
            DistKind::Wheel(wheel),
        )
    } else {
        let (name, version) = parse_sdist_filename(filename)?;
        (name, version, DistKind::Sdist)
    };
    Some(DistFile {
        name,
        version,
        filename: filename.to_string(),
        location,
        kind,
        sha256: None,
        requires_python: None,
        yanked: None,
        core_metadata: None,
    })
}

/// Whether `name` can be used as one file name: not empty, not `.`/`..`, no
/// separator, no control character.
pub(crate) fn is_single_component(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name.len() <= 255
        && !name
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control())
}

/// The text of `<top>/PKG-INFO` in a `.tar.gz` sdist.
pub(crate) fn read_sdist_pkg_info(path: &Path) -> Result<String, IndexError> {
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

/// The most core metadata read from one wheel.
const METADATA_LIMIT: u64 = 32 * 1024 * 1024;

/// The text of the wheel's `*.dist-info/METADATA` (exactly one must exist at the top level).
pub(crate) fn read_wheel_metadata(path: &Path) -> Result<String, IndexError> {
    let file = fs_err::File::open(path).map_err(|source| IndexError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read_wheel_metadata_from(std::io::BufReader::new(file), path)
}

/// The same, from any seekable reader (a local file, or range requests on a
/// remote wheel); `path` names the wheel in errors.
pub(crate) fn read_wheel_metadata_from<R: std::io::Read + std::io::Seek>(
    reader: R,
    path: &Path,
) -> Result<String, IndexError> {
    let mut archive = zip::ZipArchive::new(reader).map_err(|source| IndexError::BadWheel {
        path: path.to_path_buf(),
        source,
    })?;
    let names: Vec<String> = archive
        .file_names()
        .filter_map(std::result::Result::ok)
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
    let entry = archive
        .by_name(name)
        .map_err(|source| IndexError::BadWheel {
            path: path.to_path_buf(),
            source,
        })?;
    // Core metadata is a few KiB; the sizes in a zip are claims, so the
    // read is bounded too.
    let too_big = || IndexError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(format!("{name} is larger than 32 MiB")),
    };
    if entry.size() > METADATA_LIMIT {
        return Err(too_big());
    }
    let mut text = String::new();
    entry
        .take(METADATA_LIMIT + 1)
        .read_to_string(&mut text)
        .map_err(|source| IndexError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    if text.len() as u64 > METADATA_LIMIT {
        return Err(too_big());
    }
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
