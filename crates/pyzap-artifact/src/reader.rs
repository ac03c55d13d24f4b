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
