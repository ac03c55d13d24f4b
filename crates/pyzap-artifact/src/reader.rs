//! Reading an artifact back: its shebang, manifest and entries, for
//! `pyzap info` and `pyzap extract`.

use std::io::{BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::{ArtifactError, Manifest};

#[derive(Debug, Clone)]
pub struct ArtifactInfo {
    pub path: PathBuf,
    pub shebang: Option<String>,
    pub manifest: Manifest,
    /// Entries of the zip, those of its nested archives included.
    pub entries: usize,
    pub size: u64,
}

type Archive = zip::ZipArchive<BufReader<fs_err::File>>;

fn open(path: &Path) -> Result<(Archive, u64), ArtifactError> {
    let file = fs_err::File::open(path).map_err(|source| ArtifactError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let has_eocd = has_end_record(path);
    let archive = zip::ZipArchive::new(BufReader::new(file)).map_err(|source| match source {
        _ if has_eocd => ArtifactError::Corrupt {
            path: path.to_path_buf(),
            source,
        },
        _ => ArtifactError::NotAnArtifact {
            path: path.to_path_buf(),
            reason: format!("no zip archive found ({source})"),
        },
    })?;
    Ok((archive, size))
}

/// Does the file look like a zip (an end record, or a first local header
/// after the shebang)? If so a failure to open it means damage, not a stranger.
fn has_end_record(path: &Path) -> bool {
    use std::io::{Seek, SeekFrom};
    let Ok(mut f) = fs_err::File::open(path) else {
        return false;
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let tail = len.min(65_557);
    let mut buf = Vec::new();
    if f.seek(SeekFrom::Start(len - tail)).is_err() || f.read_to_end(&mut buf).is_err() {
        return false;
    }
    if buf.windows(4).any(|w| w == b"PK\x05\x06") {
        return true;
    }
    // A zip cut short keeps its first local header right after the shebang.
    let mut head = vec![0u8; 1024];
    let n = fs_err::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    let head = &head[..n];
    let start = if head.starts_with(b"#!") {
        head.iter().position(|b| *b == b'\n').map_or(n, |p| p + 1)
    } else {
        0
    };
    head[start..].starts_with(b"PK\x03\x04")
}

pub fn read_artifact(path: &Path) -> Result<ArtifactInfo, ArtifactError> {
    let (mut archive, size) = open(path)?;
    let manifest = read_manifest(&mut archive, path)?;
    let mut head = Vec::new();
    fs_err::File::open(path)
        .and_then(|f| f.take(256).read_to_end(&mut head))
        .map_err(|source| ArtifactError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    let shebang = head.starts_with(b"#!").then(|| {
        String::from_utf8_lossy(head.split(|b| *b == b'\n').next().unwrap_or(&[])).into_owned()
    });
    let nested: Vec<String> = archive
        .file_names()
        .filter_map(std::result::Result::ok)
        .filter(|name| crate::writer::nested_tree(name).is_some())
        .map(std::borrow::Cow::into_owned)
        .collect();
    let mut entries = archive.len();
    for name in nested {
        let mut entry = archive
            .by_name(&name)
            .map_err(|source| ArtifactError::Corrupt {
                path: path.to_path_buf(),
                source,
            })?;
        entries += open_nested(path, &mut entry)?.len();
    }
    Ok(ArtifactInfo {
        path: path.to_path_buf(),
        shebang,
        manifest,
        entries,
        size,
    })
}

/// The `.dist-info` files of a bundled distribution, read from wherever
/// its placement put them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistInfoFiles {
    /// `black-26.10.1.dist-info`.
    pub dir: String,
    pub metadata: String,
    pub entry_points: Option<String>,
}

/// The `METADATA` and `entry_points.txt` of the distribution `name` (any
/// spelling: names compare normalized, as PEP 503 says) in the artifact at
/// `path`: from the unpacked tree's nested archive, the zipped site, or a
/// target's own (the first found). `None` when no `.dist-info` directory of
/// that name is in it.
pub fn read_dist_info(path: &Path, name: &str) -> Result<Option<DistInfoFiles>, ArtifactError> {
    let (mut archive, _) = open(path)?;
    let wanted = pyzap_spec::normalize_name(name);
    let names: Vec<String> = archive
        .file_names()
        .filter_map(std::result::Result::ok)
        .map(std::borrow::Cow::into_owned)
        .collect();
    // The zipped sites first: their entries are in this archive itself.
    if let Some(found) = dist_info_in(&mut archive, path, &names, &wanted)? {
        return Ok(Some(found));
    }
    for member in names
        .iter()
        .filter(|n| crate::writer::nested_tree(n).is_some())
    {
        let corrupt = |source| ArtifactError::Corrupt {
            path: path.to_path_buf(),
            source,
        };
        let mut entry = archive.by_name(member).map_err(corrupt)?;
        let mut inner = open_nested(path, &mut entry)?;
        drop(entry);
        let inner_names: Vec<String> = inner
            .file_names()
            .filter_map(std::result::Result::ok)
            .map(std::borrow::Cow::into_owned)
            .collect();
        if let Some(found) = dist_info_in(&mut inner, path, &inner_names, &wanted)? {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// The dist-info files of the project normalized as `wanted` among `names`
/// of `archive`, at the root of a site (`site-packages/`, an unpacked
/// tree's root, a target's site).
fn dist_info_in<R: Read + Seek>(
    archive: &mut zip::ZipArchive<R>,
    path: &Path,
    names: &[String],
    wanted: &str,
) -> Result<Option<DistInfoFiles>, ArtifactError> {
    let metadata = names.iter().find_map(|n| {
        let prefix = n.strip_suffix(".dist-info/METADATA")?;
        let (site, dir_stem) = match prefix.rsplit_once('/') {
            Some((site, stem)) => (Some(site), stem),
            None => (None, prefix),
        };
        let at_site_root = match site {
            None => true,
            Some(site) => {
                site == crate::SITE_ZIP || site.ends_with(&format!("/{}", crate::SITE_ZIP))
            }
        };
        let (project, _version) = dir_stem.split_once('-')?;
        (at_site_root && pyzap_spec::normalize_name(project) == wanted).then(|| n.clone())
    });
    let Some(metadata_name) = metadata else {
        return Ok(None);
    };
    let base = metadata_name.trim_end_matches("METADATA").to_string();
    let mut read = |name: &str| -> Result<Option<String>, ArtifactError> {
        let Ok(mut entry) = archive.by_name(name) else {
            return Ok(None);
        };
        let mut text = String::new();
        entry
            .read_to_string(&mut text)
            .map_err(|e| ArtifactError::Corrupt {
                path: path.to_path_buf(),
                source: zip::result::ZipError::Io(e),
            })?;
        Ok(Some(text))
    };
    let Some(metadata) = read(&metadata_name)? else {
        return Ok(None);
    };
    let entry_points = read(&format!("{base}entry_points.txt"))?;
    let dir = base
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    Ok(Some(DistInfoFiles {
        dir,
        metadata,
        entry_points,
    }))
}

/// The manifest of the artifact open as `archive`; a zip without one is not an artifact.
fn read_manifest(archive: &mut Archive, path: &Path) -> Result<Manifest, ArtifactError> {
    let mut text = String::new();
    archive
        .by_name(crate::MANIFEST)
        .map_err(|_| ArtifactError::NotAnArtifact {
            path: path.to_path_buf(),
            reason: format!("it has no {}", crate::MANIFEST),
        })?
        .read_to_string(&mut text)
        .map_err(|e| ArtifactError::Corrupt {
            path: path.to_path_buf(),
            source: zip::result::ZipError::Io(e),
        })?;
    serde_json::from_str(&text).map_err(|e| ArtifactError::NotAnArtifact {
        path: path.to_path_buf(),
        reason: format!("its manifest is unreadable ({e})"),
    })
}

/// Unpacks every entry of the artifact at `path` into `out` (which must not
/// exist or be empty), so it can be inspected, edited and repacked. Nested
/// archives of extracted trees (`__pyzap__/extract.zip`) are unpacked into
/// their directory (`__pyzap__/extract/`), which the bootstrap also reads.
/// Returns the number of files written and the artifact's manifest.
pub fn extract_artifact(path: &Path, out: &Path) -> Result<(usize, Manifest), ArtifactError> {
    let (mut archive, _) = open(path)?;
    let manifest = read_manifest(&mut archive, path)?;
    let io_err = |source: std::io::Error| ArtifactError::Extract {
        path: out.to_path_buf(),
        source,
    };
    if out.exists() && fs_err::read_dir(out).map_err(io_err)?.next().is_some() {
        return Err(io_err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "the directory exists and is not empty",
        )));
    }
    fs_err::create_dir_all(out).map_err(io_err)?;
    Ok((unpack(&mut archive, path, "", out)?, manifest))
}

/// Writes the entries of `archive` (read from `path`) under `out`/`base`.
fn unpack<R: Read + std::io::Seek>(
    archive: &mut zip::ZipArchive<R>,
    path: &Path,
    base: &str,
    out: &Path,
) -> Result<usize, ArtifactError> {
    let io_err = |source: std::io::Error| ArtifactError::Extract {
        path: out.to_path_buf(),
        source,
    };
    let corrupt = |source| ArtifactError::Corrupt {
        path: path.to_path_buf(),
        source,
    };
    let mut files = 0;
    let names: std::collections::HashSet<String> = archive
        .file_names()
        .filter_map(std::result::Result::ok)
        .map(std::borrow::Cow::into_owned)
        .collect();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(corrupt)?;
        let own_name = entry
            .name()
            .map(std::borrow::Cow::into_owned)
            .unwrap_or_default();
        // Bytecode beside its source is pyzap's (unchecked hash-based, so
        // it would win over an edited source): the tree is for editing, and
        // a repacked artifact compiles what it needs.
        if bytecode_of_a_source(&own_name, &names) {
            continue;
        }
        let name = format!("{base}{own_name}");
        let dest = pyzap_fs::safe_join(out, &name).map_err(|source| ArtifactError::Escape {
            path: path.to_path_buf(),
            entry: name.clone(),
            source,
        })?;
        if entry.is_dir() {
            fs_err::create_dir_all(&dest).map_err(io_err)?;
            continue;
        }
        if entry.is_symlink() {
            return Err(ArtifactError::Escape {
                path: path.to_path_buf(),
                entry: name,
                source: pyzap_fs::FsError::Escape {
                    path: "symlink".into(),
                    reason: "symbolic links are not extracted",
                },
            });
        }
        if let Some(parent) = dest.parent() {
            fs_err::create_dir_all(parent).map_err(io_err)?;
        }
        if base.is_empty() {
            if let Some(tree) = crate::writer::nested_tree(&name) {
                let mut inner = open_nested(path, &mut entry)?;
                drop(entry);
                files += unpack(&mut inner, path, &format!("{tree}/"), out)?;
                continue;
            }
        }
        let mut f = fs_err::File::create(&dest).map_err(io_err)?;
        std::io::copy(&mut entry, &mut f).map_err(io_err)?;
        let mode = entry.unix_mode().unwrap_or(0o644) & 0o755;
        fs_err::set_permissions(&dest, std::fs::Permissions::from_mode(mode | 0o600))
            .map_err(io_err)?;
        files += 1;
    }
    Ok(files)
}

/// Bytecode with its source beside it: `dir/__pycache__/mod.<tag>.pyc`
/// (extracted trees) or `dir/mod.pyc` (the zipped site, zipimport's
/// layout), when `dir/mod.py` is in `names` too.
fn bytecode_of_a_source(name: &str, names: &std::collections::HashSet<String>) -> bool {
    let Some(stem) = name.strip_suffix(".pyc") else {
        return false;
    };
    let cached = match stem.rsplit_once("/__pycache__/") {
        Some((dir, file)) => Some((format!("{dir}/"), file)),
        None => stem
            .strip_prefix("__pycache__/")
            .map(|f| (String::new(), f)),
    };
    match cached {
        Some((dir, file)) => file
            .split_once('.')
            .is_some_and(|(module, _tag)| names.contains(&format!("{dir}{module}.py"))),
        None => names.contains(&format!("{stem}.py")),
    }
}

trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

/// The nested archive in `entry` (of the artifact at `path`): read in place
/// when stored, as the writer makes it, else spooled to a temporary file.
fn open_nested<R: Read>(
    path: &Path,
    entry: &mut zip::read::ZipFile<'_, R>,
) -> Result<zip::ZipArchive<Box<dyn ReadSeek>>, ArtifactError> {
    let io = |source: std::io::Error| ArtifactError::Corrupt {
        path: path.to_path_buf(),
        source: zip::result::ZipError::Io(source),
    };
    let reader: Box<dyn ReadSeek> = match entry.data_start() {
        Some(start) if entry.compression() == zip::CompressionMethod::Stored => {
            let file = fs_err::File::open(path).map_err(io)?;
            Box::new(BufReader::new(Window {
                file,
                start,
                len: entry.size(),
                pos: 0,
            }))
        }
        _ => {
            let mut spool = tempfile::tempfile().map_err(io)?;
            std::io::copy(entry, &mut spool).map_err(io)?;
            Box::new(BufReader::new(spool))
        }
    };
    zip::ZipArchive::new(reader).map_err(|source| ArtifactError::Corrupt {
        path: path.to_path_buf(),
        source,
    })
}

/// Bytes `start..start + len` of a file as a seekable reader of their own.
struct Window {
    file: fs_err::File,
    start: u64,
    len: u64,
    pos: u64,
}

impl Read for Window {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.len.saturating_sub(self.pos);
        let n = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        self.file.seek(SeekFrom::Start(self.start + self.pos))?;
        let got = self.file.read(&mut buf[..n])?;
        self.pos += got as u64;
        Ok(got)
    }
}

impl Seek for Window {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => i128::from(n),
            SeekFrom::Current(d) => i128::from(self.pos) + i128::from(d),
            SeekFrom::End(d) => i128::from(self.len) + i128::from(d),
        };
        self.pos = u64::try_from(target).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before the start")
        })?;
        Ok(self.pos)
    }
}
